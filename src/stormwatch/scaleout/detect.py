"""Detection on Spark: the compiled rules as Spark SQL over normalized Parquet.

``SparkBackend`` is the ``QueryBackend`` seam for a Spark session; the run itself is
``stormwatch.detect.detect_alerts``, the same code DuckDB runs. The events view reads any URI
Spark's Hadoop connectors read (local paths, ``s3a://``, ``abfss://``, ``gs://``), with the
columns of ``events.model.COLUMNS`` cast to their types; the lookup tables (canaries, exposures,
IP intel) are small and come from the driver, usually from a DuckDB store.

Rules run as concurrent Spark jobs, as many as the session has cores (at most ``RULE_THREADS``):
most stages of one rule have fewer tasks than that, so side by side they keep every core busy.
Events in object storage are cached once for all rules; local files are re-read by each rule,
which is cheaper than building Spark's in-memory copy (and the OS caches the files anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from stormwatch.detect import (
    Alert,
    DetectionError,
    DetectionRule,
    DetectionSettings,
    detect_alerts,
)
from stormwatch.detect.lookups import LOOKUP_DDL
from stormwatch.events.model import COLUMNS, LATER_COLUMNS
from stormwatch.scaleout.schema import spark_schema, spark_type
from stormwatch.scaleout.session import first_line, is_uri

LookupRows = tuple[tuple[Any, ...], ...]
RULE_THREADS = 4


@dataclass(frozen=True)
class Lookups:
    """Rows of the lookup tables rules join against (see ``stormwatch.detect.lookups``)."""

    canaries: LookupRows = ()
    exposures: LookupRows = ()
    ip_intel: LookupRows = ()

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection) -> Lookups:
        """The lookup tables of a DuckDB store (those it lacks are empty)."""
        tables = con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        present = {row[0] for row in tables}
        rows = {
            table: tuple(con.execute(f"SELECT * FROM {table}").fetchall())
            if table in present
            else ()
            for table in LOOKUP_DDL
        }
        return cls(**rows)

    def with_networks(self, entries: Iterable[tuple[str, str]]) -> Lookups:
        """These lookups with the IP-intel rows replaced by ``entries`` (an ``--ip-list``)."""
        return Lookups(self.canaries, self.exposures, tuple(entries))


class SparkBackend:
    """Runs detection SQL on a Spark session."""

    dialect = "spark"

    def __init__(self, session: SparkSession) -> None:
        self.session = session
        # each concurrent job holds memory (broadcasts, hash maps): no more than there are cores
        self.concurrency = min(RULE_THREADS, _cores(session))
        self._cached: list[DataFrame] = []

    def execute(self, sql: str) -> None:
        self.session.sql(sql)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.session.sql(sql).collect()]

    def register_events(self, uri: str) -> int:
        """Make the Parquet events at ``uri`` the ``events`` view; returns how many there are."""
        try:
            raw = self.session.read.parquet(uri)
        except AnalysisException as exc:
            raise DetectionError(f"no Parquet events at {uri}: {first_line(exc)}") from exc
        return self.use_events(raw, uri, cache=_remote(uri))

    def use_events(self, raw: DataFrame, origin: str = "the input", cache: bool = True) -> int:
        """Make ``raw`` (normalized events, any column order) the ``events`` view, kept in
        memory for all rules when ``cache``."""
        missing = [name for name, _, _ in COLUMNS if name not in raw.columns]
        if set(missing) - LATER_COLUMNS:
            raise DetectionError(
                f"{origin} is not normalized events: no column {', '.join(missing)} "
                "(write it with `stormwatch ingest --engine spark` or `--export parquet`)"
            )
        events = raw.selectExpr(
            *(
                f"CAST({'NULL' if name in missing else name} AS {spark_type(sql_type)}) AS {name}"
                for name, sql_type, _ in COLUMNS
            )
        )
        if cache:
            events = events.persist()
            self._cached.append(events)
        events.createOrReplaceTempView("events")
        return events.count()

    def register_lookups(self, lookups: Lookups) -> None:
        """The lookup tables as temporary views."""
        for table, columns in LOOKUP_DDL.items():
            rows = [list(row) for row in getattr(lookups, table)]
            frame = self.session.createDataFrame(rows, schema=spark_schema(columns))
            frame.createOrReplaceTempView(table)

    def release(self) -> None:
        """Drop what was cached for the run."""
        for frame in self._cached:
            frame.unpersist()
        self._cached.clear()


def _cores(session: SparkSession) -> int:
    """The session's default parallelism; 1 where there is no SparkContext (Spark Connect)."""
    try:
        return int(session.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect raises its own not-implemented errors here
        return 1


def _remote(uri: str) -> bool:
    """Whether ``uri`` is in remote storage, where reading it once for all rules pays."""
    return is_uri(uri) and not uri.lower().startswith("file:")


def spark_detect(
    session: SparkSession,
    uri: str,
    rules: Sequence[DetectionRule],
    settings: DetectionSettings | None = None,
    lookups: Lookups | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[Alert, ...]:
    """Run ``rules`` over the normalized Parquet at ``uri`` on Spark; the same alerts as DuckDB
    over the same events (checked by the conformance test). Nothing is stored."""
    backend = SparkBackend(session)
    try:
        backend.register_events(uri)
        backend.register_lookups(lookups or Lookups())
        return detect_alerts(backend, rules, settings, since, until)
    finally:
        backend.release()
