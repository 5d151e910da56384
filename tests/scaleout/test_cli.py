"""`stormwatch ingest --engine spark` and `stormwatch detect --engine spark` end to end, and
their usage errors (exit 2, one line, no traceback)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from stormwatch.cli.app import app
from stormwatch.simulate.simulator import simulate

pytestmark = pytest.mark.slow
runner = CliRunner()
LOCAL = ["--master", "local[2]"]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-logs")
    simulate(root, days=2, scale=0.05, seed=5)
    return root


def test_ingest_then_detect_on_spark(spark: Any, logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "events"
    ingested = runner.invoke(app, ["ingest", str(logs), "--engine", "spark", "--output", str(out)])
    assert ingested.exit_code == 0, ingested.output
    assert "cloudtrail" in ingested.output and "holds" in ingested.output
    again = runner.invoke(app, ["ingest", str(logs), "--engine", "spark", "--output", str(out)])
    assert again.exit_code == 0, again.output
    alerts = tmp_path / "alerts.json"
    args = ["detect", "--engine", "spark", "--input", str(out), "--db", str(tmp_path / "no.db")]
    found = runner.invoke(app, [*args, *LOCAL, "--format", "json", "-o", str(alerts)])
    assert found.exit_code == 1, found.output
    assert {a["rule_id"] for a in json.loads(alerts.read_text())} >= {"iam-user-name-pattern"}
    assert not (tmp_path / "no.db").exists()  # a missing store is not created


def test_detect_stores_alerts_in_an_existing_store(spark: Any, logs: Path, tmp_path: Path) -> None:
    out, db = tmp_path / "events", tmp_path / "s.duckdb"
    assert (
        runner.invoke(
            app, ["ingest", str(logs), "--db", str(db), "--export", "parquet", str(out)]
        ).exit_code
        == 0
    )
    found = runner.invoke(
        app, ["detect", "--engine", "spark", "--input", str(out), "--db", str(db)]
    )
    assert found.exit_code == 1, found.output
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM alerts").fetchone()
    assert stored is not None and stored[0] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["detect", "--engine", "spark"], "--input"),
        (["detect", "--input", "x"], "--engine spark"),
        (["detect", "--engine", "flink", "--input", "x"], "--engine must be"),
        (["ingest", ".", "--engine", "spark"], "--output"),
        (["ingest", "s3a://bucket/logs/"], "URIs need --engine spark"),
        (["ingest", ".", "--engine", "spark", "--output", "o", "--conf", "novalue"], "key=value"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_detect_on_what_is_not_parquet(spark: Any, tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "x.parquet").write_text("not parquet")
    nowhere = runner.invoke(app, ["detect", "--engine", "spark", "--input", str(tmp_path / "nope")])
    assert nowhere.exit_code == 2 and "no Parquet events" in nowhere.output


def test_missing_pyspark_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    result = runner.invoke(app, ["detect", "--engine", "spark", "--input", str(tmp_path)])
    assert result.exit_code == 2
    assert "stormwatch[spark]" in result.output
