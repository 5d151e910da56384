"""Frozen models shared by the secret scanner: what is scanned, what is found, what went wrong."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

Confidence = Literal["high", "medium", "low"]
Verification = Literal["live", "dead", "unknown"]


@dataclass(frozen=True)
class Origin:
    """Where scanned bytes come from: a path, and in history the commit that introduced them."""

    path: str
    commit: str | None = None
    author: str | None = None
    email: str | None = None
    date: str | None = None
    in_head: bool | None = None


@dataclass(frozen=True)
class Fragment:
    """A piece of content to scan.

    Large files arrive as several fragments; ``line_offset`` is the number of newlines before
    ``data[0]`` in the whole file so that reported line numbers stay absolute. ``unit`` is true on
    the first fragment of a file or blob, so statistics can count files, not chunks.
    """

    origin: Origin
    data: bytes
    line_offset: int = 0
    unit: bool = True


@dataclass(frozen=True)
class SkipNotice:
    """Bad or skipped input noticed while reading: counted and reported, never fatal."""

    location: str
    reason: str
    detail: str = ""


def sha256_hex(text: str) -> str:
    """Hex sha256 of a UTF-8 string."""
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def fingerprint_of(rule_id: str, secret: str) -> str:
    """Stable fingerprint of a (rule, secret) pair: follows the secret's content, not its line."""
    return sha256_hex(f"{rule_id}:{secret}")


def redact(secret: str) -> str:
    """First characters and last four of a secret; never enough to use it."""
    if len(secret) < 12:
        return "*" * len(secret)
    head = 8 if len(secret) >= 40 else 3
    return f"{secret[:head]}…{secret[-4:]}"


@dataclass(frozen=True)
class Finding:
    """One exposed credential at one place."""

    rule_id: str
    provider: str
    description: str
    access: str
    secret: str
    origin: Origin
    line: int
    column: int
    confidence: Confidence
    encoding: str = "plain"
    pair_secret: str | None = None
    verified: Verification | None = None
    notes: tuple[str, ...] = field(default=())
    context_distance: int = 0

    @property
    def secret_sha256(self) -> str:
        return sha256_hex(self.secret)

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.rule_id, self.secret)

    @property
    def redacted(self) -> str:
        return redact(self.secret)


@dataclass(frozen=True)
class ScanStats:
    """Counts of one scan; ``skipped`` maps a reason to how many inputs were skipped for it."""

    files: int = 0
    bytes: int = 0
    blobs: int = 0
    commits: int = 0
    findings: int = 0
    suppressed: int = 0
    seconds: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanResult:
    """Everything a scan returns: findings, statistics and the notices about bad input."""

    findings: tuple[Finding, ...]
    stats: ScanStats
    notices: tuple[SkipNotice, ...] = ()
