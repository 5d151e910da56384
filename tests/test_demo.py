"""The main job end to end on a small simulation: simulate → scan → ingest → detect → investigate.

One demo run (two days, a fifth of the benign volume; a few seconds) is shared by the checks; the
simulation's labels (``logs/labels.json``) are the ground truth they compare with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from stormwatch.cli.app import app
from stormwatch.demo import DemoResult, open_store, run_demo

DAYS, SCALE = 2, 0.2


@dataclass(frozen=True)
class DemoRun:
    result: DemoResult
    steps: tuple[str, ...]
    labels: dict[str, Any]
    alert_values: frozenset[str]
    exposures: tuple[tuple[str, str, str], ...]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    steps: list[str] = []
    result = run_demo(tmp_path_factory.mktemp("demo"), steps.append, days=DAYS, scale=SCALE)
    labels = json.loads((result.out_dir / "logs" / "labels.json").read_text(encoding="utf-8"))
    con = open_store(result.out_dir / "stormwatch.duckdb")
    try:
        entities = [
            json.loads(row[0]) for row in con.execute("SELECT entities FROM alerts").fetchall()
        ]
        exposures = con.execute(
            "SELECT credential_id, rule_id, location FROM exposures ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    values = frozenset(v for by_column in entities for vs in by_column.values() for v in vs)
    return DemoRun(result, tuple(steps), labels, values, tuple(exposures))


def _same_credential(label: str, logged: str) -> bool:
    """Labels name a credential in a short form; logs in the form their source records: a
    gateway key as ``litellm:<sha256>``, an APIM subscription under its service's resource id."""
    if logged in (label, f"litellm:{label}"):
        return True
    kind, _, name = label.partition(":")
    return bool(name) and logged.startswith(f"{kind}:") and logged.endswith(f"/{name}")


def test_the_scan_finds_the_leaked_key_in_history(demo: DemoRun) -> None:
    (leak,) = demo.labels["exposed_credentials"]
    assert demo.result.findings >= 1
    by_id = {credential: (rule, location) for credential, rule, location in demo.exposures}
    rule, location = by_id[leak["exposed_aws_key_id"]]
    assert rule == "aws-access-key-id"
    assert location.startswith(".env@")  # found in a commit: the file is gone from HEAD
    assert f"litellm:{leak['exposed_gateway_key_hash']}" in by_id


def test_a_case_links_the_leak_to_its_first_use(demo: DemoRun) -> None:
    (leak,) = demo.labels["exposed_credentials"]
    linked = [c for c in demo.result.cases if c.figures.exposure_to_first_use_seconds is not None]
    assert linked
    assert all(c.figures.exposure_to_first_use_seconds > 0 for c in linked)  # type: ignore[operator]
    keys = {e.value for c in linked for e in c.entities if e.kind == "credential"}
    assert leak["exposed_aws_key_id"] in keys
    assert any(c.severity == "critical" for c in demo.result.cases)
    scores = [c.score for c in demo.result.cases]
    assert scores == sorted(scores, reverse=True)


def test_every_attack_credential_is_in_an_alert_or_a_case(demo: DemoRun) -> None:
    case_values = {e.value for c in demo.result.cases for e in c.entities}
    seen = demo.alert_values | case_values
    attacks = [p for p in demo.labels["playbooks"] if p["kind"] == "attack"]
    assert len(attacks) >= 5
    missed = [
        f"{attack['scenario']}: {label}"
        for attack in attacks
        for label in attack["entities"].get("credential_ids", ())
        if not any(_same_credential(label, value) for value in seen)
    ]
    assert not missed, f"attack credentials in no alert and no case: {missed}"


def test_reports_and_figures(demo: DemoRun) -> None:
    result = demo.result
    assert result.html.name == "report.html" and result.html.exists()
    assert "<html" in result.html.read_text(encoding="utf-8").lower()
    assert result.stix.name == "cases.stix.json"
    assert json.loads(result.stix.read_text(encoding="utf-8"))["type"] == "bundle"
    assert result.events > 10_000 and result.alerts >= len(result.cases) > 0
    assert len(demo.steps) >= 5


def test_the_store_is_left_readable_by_investigate(demo: DemoRun) -> None:
    with duckdb.connect(str(demo.result.out_dir / "stormwatch.duckdb"), read_only=True) as con:
        (count,) = con.execute("SELECT COUNT(*) FROM alerts").fetchone() or (0,)
    assert count == demo.result.alerts


def test_demo_command(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--out", str(out), "--days", str(DAYS), "--scale", str(SCALE)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists() and (out / "cases.stix.json").exists()
    assert "cases" in result.output
