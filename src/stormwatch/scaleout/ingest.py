"""Raw logs to normalized, partitioned Parquet on Spark, with stormwatch's own parsers.

Each Spark task parses whole files with ``stormwatch.events.parsing.parse_file``, the function
DuckDB ingest uses, so there is one copy of the parsing logic. Local paths are walked on the
driver as ``stormwatch ingest`` walks them; URIs (``s3a://``, ``abfss://``, ...) are listed and
read by Spark (``binaryFiles``). The output has the layout of ``ingest --export parquet``
(``source=.../day=.../``); a run appends only events whose ``event_id`` the output does not hold
yet, so ingesting the same logs twice leaves the output as it was.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from stormwatch.events.files import is_log_or_archive, walk
from stormwatch.events.model import COLUMN_NAMES
from stormwatch.events.parsing import AUTO, parse_file
from stormwatch.events.report import FileReport, IngestReport, Rejection, summarize
from stormwatch.scaleout.schema import EVENTS_SCHEMA, event_row
from stormwatch.scaleout.session import is_uri

RAW_FILE = COLUMN_NAMES.index("raw_file")
BATCH_SIZE = 50_000

# What a task emits: ("e", event row) or ("r", the file's report).
Item = tuple[str, Any]


class SparkIngestError(RuntimeError):
    """The output cannot be read or written (not Parquet events, no permission, ...)."""


@dataclass(frozen=True)
class SparkIngestReport:
    """The run's per-file reports (as ``stormwatch ingest`` prints them) and the output."""

    report: IngestReport
    output: str
    total: int


def _parsed(path: Path, name: str, source: str) -> Iterator[Item]:
    """Events and report of one file; ``name`` is what rows and reports call it."""
    batches = parse_file(path, source, BATCH_SIZE)
    while True:
        try:
            batch = next(batches)
        except StopIteration as finished:
            yield "r", _renamed(finished.value, str(path), name)
            return
        for kept in batch.kept:
            row = list(event_row(kept))
            row[RAW_FILE] = name + row[RAW_FILE][len(str(path)) :]  # an archive's "!member" stays
            yield "e", tuple(row)


def _renamed(report: FileReport, parsed_as: str, name: str) -> FileReport:
    if parsed_as == name:
        return report

    def located(samples: tuple[Rejection, ...]) -> tuple[Rejection, ...]:
        return tuple(
            Rejection(s.location.replace(parsed_as, name, 1), s.reason, s.detail) for s in samples
        )

    return replace(
        report,
        path=name,
        samples=located(report.samples),
        note_samples=located(report.note_samples),
    )


def _parse_local(path: str, source: str) -> Iterator[Item]:
    return _parsed(Path(path), path, source)


def _parse_bytes(uri: str, content: bytes, source: str) -> Iterator[Item]:
    """A file Spark read from storage: parsed from a local copy, named by its URI."""
    with tempfile.NamedTemporaryFile(prefix="stormwatch-") as copy:
        copy.write(content)
        copy.flush()
        yield from _parsed(Path(copy.name), uri, source)


def _items(session: SparkSession, inputs: Sequence[str], source: str) -> Any:
    """One RDD of tagged items over every input, local files and URIs alike."""
    context = session.sparkContext
    local = [str(path) for path in walk(Path(i) for i in inputs if not is_uri(i))]
    parts = []
    if local:
        files = context.parallelize(local, max(1, min(len(local), context.defaultParallelism * 4)))
        parts.append(files.flatMap(lambda path: _parse_local(path, source)))
    remote = [i for i in inputs if is_uri(i)]
    if remote:
        blobs = context.binaryFiles(",".join(remote))
        logs = blobs.filter(lambda pair: is_log_or_archive(Path(pair[0])))
        parts.append(logs.flatMap(lambda pair: _parse_bytes(pair[0], pair[1], source)))
    return context.union(parts) if parts else context.emptyRDD()


def _existing_ids(session: SparkSession, output: str) -> DataFrame | None:
    try:
        return session.read.parquet(output).select("event_id")
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc) or "UNABLE_TO_INFER_SCHEMA" in str(exc):
            return None  # a new output
        raise SparkIngestError(f"{output}: not Parquet events ({exc})") from exc


def spark_ingest(
    session: SparkSession, inputs: Sequence[str], output: str, source: str = AUTO
) -> SparkIngestReport:
    """Parse ``inputs`` on Spark and append the events new to ``output`` (partitioned Parquet).

    Returns per-file reports whose ``stored`` counts the file's new events and ``duplicates``
    its events the output (or another file of the run) already had.
    """
    started = time.monotonic()
    items = _items(session, inputs, source).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        reports = items.filter(lambda item: item[0] == "r").map(lambda item: item[1]).collect()
        rows = items.filter(lambda item: item[0] == "e").map(lambda item: item[1])
        events = session.createDataFrame(rows, schema=EVENTS_SCHEMA).dropDuplicates(["event_id"])
        existing = _existing_ids(session, output)
        if existing is not None:
            events = events.join(existing, "event_id", "left_anti")
        fresh = events.localCheckpoint(eager=True)  # fixed before the output changes
        per_file: dict[str, int] = dict(fresh.groupBy("raw_file").count().collect())
        if per_file:
            fresh.selectExpr("*", "CAST(time AS DATE) AS day").write.mode("append").partitionBy(
                "source", "day"
            ).parquet(output)
        total = session.read.parquet(output).count() if per_file or existing is not None else 0
    finally:
        items.unpersist()
    files = tuple(
        replace(r, stored=per_file.get(r.path, 0), duplicates=r.events - per_file.get(r.path, 0))
        for r in reports
    )
    seconds = time.monotonic() - started
    return SparkIngestReport(IngestReport(files, seconds, summarize(files)), output, total)
