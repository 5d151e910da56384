"""Every rule's own examples, positive and negative, give the same alerts on Spark as on DuckDB.

The simulated world of the conformance test does not trip every rule; the examples do, each at
its thresholds' edges, which is where a rounding or epoch difference would show.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from stormwatch.detect import (
    DetectionRule,
    DetectionSettings,
    detect_alerts,
    load_rules,
    run_detection,
)
from stormwatch.detect.examples import expand_example, insert_events
from stormwatch.events.model import COLUMN_NAMES, events_table_ddl
from stormwatch.scaleout.detect import Lookups, SparkBackend
from stormwatch.scaleout.schema import EVENTS_SCHEMA

pytestmark = pytest.mark.slow
SETTINGS = DetectionSettings(store=False)
CASES = [
    pytest.param(rule, case, n, id=f"{rule.id}-{kind}-{n}")
    for rule in load_rules()
    for kind, cases in (("positive", rule.examples.positive), ("negative", rule.examples.negative))
    for n, case in enumerate(cases)
]


def _rows(case: object, seed: int) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    con.execute(events_table_ddl())
    insert_events(con, expand_example(case, seed=seed))  # type: ignore[arg-type]
    return con.execute(f"SELECT {', '.join(COLUMN_NAMES)} FROM events").fetchall()


@pytest.mark.parametrize(("rule", "case", "n"), CASES)
def test_example_alerts_match(spark: Any, rule: DetectionRule, case: object, n: int) -> None:
    rows = _rows(case, seed=n)
    con = duckdb.connect()
    con.execute(events_table_ddl())
    con.executemany(f"INSERT INTO events VALUES ({', '.join('?' * len(COLUMN_NAMES))})", rows)
    duck = run_detection(con, [rule], SETTINGS)
    backend = SparkBackend(spark)
    try:
        backend.use_events(spark.createDataFrame(rows, schema=EVENTS_SCHEMA))
        backend.register_lookups(Lookups())
        sparked = detect_alerts(backend, [rule], SETTINGS)
    finally:
        backend.release()
    assert [a.to_dict() for a in sparked] == [a.to_dict() for a in duck]


def test_events_exported_before_a_later_column_still_load(spark: Any, tmp_path: Any) -> None:
    """Parquet written before ``src_country`` existed, beside newer files, reads as one
    dataset: the old rows have no country."""
    (rule,) = [rule for rule in load_rules() if rule.id == "credential-new-country"]
    rows = _rows(rule.examples.positive[0], seed=0)
    frame = spark.createDataFrame(rows, schema=EVENTS_SCHEMA)
    frame.drop("src_country").write.parquet(str(tmp_path / "events" / "old"))
    frame.write.parquet(str(tmp_path / "events" / "new"))
    found = []
    for files in ("*", "old"):
        backend = SparkBackend(spark)
        try:
            backend.register_events(str(tmp_path / "events" / files))
            found += backend.fetch("SELECT COUNT(*), COUNT(src_country) FROM events")
        finally:
            backend.release()
    assert found == [(2 * len(rows), len(rows)), (len(rows), 0)]
