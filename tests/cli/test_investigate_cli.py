"""`stormwatch investigate`: clear errors on bad stores, cases and reports on good ones."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from stormwatch.cli.app import app
from stormwatch.detect import Alert, store_alerts
from stormwatch.events.model import events_table_ddl

runner = CliRunner()
T0 = datetime(2025, 6, 2, 9, 0)


def _store(path: Path, alerts: list[Alert] | None) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(events_table_ddl())
        if alerts is not None:
            store_alerts(con, alerts, sorted({a.rule_id for a in alerts}) or ["none"])


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


def test_missing_store_is_a_clean_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["investigate", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "ingest" in result.output
    assert "Traceback" not in result.output


def test_store_without_alerts_says_to_run_detect(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _store(db, None)
    result = runner.invoke(app, ["investigate", "--db", str(db)])
    assert result.exit_code == 2
    assert "detect" in result.output


def test_no_alerts_means_no_case(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _store(db, [])
    result = runner.invoke(app, ["investigate", "--db", str(db), "-f", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_cases_with_reports(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _store(db, [_alert()])
    html, stix = tmp_path / "r.html", tmp_path / "c.stix.json"
    result = runner.invoke(
        app,
        ["investigate", "--db", str(db), "-f", "json", "--html", str(html), "--stix", str(stix)],
    )
    assert result.exit_code == 1
    (case,) = json.loads(result.stdout)
    assert case["severity"] == "medium"
    assert "<html" in html.read_text().lower()
    assert json.loads(stix.read_text())["type"] == "bundle"
    markdown = runner.invoke(app, ["investigate", "--db", str(db), "-f", "markdown"])
    assert "- [ ]" in markdown.stdout
