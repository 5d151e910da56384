"""DuckDB and Spark over the same simulated logs: the same events, the same alerts.

The world is a simulated organisation under every attack playbook, with canaries, exposures and
an IP list in the lookup tables, so every rule family has data to work on. Ingest is compared
column by column; detection alert by alert (ids, times, entities, counts, evidence, scores).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.detect.labelled_lookups import register_labels

from stormwatch.detect import DetectionSettings, load_rules, run_detection
from stormwatch.detect.lookups import load_ip_list
from stormwatch.events import COLUMN_NAMES, EventStore, ingest_files
from stormwatch.scaleout.detect import Lookups, spark_detect
from stormwatch.scaleout.ingest import spark_ingest
from stormwatch.simulate.simulator import simulate

pytestmark = pytest.mark.slow
COLUMNS = ", ".join(COLUMN_NAMES)


@dataclass(frozen=True)
class World:
    logs: Path
    store: Path
    parquet: Path
    labels: dict[str, Any]


def _lookups(con: duckdb.DuckDBPyConnection, labels: dict[str, Any], root: Path) -> None:
    register_labels(con, labels)
    networks = con.execute("SELECT DISTINCT src_ip FROM events WHERE src_ip IS NOT NULL LIMIT 3")
    listed = root / "intel.txt"
    listed.write_text("".join(f"{ip} sim-intel\n" for (ip,) in networks.fetchall()))
    load_ip_list(con, listed)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, spark: Any) -> World:
    root = tmp_path_factory.mktemp("conformance")
    simulate(root / "logs", days=4, scale=0.1, seed=11)
    with EventStore.open(root / "store.duckdb") as store:
        ingest_files([root / "logs"], store)
    labels = json.loads((root / "logs" / "labels.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(root / "store.duckdb")) as con:
        _lookups(con, labels, root)
    spark_ingest(spark, [str(root / "logs")], str(root / "parquet"))
    return World(root / "logs", root / "store.duckdb", root / "parquet", labels)


def _difference(con: duckdb.DuckDBPyConnection, parquet: Path) -> tuple[int, int]:
    spark_rows = f"read_parquet('{parquet}/**/*.parquet', hive_partitioning = true)"
    counts = []
    for left, right in (("events", spark_rows), (spark_rows, "events")):
        query = f"SELECT count(*) FROM (SELECT {COLUMNS} FROM {left} EXCEPT ALL "
        row = con.execute(query + f"SELECT {COLUMNS} FROM {right})").fetchone()
        counts.append(row[0] if row else -1)
    return counts[0], counts[1]


def test_spark_ingest_writes_the_events_duckdb_stores(world: World) -> None:
    with duckdb.connect(str(world.store), read_only=True) as con:
        total = con.execute("SELECT count(*) FROM events").fetchone()
        assert total is not None and total[0] > 10_000
        assert _difference(con, world.parquet) == (0, 0)


def test_spark_ingest_twice_adds_nothing(world: World, spark: Any) -> None:
    again = spark_ingest(spark, [str(world.logs)], str(world.parquet))
    assert again.report.stored == 0
    assert again.report.duplicates == sum(f.events for f in again.report.files) > 0
    with duckdb.connect(str(world.store), read_only=True) as con:
        assert _difference(con, world.parquet) == (0, 0)


def test_spark_ingest_reports_like_duckdb_ingest(world: World, spark: Any, tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "again.duckdb") as store:
        duck = ingest_files([world.logs], store)
    sparked = spark_ingest(spark, [str(world.logs)], str(tmp_path / "out")).report
    assert sparked.by_source == duck.by_source
    assert [(f.path, f.source, f.records, f.rejected, f.notes) for f in sparked.files] == [
        (f.path, f.source, f.records, f.rejected, f.notes) for f in duck.files
    ]


def test_every_rule_gives_the_same_alerts_on_both_engines(world: World, spark: Any) -> None:
    rules = load_rules()
    settings = DetectionSettings(store=False)
    with duckdb.connect(str(world.store)) as con:
        duck = run_detection(con, rules, settings)
        lookups = Lookups.from_store(con)
    sparked = spark_detect(spark, str(world.parquet), rules, settings, lookups)
    assert [a.to_dict() for a in sparked] == [a.to_dict() for a in duck]
    fired = {a.rule_id for a in duck}
    assert len(fired) >= 25, f"only {sorted(fired)} fired: the comparison would prove little"
    assert {"canary-credential-used", "exposed-credential-used", "ip-intel-match"} <= fired


def test_an_archive_is_read_alike_on_both_engines(world: World, spark: Any, tmp_path: Path) -> None:
    """Rows keep the member in ``raw_file`` (``archive!member``) on Spark as in the store."""
    archive = tmp_path / "bundle.zip"
    logs = sorted(path for path in world.logs.rglob("*.jsonl") if path.stat().st_size)[:3]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in logs:
            bundle.write(path, str(path.relative_to(world.logs)))
    with EventStore.open(tmp_path / "bundle.duckdb") as store:
        ingest_files([archive], store)
    spark_ingest(spark, [str(archive)], str(tmp_path / "bundle"))
    with duckdb.connect(str(tmp_path / "bundle.duckdb"), read_only=True) as con:
        names = con.execute("SELECT DISTINCT raw_file FROM events ORDER BY 1").fetchall()
        assert _difference(con, tmp_path / "bundle") == (0, 0)
    members = [f"{archive}!{path.relative_to(world.logs)}" for path in logs]
    assert [name for (name,) in names] == sorted(members)
