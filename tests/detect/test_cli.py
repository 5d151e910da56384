"""`stormwatch detect` and `stormwatch canary` through the Typer app."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from stormwatch.cli.app import app
from stormwatch.detect.examples import expand_example, insert_events
from stormwatch.events.model import events_table_ddl

runner = CliRunner()
PROBES = {
    "repeat": 6,
    "every": "20s",
    "credential_id": "{{akia:probe}}",
    "operation": "InvokeModel",
    "error_code": "ValidationException",
    "success": False,
    "src_ip": "203.0.113.5",
}


def _store(path: Path, *specs: dict[str, object]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(events_table_ddl())
        insert_events(con, expand_example(specs))
    return path


def test_missing_store_is_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["detect", "--db", str(tmp_path / "nope.duckdb")])
    assert result.exit_code == 2
    assert "ingest" in result.output


def test_a_store_of_a_newer_layout_is_refused(tmp_path: Path) -> None:
    """As ingest and investigate do: rules written for this layout must not run on another."""
    db = _store(tmp_path / "s.duckdb", PROBES)
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE schema_version (value INTEGER NOT NULL)")
        con.execute("INSERT INTO schema_version VALUES (99)")
    result = runner.invoke(app, ["detect", "--db", str(db)])
    assert result.exit_code == 2
    assert "schema version 99" in result.output and "upgrade" in result.output


def test_no_alerts_exit_zero(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", {"credential_id": "k", "operation": "InvokeModel"})
    result = runner.invoke(app, ["detect", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "No alerts" in result.output


def test_json_alerts_exit_one(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", PROBES)
    out = tmp_path / "alerts.json"
    result = runner.invoke(
        app, ["detect", "--db", str(db), "--format", "json", "--output", str(out)]
    )
    assert result.exit_code == 1, result.output
    (alert,) = json.loads(out.read_text())
    assert alert["rule_id"] == "bedrock-validation-probe-burst"
    assert set(alert) >= {
        "severity",
        "first_seen",
        "last_seen",
        "entities",
        "event_count",
        "evidence",
        "techniques",
        "advice",
        "title",
    }


@pytest.mark.parametrize("format", ["text", "json"])
def test_an_unwritable_output_fails_before_detecting(tmp_path: Path, format: str) -> None:
    db = _store(tmp_path / "s.duckdb", PROBES)
    out = tmp_path / "missing" / "alerts.out"
    result = runner.invoke(app, ["detect", "--db", str(db), "--format", format, "-o", str(out)])
    assert result.exit_code == 2 and "cannot write" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_text_report_and_min_severity(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", PROBES)
    result = runner.invoke(app, ["detect", "--db", str(db)])
    assert result.exit_code == 1 and "bedrock-validation-probe-burst" in result.output
    result = runner.invoke(app, ["detect", "--db", str(db), "--min-severity", "high"])
    assert result.exit_code == 0


def test_allowlist_and_ip_list(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", {**PROBES, "src_ip": "185.220.101.7"})
    allow = tmp_path / "allow.yaml"
    allow.write_text("src_ips: ['185.220.101.0/24']\n")
    result = runner.invoke(app, ["detect", "--db", str(db), "--allowlist", str(allow)])
    assert result.exit_code == 0, result.output
    listing = tmp_path / "tor.txt"
    listing.write_text("185.220.101.7 tor-exit\n")
    result = runner.invoke(
        app, ["detect", "--db", str(db), "--ip-list", str(listing), "--format", "json"]
    )
    assert "ip-intel-match" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("hosts: [x]\n")
    assert runner.invoke(app, ["detect", "--db", str(db), "--allowlist", str(bad)]).exit_code == 2


def test_bad_extra_rules_are_reported(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", PROBES)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x.yaml").write_text("rules:\n  - id: Bad Id\n    severity: loud\n")
    result = runner.invoke(app, ["detect", "--db", str(db), "--rules", str(rules)])
    assert result.exit_code == 2
    assert "x.yaml" in result.output


def test_canary_lifecycle(tmp_path: Path) -> None:
    db = _store(
        tmp_path / "s.duckdb", {"credential_id": "canary-hash-1", "operation": "InvokeModel"}
    )
    added = runner.invoke(
        app, ["canary", "add", "canary-hash-1", "--label", "wiki page", "--db", str(db)]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["canary", "list", "--db", str(db), "--format", "json"])
    assert json.loads(listed.output)[0]["label"] == "wiki page"
    detected = runner.invoke(app, ["detect", "--db", str(db), "--format", "json"])
    assert detected.exit_code == 1 and "canary-credential-used" in detected.output
    assert runner.invoke(app, ["canary", "remove", "canary-hash-1", "--db", str(db)]).exit_code == 0
    assert runner.invoke(app, ["canary", "remove", "canary-hash-1", "--db", str(db)]).exit_code == 1
    assert (
        runner.invoke(app, ["canary", "list", "--db", str(tmp_path / "no.duckdb")]).exit_code == 2
    )


@pytest.mark.parametrize("given", ["hash", "key"])
def test_a_litellm_canary_given_by_hash_or_key_matches_its_events(
    tmp_path: Path, given: str
) -> None:
    """LiteLLM's tables show a virtual key's sha256; events carry ``litellm:<hash>``. The key
    itself is hashed on the way in and never stored or printed."""
    key = "sk-" + secrets.token_urlsafe(24)
    hashed = hashlib.sha256(key.encode()).hexdigest()
    db = _store(
        tmp_path / "s.duckdb", {"credential_id": f"litellm:{hashed}", "operation": "completion"}
    )
    value = hashed.upper() if given == "hash" else key
    added = runner.invoke(app, ["canary", "add", value, "--label", "wiki", "--db", str(db)])
    assert added.exit_code == 0 and f"litellm:{hashed}" in added.output and key not in added.output
    listed = runner.invoke(app, ["canary", "list", "--db", str(db), "--format", "json"])
    assert [c["credential_id"] for c in json.loads(listed.output)] == [f"litellm:{hashed}"]
    detected = runner.invoke(app, ["detect", "--db", str(db), "--format", "json"])
    assert "canary-credential-used" in detected.output
    assert runner.invoke(app, ["canary", "remove", value, "--db", str(db)]).exit_code == 0


def test_an_empty_canary_and_a_window_that_ends_before_it_starts_are_refused(
    tmp_path: Path,
) -> None:
    db = _store(tmp_path / "s.duckdb", {"credential_id": "k", "operation": "InvokeModel"})
    empty = runner.invoke(app, ["canary", "add", "  ", "--label", "x", "--db", str(db)])
    assert empty.exit_code == 2 and "empty" in empty.output
    window = ["--since", "2025-06-02T00:00:00Z", "--until", "2025-06-01"]
    backwards = runner.invoke(app, ["detect", "--db", str(db), *window])
    assert backwards.exit_code == 2 and "must be later than --since" in backwards.output
