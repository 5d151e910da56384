"""Scale-out: the same ingest parsers and compiled detection rules on Apache Spark.

Public surface (PySpark loads only when a function here runs; install ``stormwatch[spark]``)::

    settings = SparkSettings(master="local[2]", conf=(("spark.executor.memory", "4g"),))
    with spark_session(settings) as spark:
        report = spark_ingest(spark, ["s3a://logs/cloudtrail/"], "out/events")
        alerts = spark_detect(spark, "out/events", load_rules(), lookups=Lookups())

Nothing here is a second copy of stormwatch's logic: Spark tasks call the ingest parsers
(``stormwatch.events.parsing.parse_file``), and detection runs the rules that ``sqlglot``
compiled once, emitted as Spark SQL, through the same ``detect_alerts`` as DuckDB.
"""

from stormwatch.scaleout.session import SparkSettings, SparkUnavailable, spark_session

__all__ = [
    "Lookups",
    "SparkBackend",
    "SparkIngestReport",
    "SparkSettings",
    "SparkUnavailable",
    "spark_detect",
    "spark_ingest",
    "spark_session",
]


def __getattr__(name: str) -> object:
    """The Spark-facing names load their modules (and PySpark) on first use."""
    if name in ("Lookups", "SparkBackend", "spark_detect"):
        from stormwatch.scaleout import detect

        return getattr(detect, name)
    if name in ("SparkIngestReport", "spark_ingest"):
        from stormwatch.scaleout import ingest

        return getattr(ingest, name)
    raise AttributeError(name)
