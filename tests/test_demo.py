"""The main job end to end on a small simulation: scan → ingest → detect → investigate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stormwatch.cli.app import app
from stormwatch.demo import run_demo


@pytest.mark.slow
def test_demo_links_the_leaked_key_to_its_use(tmp_path: Path) -> None:
    steps: list[str] = []
    result = run_demo(tmp_path, steps.append, days=3, scale=0.2)
    assert result.findings >= 1
    assert result.events > 10_000
    assert any(c.figures.exposure_to_first_use_seconds is not None for c in result.cases)
    assert any(c.severity == "critical" for c in result.cases)
    assert "<html" in result.html.read_text().lower()
    assert json.loads(result.stix.read_text())["type"] == "bundle"
    assert len(steps) >= 5


@pytest.mark.slow
def test_demo_command(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--days", "3", "--scale", "0.2"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists()
    assert "cases" in result.output
