"""A Spark session configured the way stormwatch's results depend on.

The session time zone is UTC (stormwatch's times are UTC; a local zone would shift windows and
epochs), the UI and console progress are off (a CLI prints its own progress), and anything the
user passes (``--master``, ``--conf key=value``) is applied last, so a cluster's settings win.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_CONF: tuple[tuple[str, str], ...] = (
    ("spark.sql.session.timeZone", "UTC"),
    ("spark.ui.enabled", "false"),
    ("spark.ui.showConsoleProgress", "false"),
    ("spark.sql.shuffle.partitions", "8"),
    ("spark.driver.extraJavaOptions", "-Duser.timezone=UTC"),
    ("spark.executor.extraJavaOptions", "-Duser.timezone=UTC"),
    # nested folders of log files (CloudTrail's account/region/year/month/day layout)
    ("spark.hadoop.mapreduce.input.fileinputformat.input.dir.recursive", "true"),
)


# In local mode the driver is the only executor and rules run as concurrent jobs, each building
# broadcast tables there: Spark's 1 GB default fails on a few million events. A user's --conf
# still wins (applied last).
LOCAL_CONF: tuple[tuple[str, str], ...] = (("spark.driver.memory", "4g"),)


URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")  # s3a://, abfss://, gs://, file://


def is_uri(location: str) -> bool:
    """A location with a scheme, which only Spark's Hadoop connectors read."""
    return URI.match(location) is not None


class SparkUnavailable(RuntimeError):
    """PySpark is not installed, or Spark could not start (no Java, bad master URL)."""


@dataclass(frozen=True)
class SparkSettings:
    """Where and how Spark runs: ``master`` (None: spark-submit's, else ``local[*]``), extra
    configuration pairs, the application name and the driver log level."""

    master: str | None = None
    conf: tuple[tuple[str, str], ...] = ()
    app_name: str = "stormwatch"
    log_level: str = "ERROR"


def parse_conf(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    """``key=value`` strings as pairs; raises ``ValueError`` naming a malformed one."""
    parsed = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--conf {pair!r}: expected key=value")
        parsed.append((key.strip(), value))
    return tuple(parsed)


def require_pyspark() -> None:
    """Raise ``SparkUnavailable`` with the install hint when PySpark cannot be imported."""
    try:
        import pyspark.sql  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(
            "PySpark is not installed: pip install 'stormwatch[spark]' (needs Java 17+)"
        ) from exc


@contextmanager
def spark_session(settings: SparkSettings | None = None) -> Iterator[SparkSession]:
    """A started session for the block; stopped after it unless it was already running."""
    settings = settings or SparkSettings()
    require_pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(settings.app_name)
    if settings.master:  # else spark-submit's master, or its default local[*]
        builder = builder.master(settings.master)
    local = (settings.master or "").startswith("local")
    for key, value in (*DEFAULT_CONF, *(LOCAL_CONF if local else ()), *settings.conf):
        builder = builder.config(key, value)
    existing = SparkSession.getActiveSession()
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Py4J and Java start-up failures have no common base class
        raise SparkUnavailable(f"Spark did not start: {first_line(exc)}") from exc
    session.sparkContext.setLogLevel(settings.log_level)
    try:
        yield session
    finally:
        if existing is None:
            session.stop()


def first_line(error: BaseException) -> str:
    """The first line of an error's text: Py4J errors carry a Java stack trace after it."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
