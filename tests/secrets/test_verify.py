"""Verification against a real HTTP server on 127.0.0.1 and a fake transport; no other network."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import stormwatch.secrets.verify as verify
from stormwatch.secrets.model import Finding, Origin
from stormwatch.secrets.ruleset import RuleSet, SecretRule, builtin_rules, expand_template
from stormwatch.secrets.verify import (
    UNVERIFIABLE,
    VERIFIERS,
    VerifySettings,
    azure_host,
    verify_findings,
)

RNG = random.Random(20240607)
KEY_HEADERS = ("authorization", "api-key", "x-api-key", "x-goog-api-key")
SLOW = -1  # an answer the server holds back until the test ends


def new_key() -> str:
    return expand_template("tk-{{alnum:40}}", RNG)


@dataclass
class FakeProvider:
    """What the local server answers per key, and every request it saw."""

    url: str = ""
    answers: dict[str, int] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            with provider.lock:
                provider.seen.append((self.path, headers))
            raw = next((headers[h] for h in KEY_HEADERS if h in headers), "")
            status = provider.answers.get(raw.removeprefix("Bearer "), 404)
            if status == SLOW:
                provider.release.wait(5)
                status = 200
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class QuietServer(ThreadingHTTPServer):
    """Quiet about clients that gave up (the timeout test hangs up on purpose)."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    state = FakeProvider()
    server = QuietServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def rule(rule_id: str, verifier: str | None) -> SecretRule:
    return SecretRule(
        id=rule_id,
        provider="test",
        provider_name="Test",
        description="test key",
        access="test access",
        pattern=r"tk-\w+",
        verify=verifier,
    )


RULES = RuleSet(
    (
        rule("t-openai", "openai"),
        rule("t-azure", "azure-openai"),
        rule("t-anthropic", "anthropic"),
        rule("t-google", "google"),
        rule("t-aws", "aws"),
        rule("t-none", None),
    )
)


def finding(rule_id: str, secret: str, pair: str | None = None, path: str = "app.py") -> Finding:
    return Finding(
        rule_id=rule_id,
        provider="test",
        description="test key",
        access="test access",
        secret=secret,
        origin=Origin(path),
        line=1,
        column=1,
        confidence="high",
        pair_secret=pair,
    )


def local(
    provider: FakeProvider,
    *,
    requests_per_second: float = 1000.0,
    timeout_seconds: float = 2.0,
    max_requests: int = 200,
) -> VerifySettings:
    """Settings that send every verifier under test to the local server."""
    return VerifySettings(
        requests_per_second=requests_per_second,
        max_requests=max_requests,
        timeout_seconds=timeout_seconds,
        base_url_override={"openai": provider.url, "azure-openai": provider.url},
    )


def assert_no_secret_in_notes(results: tuple[Finding, ...]) -> None:
    for result in results:
        assert result.secret not in " ".join(result.notes)


def test_statuses_map_to_live_dead_unknown(provider: FakeProvider) -> None:
    live, dead, broken, busy, slow = (new_key() for _ in range(5))
    provider.answers.update({live: 200, dead: 401, broken: 500, busy: 429, slow: SLOW})
    found = [finding("t-openai", key) for key in (live, dead, broken, busy, slow)]

    results = verify_findings(found, RULES, local(provider, timeout_seconds=0.3))

    assert [r.verified for r in results] == ["live", "dead", "unknown", "unknown", "unknown"]
    assert "TimeoutError" in results[4].notes[-1] or "URLError" in results[4].notes[-1]
    assert {path for path, _ in provider.seen} == {"/v1/models"}
    sent = {headers["authorization"] for _, headers in provider.seen}
    assert sent == {f"Bearer {key}" for key in (live, dead, broken, busy, slow)}
    assert_no_secret_in_notes(results)


def test_each_unique_key_is_sent_once(provider: FakeProvider) -> None:
    repeated, other = new_key(), new_key()
    provider.answers.update({repeated: 200, other: 401})
    found = [finding("t-openai", repeated, path=f"f{i}.py") for i in range(3)]
    found.append(finding("t-openai", other))

    results = verify_findings(found, RULES, local(provider))

    assert [r.verified for r in results] == ["live", "live", "live", "dead"]
    assert len(provider.seen) == 2


@pytest.mark.parametrize(
    "endpoint",
    [
        None,
        "",
        "https://evil.example.com/",
        "https://myres.openai.azure.com.evil.example.com/",
        "https://evil.example.com/myres.openai.azure.com",
        "https://user@myres.openai.azure.com/",
        "https://myres.openai.azure.com:8443/",
        "ftp://myres.openai.azure.com/",
        "https://openai.azure.com/",
        "https://a.b.openai.azure.com/",
        "https://myres.openai.azure.com\\@evil.example.com/",
    ],
)
def test_non_azure_endpoint_sends_nothing(provider: FakeProvider, endpoint: str | None) -> None:
    key = new_key()
    provider.answers[key] = 200

    (result,) = verify_findings([finding("t-azure", key, pair=endpoint)], RULES, local(provider))

    assert result.verified == "unknown"
    assert "not an Azure AI host" in result.notes[-1]
    assert provider.seen == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://MyRes.openai.azure.com/",
        "myres.cognitiveservices.azure.com",
        "https://my-res.services.ai.azure.com/openai/deployments/x",
    ],
)
def test_azure_endpoint_is_asked_with_api_key(provider: FakeProvider, endpoint: str) -> None:
    key = new_key()
    provider.answers[key] = 200

    (result,) = verify_findings([finding("t-azure", key, pair=endpoint)], RULES, local(provider))

    assert result.verified == "live"
    ((path, headers),) = provider.seen
    assert path == "/openai/models?api-version=2024-10-21"
    assert headers["api-key"] == key
    assert "authorization" not in headers


def test_azure_without_override_targets_the_named_host() -> None:
    transport = RecordingTransport()
    found = [finding("t-azure", new_key(), pair="https://MyRes.openai.azure.com/")]

    verify_findings(found, RULES, VerifySettings(), transport)

    assert transport.urls == ["https://myres.openai.azure.com/openai/models?api-version=2024-10-21"]


def test_rate_limit_paces_requests_per_host(provider: FakeProvider) -> None:
    per_second, total = 10, 20
    keys = [new_key() for _ in range(total)]
    provider.answers.update(dict.fromkeys(keys, 200))
    found = [finding("t-openai", key) for key in keys]

    started = time.perf_counter()
    results = verify_findings(found, RULES, local(provider, requests_per_second=per_second))
    elapsed = time.perf_counter() - started

    assert all(r.verified == "live" for r in results)
    assert elapsed >= (total - per_second) / per_second
    assert elapsed < 2.0


def test_request_cap_leaves_the_rest_unknown(provider: FakeProvider) -> None:
    keys = [new_key() for _ in range(5)]
    provider.answers.update(dict.fromkeys(keys, 200))

    found = [finding("t-openai", key) for key in keys]
    results = verify_findings(found, RULES, local(provider, max_requests=3))

    assert [r.verified for r in results] == ["live"] * 3 + ["unknown"] * 2
    assert all("cap of 3" in r.notes[-1] for r in results[3:])
    assert len(provider.seen) == 3


def test_redirect_is_not_followed(provider: FakeProvider) -> None:
    key = new_key()
    provider.answers[key] = 302

    (result,) = verify_findings([finding("t-openai", key)], RULES, local(provider))

    assert result.verified == "unknown"
    assert [path for path, _ in provider.seen] == ["/v1/models"]


def test_rules_without_verifier_send_nothing(provider: FakeProvider) -> None:
    found = [
        finding("t-none", new_key()),
        finding("t-aws", new_key()),
        finding("not-a-rule", new_key()),
    ]

    results = verify_findings(found, RULES, local(provider))

    assert [r.verified for r in results] == ["unknown"] * 3
    assert "SigV4" in results[1].notes[-1]
    assert provider.seen == []


@dataclass
class RecordingTransport:
    """A fake transport: records what would be sent and answers ``status``."""

    status: int = 200
    urls: list[str] = field(default_factory=list)
    headers: list[Mapping[str, str]] = field(default_factory=list)

    def get(self, url: str, headers: Mapping[str, str], timeout: float) -> int:
        self.urls.append(url)
        self.headers.append(dict(headers))
        return self.status


def test_official_hosts_and_key_placement() -> None:
    transport = RecordingTransport()
    anthropic_key, google_key = new_key(), new_key()
    found = [finding("t-anthropic", anthropic_key), finding("t-google", google_key)]

    results = verify_findings(found, RULES, VerifySettings(), transport)

    assert [r.verified for r in results] == ["live", "live"]
    assert transport.urls == [
        "https://api.anthropic.com/v1/models?limit=1",
        "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1",
    ]
    anthropic, google = transport.headers
    assert anthropic["x-api-key"] == anthropic_key
    assert anthropic["anthropic-version"] == "2023-06-01"
    assert google["x-goog-api-key"] == google_key
    assert all(google_key not in url for url in transport.urls)


def test_google_invalid_key_status_is_dead() -> None:
    (result,) = verify_findings(
        [finding("t-google", new_key())], RULES, VerifySettings(), RecordingTransport(400)
    )
    assert result.verified == "dead"


def test_transport_failure_never_quotes_the_key() -> None:
    key = new_key()

    class LeakyTransport:
        def get(self, url: str, headers: Mapping[str, str], timeout: float) -> int:
            raise RuntimeError(f"failed {url} with {dict(headers)}")

    (result,) = verify_findings(
        [finding("t-openai", key)], RULES, VerifySettings(), LeakyTransport()
    )

    assert result.verified == "unknown"
    assert "RuntimeError" in result.notes[-1]
    assert_no_secret_in_notes((result,))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url_override": {"openai": "http://example.com"}},
        {"base_url_override": {"openai": "file:///etc"}},
        {"base_url_override": {"no-such-verifier": "https://127.0.0.1"}},
        {"workers": 0},
        {"workers": 9},
        {"requests_per_second": 0},
        {"max_requests": -1},
    ],
)
def test_settings_refuse_unsafe_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        VerifySettings(**kwargs)  # type: ignore[arg-type]


def test_registry_uses_https_official_origins() -> None:
    for name, spec in VERIFIERS.items():
        assert spec.path.startswith("/"), name
        assert spec.source, name
        assert not spec.live & spec.dead, name
        if name == "azure-openai":
            assert spec.base_url is None
        else:
            assert spec.base_url is not None and spec.base_url.startswith("https://"), name
    assert not set(VERIFIERS) & set(UNVERIFIABLE)


def test_every_builtin_verifier_name_is_known() -> None:
    names = {r.verify for r in builtin_rules().rules if r.verify}
    assert names <= set(VERIFIERS) | set(UNVERIFIABLE)


def test_azure_host_accepts_only_azure_ai_hosts() -> None:
    assert azure_host("https://res-1.openai.azure.com/") == "res-1.openai.azure.com"
    assert azure_host("res.services.ai.azure.com") == "res.services.ai.azure.com"
    assert azure_host("https://res.openai.azure.com.evil.example.com") is None
    assert azure_host("https://res.blob.core.windows.net") is None


def test_public_surface() -> None:
    assert sorted(verify.__all__) == sorted(
        [
            "UNVERIFIABLE",
            "VERIFIERS",
            "Transport",
            "UrllibTransport",
            "VerifierSpec",
            "VerifySettings",
            "azure_host",
            "verify_findings",
        ]
    )
    assert all(hasattr(verify, name) for name in verify.__all__)
