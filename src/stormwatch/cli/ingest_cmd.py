"""`stormwatch ingest`: raw cloud / gateway logs into the normalized DuckDB event store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from stormwatch.cli.console import EXIT_OK, EXIT_PARTIAL, err, fail, open_output, progress_bar
from stormwatch.cli.spark_cmd import (
    ConfOption,
    EngineOption,
    MasterOption,
    check_engine,
    ingest_on_spark,
    spark_settings,
)
from stormwatch.events import (
    DEFAULT_DB,
    SOURCE_NAMES,
    EventStore,
    IngestError,
    IngestReport,
    IngestSettings,
    Progress,
    StoreError,
    ingest_files,
)
from stormwatch.events.files import STDIN
from stormwatch.events.report import Rejection, printable
from stormwatch.scaleout.session import is_uri

SOURCES = ("auto", *SOURCE_NAMES)
SKIPPED_SHOWN = 3


def ingest(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Log files, directories (recursive) or zip/tar archives; `-` reads standard "
            "input; URIs with --engine spark. None with --export: export the store as it is.",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str, typer.Option(help=f"Log source: {', '.join(SOURCES)}.", show_default=True)
    ] = "auto",
    db: Annotated[Path, typer.Option("--db", help="DuckDB event store.")] = DEFAULT_DB,
    export: Annotated[
        tuple[str, Path] | None,
        typer.Option(
            help="Also write the store's events: `--export parquet DIR`; with no logs named, "
            "only export the store.",
            metavar="FORMAT DIR",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Parse processes.")] = 2,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress.")] = False,
    engine: EngineOption = "duckdb",
    output: Annotated[
        str | None,
        typer.Option(help="With --engine spark: where to write partitioned Parquet (URI)."),
    ] = None,
    master: MasterOption = None,
    conf: ConfOption = None,
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Also write the whole report as JSON to FILE: every file's counts, reasons "
            "and located samples.",
        ),
    ] = None,
) -> None:
    """Normalize logs into the event store (or, with --engine spark, into Parquet).
    Exit 0: all stored or already present; 3: some records rejected (counted, located);
    2: usage or fatal error."""
    paths = paths or []
    if not paths and export is None:
        raise fail("name the logs to ingest (files, directories, archives or -)")
    if source not in SOURCES:
        raise fail(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    if export is not None and any(part.startswith("-") for part in (export[0], str(export[1]))):
        given = " ".join(map(str, export))
        raise fail(f"--export takes FORMAT DIR, e.g. `--export parquet out/`, not `{given}`")
    if export is not None and export[0].lower() != "parquet":
        raise fail(f"unknown export format {export[0]!r}; only 'parquet'")
    if export is not None and export[1].exists() and not export[1].is_dir():
        raise fail(f"--export: {export[1]} is a file, not a directory")
    check_engine(engine)
    if (engine == "spark") != (output is not None):
        raise fail("--output goes with --engine spark, and --engine spark needs --output")
    if engine == "duckdb" and (remote := [p for p in paths if is_uri(p)]):
        raise fail(f"URIs need --engine spark: {', '.join(remote)}")
    if engine == "spark" and STDIN in paths:
        raise fail("standard input (-) is read with --engine duckdb only")
    missing = [p for p in paths if not is_uri(p) and p != STDIN and not Path(p).exists()]
    if missing:
        raise fail(f"no such file or directory: {', '.join(missing)}")
    if not paths and (engine == "spark" or report_file is not None):
        raise fail("--engine spark and --report need logs to ingest")
    if not paths and not db.exists():
        raise fail(f"no event store at {db}: nothing to export")
    report_stream = open_output(report_file)
    if output is not None:
        spark_report = ingest_on_spark(paths, output, source, spark_settings(master, conf))
        _finish(spark_report, report_stream)
    try:
        store = EventStore.open(db)
    except StoreError as error:
        raise fail(str(error)) from error
    with store:
        settings = IngestSettings(source=source, workers=workers)
        report = _run([Path(path) for path in paths], store, settings, quiet) if paths else None
        if export is not None:
            try:
                rows = store.export_parquet(export[1])
            except StoreError as error:
                raise fail(str(error)) from error
            err.print(f"exported {rows:,} events to {export[1]}", highlight=False, markup=False)
    if report is None:
        raise typer.Exit(EXIT_OK)
    _finish(report, report_stream)


def _finish(report: IngestReport, report_stream: TextIO | None) -> None:
    """Print the report, write it as JSON when asked, and exit with the run's code."""
    _print_report(report, Console())
    if report_stream is not None:
        with report_stream:
            json.dump(report.to_dict(), report_stream, indent=2)
            report_stream.write("\n")
    raise typer.Exit(EXIT_OK if report.clean else EXIT_PARTIAL)


def _run(
    paths: list[Path], store: EventStore, settings: IngestSettings, quiet: bool
) -> IngestReport:
    with progress_bar(quiet, total=1) as bar:
        task = bar.add_task("ingesting", total=None, detail="")

        def advance(progress: Progress) -> None:
            detail = f"{progress.stored:,} events"
            bar.update(
                task, total=progress.files_total, completed=progress.files_done, detail=detail
            )

        try:
            return ingest_files(paths, store, settings, on_progress=advance)
        except (IngestError, StoreError) as error:
            raise fail(str(error)) from error


def _print_report(report: IngestReport, console: Console) -> None:
    table = Table(title=f"ingested in {report.seconds:.1f} s", title_justify="left")
    for column in ("source", "files", "records", "stored", "duplicates skipped", "rejected"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for row in report.by_source:
        values = (row.files, row.records, row.stored, row.duplicates, row.rejected)
        table.add_row(row.source, *(f"{value:,}" for value in values))
    if report.by_source:
        console.print(table)
    unchanged = sum(file.unchanged for file in report.files)
    if unchanged:
        _say(console, f"{unchanged:,} files unchanged since they were ingested: not read again")
    _print_skipped(report, console)
    for file in report.files:
        if file.error:
            _say(console, f"unreadable {file.path}: {file.error}")
        if file.skipped is None:
            for sample in file.samples:
                _say(console, f"rejected {_sampled(sample)}")
        if file.rejected > len(file.samples) and file.skipped is None:
            _say(console, f"  {file.path}: {file.rejected:,} rejected ({_counted(file.reasons)})")
        if file.notes:
            first = file.note_samples[0] if file.note_samples else None
            example = f"; first at {_sampled(first)}" if first else ""
            _say(console, f"note {file.path}: odd values kept ({_counted(file.notes)}){example}")
        if file.ignored:
            _say(console, f"note {file.path}: records that are no event ({_counted(file.ignored)})")


def _say(console: Console, line: str) -> None:
    """One line of the report as it is: names from files and archives may hold markup
    (``[/]``), escape sequences or newlines, which must neither style nor forge output."""
    console.print(printable(line), highlight=False, markup=False, soft_wrap=True)


def _print_skipped(report: IngestReport, console: Console) -> None:
    """Files no record of which is a log, a few by name for each reason (a CloudTrail bucket
    holds a digest file an hour per region)."""
    by_reason: dict[str, list[str]] = {}
    for file in report.files:
        if file.skipped:
            by_reason.setdefault(file.skipped, []).append(file.path)
    for reason, paths in by_reason.items():
        for path in paths[:SKIPPED_SHOWN]:
            _say(console, f"skipped {path}: {reason}")
        if len(paths) > SKIPPED_SHOWN:
            more = len(paths) - SKIPPED_SHOWN
            _say(console, f"skipped {more:,} more files: {reason}")


def _sampled(sample: Rejection) -> str:
    """A located sample as ``file:line: reason (value)``."""
    detail = f" ({sample.detail})" if sample.detail else ""
    return f"{sample.location}: {sample.reason}{detail}"


def _counted(counts: tuple[tuple[str, int], ...]) -> str:
    """``reason: count`` pairs of a file report, as one line."""
    return ", ".join(f"{reason}: {count:,}" for reason, count in counts)
