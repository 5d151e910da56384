"""Scan findings as exposures: the identifiers logs know them by, when they leaked, idempotence."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from stormwatch.secrets.exposure import ExposureRecord, exposure_records, record_exposures
from stormwatch.secrets.model import Finding, Origin
from stormwatch.secrets.scan import ScanRequest, run_scan

SCANNED = datetime(2025, 6, 10, 12, 0)
AWS_ID = "AKIA{{b32:16}}"
AWS_SECRET = "{{b64:40}}"
GATEWAY = "sk-{{alnum:22}}"
AZURE_KEY = "{{alnum:52}}JQQJ99BF{{alnum:12}}AAABACOG{{alnum:4}}"
BEDROCK_LONG = "ABSK{{b64of:BedrockAPIKey-[[lower:4]]-at-111122223333:[[b64:59]]=}}"
BEDROCK_SHORT = (
    "bedrock-api-key-{{b64of:bedrock.amazonaws.com/?Action=CallWithBearerToken"
    "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA[[b32:16]]%2F20250814%2Fus-east-1"
    "%2Fbedrock%2Faws4_request&X-Amz-Date=20250814T011323Z&X-Amz-Expires=43200"
    "&X-Amz-Signature=[[hex:64]]&X-Amz-SignedHeaders=host&Version=1}}"
)
KeyFactory = Callable[[str], str]  # the `make_key` fixture of tests/conftest.py


def _finding(rule: str, secret: str, origin: Origin, line: int = 1) -> Finding:
    return Finding(rule, "aws", "test", "test", secret, origin, line, 1, "high")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_an_aws_key_id_is_stored_under_itself_its_secret_not_and_others_under_their_hash(
    make_key: KeyFactory,
) -> None:
    key_id, secret, gateway = make_key(AWS_ID), make_key(AWS_SECRET), make_key(GATEWAY)
    here = Origin("config/.env")
    records = exposure_records(
        [
            _finding("aws-access-key-id", key_id, here, 1),
            _finding("aws-secret-access-key", secret, here, 2),
            _finding("litellm-virtual-key", gateway, here, 4),
        ],
        SCANNED,
    )
    assert [(r.credential_id, r.rule_id, r.location) for r in records] == [
        (key_id, "aws-access-key-id", "config/.env:1"),
        (f"litellm:{_sha(gateway)}", "litellm-virtual-key", "config/.env:4"),
    ]
    assert all(r.exposed_at == SCANNED for r in records)  # no commit date: the scan time
    assert all(secret not in r.credential_id and gateway not in r.credential_id for r in records)


def test_an_azure_key_stands_for_the_account_its_endpoint_names(make_key: KeyFactory) -> None:
    key = make_key(AZURE_KEY)
    here = Origin("notebooks/demo.ipynb")
    paired = replace(
        _finding("azure-ai-services-key", key, here), pair_secret="Fabrikam-AOAI.openai.azure.com"
    )
    alone = _finding("azure-ai-services-key", key, here, 9)
    records = exposure_records([paired, alone], SCANNED)
    assert [r.credential_id for r in records] == [
        "azure-account:fabrikam-aoai",
        f"litellm:{_sha(key)}",
        f"litellm:{_sha(key)}",  # no endpoint next to it: no account to name
    ]


def test_bedrock_api_keys_stand_for_the_identity_cloudtrail_names(make_key: KeyFactory) -> None:
    long_term, short_term = make_key(BEDROCK_LONG), make_key(BEDROCK_SHORT)
    here = Origin("app/settings.py")
    records = exposure_records(
        [
            _finding("aws-bedrock-api-key-long-term", long_term, here, 3),
            _finding("aws-bedrock-api-key-short-term", short_term, here, 4),
            _finding("aws-bedrock-api-key-long-term", "ABSKnot-base64!", here, 5),
        ],
        SCANNED,
    )
    user = base64.b64decode(long_term[4:]).split(b"-at-")[0].decode()
    signing = base64.b64decode(short_term[16:]).split(b"X-Amz-Credential=")[1][:20].decode()
    assert signing.startswith("ASIA")
    assert [r.credential_id for r in records] == [
        f"bedrock-api-key:arn:aws:iam::111122223333:user/{user}",
        f"litellm:{_sha(long_term)}",
        signing,
        f"litellm:{_sha(short_term)}",
        "litellm:" + _sha("ABSKnot-base64!"),  # nothing to decode: only the hash
    ]


def test_history_findings_use_the_commit_date_in_naive_utc(make_key: KeyFactory) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    origin = Origin(".env", commit=commit, date="2025-06-02T09:12:00+02:00")
    (record,) = exposure_records([_finding("aws-access-key-id", make_key(AWS_ID), origin)], SCANNED)
    assert record.exposed_at == datetime(2025, 6, 2, 7, 12)
    assert record.location == ".env@0123456789ab:1"


def test_an_aware_scan_time_becomes_naive_utc(make_key: KeyFactory) -> None:
    aware = datetime(2025, 6, 10, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    (record,) = exposure_records(
        [_finding("aws-access-key-id", make_key(AWS_ID), Origin("a.py"))], aware
    )
    assert record.exposed_at == SCANNED and record.exposed_at.tzinfo is None


def test_recording_twice_adds_nothing(make_key: KeyFactory) -> None:
    key_id, gateway = make_key(AWS_ID), make_key(GATEWAY)
    findings = [
        _finding("aws-access-key-id", key_id, Origin(".env")),
        _finding("litellm-virtual-key", gateway, Origin(".env"), 4),
        _finding("aws-access-key-id", key_id, Origin("deploy/.env")),  # a second place
    ]
    con = duckdb.connect()
    records = exposure_records(findings, SCANNED)
    assert record_exposures(con, records) == 3
    assert record_exposures(con, records) == 0
    assert record_exposures(con, records + records) == 0
    assert record_exposures(con, []) == 0
    stored = con.execute("SELECT credential_id, location FROM exposures ORDER BY 2, 1").fetchall()
    assert stored == sorted(
        [(key_id, ".env:1"), (f"litellm:{_sha(gateway)}", ".env:4"), (key_id, "deploy/.env:1")],
        key=lambda r: (r[1], r[0]),
    )


def test_duplicate_records_in_one_call_are_stored_once(make_key: KeyFactory) -> None:
    record = ExposureRecord(make_key(AWS_ID), "a" * 64, "aws-access-key-id", "x:1", SCANNED)
    con = duckdb.connect()
    assert record_exposures(con, [record, record]) == 1


def _git(repo: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    env |= {"GIT_AUTHOR_NAME": "Dana Whitfield", "GIT_COMMITTER_NAME": "Dana Whitfield"}
    env |= {"GIT_AUTHOR_EMAIL": "dana@northwindlabs.example"}
    env |= {"GIT_COMMITTER_EMAIL": "dana@northwindlabs.example"}
    if when is not None:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)


def test_a_key_removed_from_history_is_dated_by_the_commit_that_leaked_it(
    tmp_path: Path, make_key: KeyFactory
) -> None:
    key_id, secret = make_key(AWS_ID), make_key(AWS_SECRET)
    repo = tmp_path / "ml-notebooks"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / ".env").write_text(f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n")
    _git(repo, "add", ".env")
    _git(repo, "commit", "-q", "-m", "Run against Bedrock", when="2025-06-02T09:12:00+0200")
    _git(repo, "rm", "-q", ".env")
    _git(repo, "commit", "-q", "-m", "Remove credentials", when="2025-06-02T12:00:00+0200")
    scan, _ = run_scan(ScanRequest(paths=(str(repo),), history=True))
    records = exposure_records(scan.findings, datetime.now(UTC))
    by_id = {r.credential_id: r for r in records}
    assert by_id[key_id].exposed_at == datetime(2025, 6, 2, 7, 12)
    assert by_id[key_id].location.startswith(".env@")
    assert not any(r.rule_id == "aws-secret-access-key" for r in records)  # its key id stands


def test_a_scanned_azure_key_is_recorded_under_its_endpoints_account(
    tmp_path: Path, make_key: KeyFactory
) -> None:
    key = make_key(AZURE_KEY)
    (tmp_path / ".env").write_text(
        f"AZURE_OPENAI_API_KEY={key}\nAZURE_OPENAI_ENDPOINT=https://Fabrikam-AOAI.openai.azure.com/\n"
    )
    scan, _ = run_scan(ScanRequest(paths=(str(tmp_path),)))
    records = exposure_records(scan.findings, SCANNED)
    assert "azure-account:fabrikam-aoai" in {r.credential_id for r in records}
