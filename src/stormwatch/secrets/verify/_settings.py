"""Settings of one verification run, checked when they are made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

from stormwatch.secrets.verify._specs import VERIFIERS

MAX_WORKERS = 4
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class VerifySettings:
    """How politely keys are verified.

    ``requests_per_second`` paces each provider host (a token bucket with as many tokens as the
    rate, at least one); ``max_requests`` caps the requests of one run, after which the remaining
    keys stay ``unknown``; ``workers`` (1 to 4) bounds concurrency.

    ``base_url_override`` exists for tests only: it maps a verifier name to a local origin
    (``http://127.0.0.1:PORT``) that replaces the provider's official one. Values must be https
    or loopback http. The CLI never sets it; an Azure endpoint is still checked against the Azure
    AI hosts before an override applies.
    """

    requests_per_second: float = 2.0
    max_requests: int = 200
    timeout_seconds: float = 10.0
    workers: int = MAX_WORKERS
    base_url_override: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.requests_per_second <= 0 or self.timeout_seconds <= 0:
            raise ValueError("requests_per_second and timeout_seconds must be positive")
        if self.max_requests < 0 or not 1 <= self.workers <= MAX_WORKERS:
            raise ValueError(f"max_requests must be >= 0 and workers 1 to {MAX_WORKERS}")
        if self.base_url_override is not None:
            overrides = self.base_url_override.items()
            checked = {name: _checked_origin(name, url) for name, url in overrides}
            object.__setattr__(self, "base_url_override", MappingProxyType(checked))


def _checked_origin(name: str, url: str) -> str:
    if name not in VERIFIERS:
        raise ValueError(f"base_url_override names unknown verifier {name!r}")
    parts = urlsplit(url)
    if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
        raise ValueError(f"base_url_override for {name!r} must be https or loopback http")
    return url.rstrip("/")
