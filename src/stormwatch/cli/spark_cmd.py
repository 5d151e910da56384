"""The Spark side of `stormwatch ingest` and `stormwatch detect` (``--engine spark``).

Options shared by both commands live here; PySpark loads only when a Spark run starts, so the
other engines and commands never pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stormwatch.cli.console import err, fail

if TYPE_CHECKING:
    from stormwatch.detect import Alert, DetectionRule, DetectionSettings
    from stormwatch.events import IngestReport
    from stormwatch.scaleout import SparkSettings

ENGINES = ("duckdb", "spark")
EngineOption = Annotated[
    str, typer.Option("--engine", help="duckdb (embedded store) or spark (stormwatch[spark]).")
]
MasterOption = Annotated[
    str | None,
    typer.Option("--master", help="Spark master URL (default: spark-submit's, else local[*])."),
]
ConfOption = Annotated[
    list[str] | None,
    typer.Option("--conf", help="Spark configuration key=value (repeatable).", metavar="K=V"),
]


def check_engine(engine: str) -> None:
    """Exit 2 for an unknown engine name."""
    if engine not in ENGINES:
        raise fail(f"--engine must be one of {', '.join(ENGINES)}")


def spark_settings(master: str | None, conf: list[str] | None) -> SparkSettings:
    """The session settings of the command line; exit 2 for a malformed ``--conf`` or when
    PySpark is missing (checked before any work starts)."""
    from stormwatch.scaleout import SparkSettings, SparkUnavailable
    from stormwatch.scaleout.session import parse_conf, require_pyspark

    try:
        require_pyspark()
        return SparkSettings(master=master, conf=parse_conf(conf or []))
    except (ValueError, SparkUnavailable) as exc:
        raise fail(str(exc)) from exc


def ingest_on_spark(
    inputs: Sequence[str], output: str, source: str, settings: SparkSettings
) -> IngestReport:
    """Parse ``inputs`` on Spark into the partitioned Parquet at ``output``."""
    from stormwatch.scaleout import SparkUnavailable, spark_session
    from stormwatch.scaleout.ingest import SparkIngestError, spark_ingest

    err.print(f"parsing on Spark into {output} ...", highlight=False, markup=False)
    try:
        with spark_session(settings) as session:
            result = spark_ingest(session, inputs, output, source)
    except (SparkUnavailable, SparkIngestError) as exc:
        raise fail(str(exc)) from exc
    err.print(f"{result.output} now holds {result.total:,} events", highlight=False, markup=False)
    return result.report


def detect_on_spark(
    uri: str,
    db: Path,
    rules: Sequence[DetectionRule],
    settings: DetectionSettings,
    ip_list: Path | None,
    window: tuple[datetime | None, datetime | None],
    spark: SparkSettings,
) -> tuple[Alert, ...]:
    """Run ``rules`` on Spark over the Parquet events at ``uri``.

    When the store ``db`` exists, its lookup tables (canaries, exposures, IP intel) are used
    and the alerts are stored in it, so `stormwatch investigate --db` can read them.
    """
    import duckdb

    from stormwatch.detect import DetectionError, store_alerts
    from stormwatch.detect.lookups import parse_ip_list
    from stormwatch.scaleout import SparkUnavailable, spark_session
    from stormwatch.scaleout.detect import Lookups, spark_detect

    try:
        with duckdb.connect(str(db), read_only=True) if db.exists() else nullcontext() as con:
            lookups = Lookups.from_store(con) if con is not None else Lookups()
        if ip_list is not None:
            lines = ip_list.read_text(encoding="utf-8").splitlines()
            lookups = lookups.with_networks(parse_ip_list(lines, ip_list.stem))
        with spark_session(spark) as session:
            alerts = spark_detect(session, uri, rules, settings, lookups, *window)
        if db.exists() and settings.store:
            with duckdb.connect(str(db)) as con:
                store_alerts(con, alerts, [r.id for r in rules], *window)
    except (SparkUnavailable, DetectionError, duckdb.Error, ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    return alerts
