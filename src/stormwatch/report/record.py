"""Flat records of findings, statistics and notices: the shape the JSON and CSV reports share."""

from __future__ import annotations

from dataclasses import asdict

from stormwatch.secrets.model import Finding, ScanStats, SkipNotice

FINDING_FIELDS = (
    "rule_id",
    "provider",
    "description",
    "access",
    "file",
    "line",
    "column",
    "commit",
    "author",
    "email",
    "date",
    "in_head",
    "secret_sha256",
    "redacted",
    "confidence",
    "fingerprint",
    "verified",
    "encoding",
    "paired",
    "notes",
)
SECRET_FIELDS = ("secret", "pair_secret")


def finding_fields(*, show_secrets: bool) -> tuple[str, ...]:
    """Field names of a finding record, in order; the secret fields only when shown."""
    return FINDING_FIELDS + SECRET_FIELDS if show_secrets else FINDING_FIELDS


def finding_record(finding: Finding, *, show_secrets: bool) -> dict[str, object]:
    """One finding as a flat record; the raw secret appears only with ``show_secrets``."""
    origin = finding.origin
    record: dict[str, object] = {
        "rule_id": finding.rule_id,
        "provider": finding.provider,
        "description": finding.description,
        "access": finding.access,
        "file": origin.path,
        "line": finding.line,
        "column": finding.column,
        "commit": origin.commit,
        "author": origin.author,
        "email": origin.email,
        "date": origin.date,
        "in_head": origin.in_head,
        "secret_sha256": finding.secret_sha256,
        "redacted": finding.redacted,
        "confidence": finding.confidence,
        "fingerprint": finding.fingerprint,
        "verified": finding.verified,
        "encoding": finding.encoding,
        "paired": finding.pair_secret is not None,
        "notes": list(finding.notes),
    }
    if show_secrets:
        record["secret"] = finding.secret
        record["pair_secret"] = finding.pair_secret
    return record


def stats_record(stats: ScanStats) -> dict[str, object]:
    """Scan statistics with skip reasons in a stable order."""
    record = asdict(stats)
    record["seconds"] = round(stats.seconds, 3)
    record["skipped"] = dict(sorted(stats.skipped.items()))
    return record


def notice_record(notice: SkipNotice) -> dict[str, object]:
    """One skip notice as a record."""
    return asdict(notice)
