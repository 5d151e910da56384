"""Scan findings as exposures in the event store, so detection links a leak to its later use.

The logs never carry a secret, only an identifier of it; each rule says which identifiers its
secret appears under (data, below): an AWS access key id is its own identifier, while gateway
keys appear in LiteLLM spend logs as the sha256 of the key, and an Amazon Bedrock API key is
read for the identity CloudTrail names its calls by.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

import duckdb

from stormwatch.detect.lookups import AZURE_ACCOUNT_PREFIX, ensure_lookup_tables
from stormwatch.events.parsers.litellm import CREDENTIAL_PREFIX
from stormwatch.secrets.candidates import decode_base64
from stormwatch.secrets.model import Finding

# rule id → identifier templates ({secret}, {sha256}, {account}); "*" applies to every other
# rule. An AWS secret access key never shows in a log: its pair's key id (its own finding)
# stands for it. Azure logs name the resource, not the key: a key found next to its endpoint
# (``{account}.openai.azure.com``) stands for the account of that name; without an endpoint the
# form is skipped. A long-term Bedrock API key names its IAM user and account (its calls are
# ``bedrock-api-key:<user arn>`` in CloudTrail); a short-term one is a presigned request whose
# signing key (``ASIA...``) names its calls.
GATEWAY_FORM = f"{CREDENTIAL_PREFIX}{{sha256}}"  # any key, as a LiteLLM gateway's events name it
IDENTIFIER_FORMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "aws-access-key-id": ("{secret}",),
        "aws-secret-access-key": (),
        "aws-bedrock-api-key-long-term": (
            "bedrock-api-key:arn:aws:iam::{aws_account}:user/{iam_user}",
            GATEWAY_FORM,
        ),
        "aws-bedrock-api-key-short-term": ("{signing_key}", GATEWAY_FORM),
        "azure-ai-services-key": (f"{AZURE_ACCOUNT_PREFIX}{{account}}", GATEWAY_FORM),
        "azure-openai-legacy-key": (f"{AZURE_ACCOUNT_PREFIX}{{account}}", GATEWAY_FORM),
        "*": (GATEWAY_FORM,),
    }
)


# "ABSK" + base64 of "<IAM user>-at-<account>:<secret>"; group names are template names
BEDROCK_KEY_USER = re.compile(rb"\A(?P<iam_user>[\w+=,.@-]+)-at-(?P<aws_account>\d{12}):")
# "bedrock-api-key-" + base64 of a presigned URL signed by this key
PRESIGNED_KEY = re.compile(rb"X-Amz-Credential=(?P<signing_key>A[KS]IA[A-Z2-7]{16})%2F")
BEDROCK_PREFIXES = {"ABSK": BEDROCK_KEY_USER, "bedrock-api-key-": PRESIGNED_KEY}


@dataclass(frozen=True)
class ExposureRecord:
    """One identifier under which an exposed secret may show up in logs."""

    credential_id: str
    fingerprint: str
    rule_id: str
    location: str
    exposed_at: datetime


def _account_of(finding: Finding) -> str | None:
    """The account a key's paired endpoint names (its host's first label); only the Azure
    forms use it."""
    return finding.pair_secret.split(".", 1)[0].lower() if finding.pair_secret else None


def _bedrock_values(secret: str) -> dict[str, str]:
    """What a Bedrock API key says of the identity behind it: the IAM user and account of a
    long-term key, the signing key of a short-term one; nothing for other secrets."""
    for prefix, pattern in BEDROCK_PREFIXES.items():
        if secret.startswith(prefix):
            found = pattern.search(decode_base64(secret[len(prefix) :].encode()) or b"")
            groups = found.groupdict() if found else {}
            return {name: value.decode() for name, value in groups.items()}
    return {}


def _naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _exposed_at(finding: Finding, scanned_at: datetime) -> datetime:
    if finding.origin.date:
        return _naive_utc(datetime.fromisoformat(finding.origin.date.replace("Z", "+00:00")))
    return _naive_utc(scanned_at)


def exposure_records(findings: Iterable[Finding], scanned_at: datetime) -> list[ExposureRecord]:
    """Identifiers of every finding, with where and when it was exposed (commit date in
    history scans, else the scan time; naive UTC like the event store)."""
    records = []
    for finding in findings:
        forms = IDENTIFIER_FORMS.get(finding.rule_id, IDENTIFIER_FORMS["*"])
        sha = hashlib.sha256(finding.secret.encode()).hexdigest()
        place = finding.origin.path + (
            f"@{finding.origin.commit[:12]}" if finding.origin.commit else ""
        )
        location = f"{place}:{finding.line}"
        values = {"secret": finding.secret, "sha256": sha, **_bedrock_values(finding.secret)}
        account = _account_of(finding)
        if account:
            values["account"] = account
        for form in forms:
            try:
                identifier = form.format_map(values)
            except KeyError:  # an {account} form for a key found without its endpoint
                continue
            records.append(
                ExposureRecord(
                    identifier,
                    finding.fingerprint,
                    finding.rule_id,
                    location,
                    _exposed_at(finding, scanned_at),
                )
            )
    return records


def record_exposures(con: duckdb.DuckDBPyConnection, records: Iterable[ExposureRecord]) -> int:
    """Add exposures to the store (idempotent: the same fingerprint and place is stored once)."""
    ensure_lookup_tables(con)
    rows = [[r.credential_id, r.fingerprint, r.rule_id, r.location, r.exposed_at] for r in records]
    if not rows:
        return 0
    before = con.execute("SELECT COUNT(*) FROM exposures").fetchone()
    con.execute("CREATE TEMP TABLE IF NOT EXISTS new_exposures AS SELECT * FROM exposures LIMIT 0")
    con.execute("DELETE FROM new_exposures")
    con.executemany("INSERT INTO new_exposures VALUES (?, ?, ?, ?, ?)", rows)
    con.execute(
        "INSERT INTO exposures SELECT DISTINCT * FROM new_exposures n WHERE NOT EXISTS ("
        "SELECT 1 FROM exposures x WHERE x.credential_id = n.credential_id "
        "AND x.fingerprint = n.fingerprint AND x.location = n.location)"
    )
    after = con.execute("SELECT COUNT(*) FROM exposures").fetchone()
    return int(after[0] if after else 0) - int(before[0] if before else 0)
