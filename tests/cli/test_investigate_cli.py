"""`stormwatch investigate`: clear errors on bad stores, cases and reports on good ones."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from stormwatch.cli.app import app
from stormwatch.detect import Alert, store_alerts
from stormwatch.events.model import events_table_ddl

runner = CliRunner()
T0 = datetime(2025, 6, 2, 9, 0)


def _store(path: Path, alerts: list[Alert] | None, *, schema: int | None = None) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(events_table_ddl())
        if alerts is not None:
            store_alerts(con, alerts, sorted({a.rule_id for a in alerts}) or ["none"])
        if schema is not None:
            con.execute("CREATE TABLE schema_version (value INTEGER NOT NULL)")
            con.execute("INSERT INTO schema_version VALUES (?)", [schema])
    return path


def _alert() -> Alert:
    return Alert(
        rule_id="bedrock-validation-probe-burst",
        title="Burst of Bedrock validation errors",
        severity="medium",
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=5),
        entities={"credential_id": ("cred-northwind-1",), "src_ip": ("203.0.113.9",)},
        event_count=6,
        evidence=("trail.json:3",),
        techniques=("T1078.004",),
        advice="rotate",
    )


def _investigate(db: Path, *args: str) -> Result:
    return runner.invoke(app, ["investigate", "--db", str(db), *args])


def _clean_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    for word in words:
        assert word in result.output


def test_missing_store_is_a_clean_error(tmp_path: Path) -> None:
    result = _investigate(tmp_path / "none.duckdb")
    _clean_error(result, "no store at", "stormwatch ingest")
    assert not (tmp_path / "none.duckdb").exists()  # nothing created by looking


def test_a_file_that_is_not_a_store_is_a_clean_error(tmp_path: Path) -> None:
    db = tmp_path / "notes.duckdb"
    db.write_text("not a database\n")
    _clean_error(_investigate(db), "error:")


def test_store_without_events_says_to_run_ingest(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    duckdb.connect(str(db)).close()
    _clean_error(_investigate(db), "stormwatch ingest")


def test_store_without_alerts_says_to_run_detect(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", None)
    _clean_error(_investigate(db), "stormwatch detect")


def test_a_newer_store_says_to_upgrade(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", [_alert()], schema=99)
    _clean_error(_investigate(db), "upgrade")


def test_no_alerts_means_no_case(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", [])
    result = _investigate(db, "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_cases_with_reports(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", [_alert()])
    html, stix = tmp_path / "r.html", tmp_path / "c.stix.json"
    result = _investigate(db, "-f", "json", "--html", str(html), "--stix", str(stix))
    assert result.exit_code == 1, result.output
    cases = json.loads(result.stdout)
    assert isinstance(cases, list) and len(cases) == 1
    (case,) = cases
    assert case["severity"] == "medium"
    assert "<html" in html.read_text().lower()
    assert json.loads(stix.read_text())["type"] == "bundle"
    markdown = _investigate(db, "-f", "markdown")
    assert markdown.exit_code == 1
    assert "- [ ]" in markdown.stdout


def test_output_file_and_severity_floor(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", [_alert()])
    out = tmp_path / "cases.json"
    result = _investigate(db, "-f", "json", "-o", str(out))
    assert result.exit_code == 1
    assert len(json.loads(out.read_text())) == 1
    above = _investigate(db, "-f", "json", "--min-severity", "high")
    assert above.exit_code == 0
    assert json.loads(above.stdout) == []


@pytest.mark.parametrize("option", ["--html", "--stix", "--output"])
def test_an_unwritable_report_is_a_clean_error(tmp_path: Path, option: str) -> None:
    db = _store(tmp_path / "s.duckdb", [_alert()])
    _clean_error(_investigate(db, option, str(tmp_path / "missing" / "r.out")), "cannot write")


def test_an_unknown_severity_is_refused(tmp_path: Path) -> None:
    db = _store(tmp_path / "s.duckdb", [_alert()])
    result = _investigate(db, "--min-severity", "hihg")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
