"""`stormwatch investigate` and `stormwatch demo`: alerts into cases, and the whole chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from stormwatch import __version__
from stormwatch.cli.console import EXIT_FOUND, EXIT_OK, err, fail, output_stream
from stormwatch.cli.params import enum_choices


class CaseFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class MinSeverity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


def investigate(
    db: Annotated[Path, typer.Option(help="Store written by ingest and detect.")] = Path(
        "stormwatch.duckdb"
    ),
    html: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report.")] = None,
    stix: Annotated[Path | None, typer.Option(help="Write a STIX 2.1 bundle.")] = None,
    fmt: Annotated[
        CaseFormat,
        typer.Option("--format", "-f", help="Output format.", **enum_choices(CaseFormat)),
    ] = CaseFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
    window_hours: Annotated[
        int, typer.Option(min=1, max=24 * 366, help="Alerts this close share a case.")
    ] = 48,
    min_severity: Annotated[
        MinSeverity, typer.Option(help="Ignore alerts below this.", **enum_choices(MinSeverity))
    ] = MinSeverity.low,
) -> None:
    """Link alerts and exposures into cases. Exit 0: no case; 1: cases; 2: error."""
    import duckdb

    from stormwatch.detect import load_rules
    from stormwatch.events.store import StoreError, connect
    from stormwatch.graph.cases import CaseSettings, build_cases

    if not db.exists():
        raise fail(f"no store at {db}: run `stormwatch ingest` and `stormwatch detect` first")
    settings = CaseSettings(window=timedelta(hours=window_hours), min_severity=min_severity.value)
    try:
        with connect(db, read_only=True) as con:
            cases = build_cases(con, {r.id: r.theme for r in load_rules()}, settings)
    except (StoreError, duckdb.Error) as exc:
        raise fail(str(exc)) from exc
    _export(cases, fmt.value, output, html, stix)
    raise typer.Exit(EXIT_FOUND if cases else EXIT_OK)


def _export(
    cases: tuple[object, ...], fmt: str, output: Path | None, html: Path | None, stix: Path | None
) -> None:
    from stormwatch.graph.exporters import ExportOptions, export_cases

    options = ExportOptions(tool_version=__version__, generated_at=datetime.now(UTC))
    for path, name in ((html, "html"), (stix, "stix")):
        if path is not None:
            try:
                path.write_text(export_cases(name, cases, options), encoding="utf-8")  # type: ignore[arg-type]
            except OSError as exc:
                raise fail(f"cannot write {path}: {exc.strerror or exc}") from exc
            err.print(f"{name}: {path}")
    with output_stream(output) as stream:
        stream.write(export_cases(fmt, cases, options))  # type: ignore[arg-type]


def demo(
    out: Annotated[Path, typer.Option(help="Where to write logs, store and reports.")] = Path(
        "stormwatch-demo"
    ),
    days: Annotated[int, typer.Option(help="Days of simulated logs.")] = 7,
    scale: Annotated[float, typer.Option(help="Volume of benign traffic.")] = 1.0,
) -> None:
    """Simulate an organisation under attack and run scan → ingest → detect → investigate."""
    from rich.console import Console
    from rich.table import Table

    from stormwatch.demo import run_demo

    console = Console()
    try:
        with console.status("starting") as status:
            result = run_demo(out, lambda text: status.update(text), days=days, scale=scale)
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from exc
    table = Table(title=f"{len(result.cases)} cases, most severe first (top 10)")
    for column in ("severity", "case", "alerts", "requests", "est. cost", "exposure→use"):
        table.add_column(column)
    for case in result.cases[:10]:
        lag = case.figures.exposure_to_first_use_seconds
        table.add_row(
            case.severity,
            case.title,
            str(len(case.alerts)),
            f"{case.figures.requests:,}",
            f"${case.figures.estimated_cost_usd or 0:,.2f}",
            f"{lag / 60:.0f} min" if lag is not None else "",
        )
    console.print(table)
    console.print(
        f"{result.events:,} events ingested, {result.findings} exposed credentials found, "
        f"{result.alerts} alerts, {len(result.cases)} cases in {result.seconds:.1f} s"
    )
    console.print(f"report: {result.html}\nSTIX bundle: {result.stix}")
