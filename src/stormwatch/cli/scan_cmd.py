"""`stormwatch scan`: find exposed AI credentials in files, archives, stdin and git history."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from stormwatch import __version__
from stormwatch.cli.console import EXIT_FOUND, EXIT_OK, err, fail, output_stream, progress_bar
from stormwatch.cli.params import Argument, Option
from stormwatch.secrets.request import ScanPathError, ScanRequest, early_walk

# The scanner's modules load in ``_scan``, once the early walk has started (see ``request``).
if TYPE_CHECKING:
    from stormwatch.secrets.model import ScanResult
    from stormwatch.secrets.ruleset import RuleSet
    from stormwatch.secrets.sources.walker import WalkProcess


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    csv = "csv"


class Engine(StrEnum):
    auto = "auto"
    hyperscan = "hyperscan"
    re2 = "re2"


def scan(
    paths: Annotated[list[str] | None, Argument(help="Files or directories; '-' = stdin.")] = None,
    staged: Annotated[bool, Option("--staged", help="Scan what is staged in git.")] = False,
    history: Annotated[bool, Option("--history", help="Scan all git history.")] = False,
    fmt: Annotated[Format, Option("--format", "-f", help="Report format.")] = Format.text,
    output: Annotated[Path | None, Option("--output", "-o", help="Write here.")] = None,
    config: Annotated[Path | None, Option(help="Config file (rules, allowlist).")] = None,
    baseline: Annotated[Path | None, Option(help="Ignore findings in this baseline.")] = None,
    baseline_out: Annotated[
        Path | None, Option("--baseline-out", help="Write findings as a baseline.")
    ] = None,
    show_secrets: Annotated[bool, Option(help="Print full secrets (off).")] = False,
    verify: Annotated[bool, Option(help="Check liveness at official hosts.")] = False,
    engine: Annotated[Engine, Option(help="Match engine.")] = Engine.auto,
    quiet: Annotated[bool, Option("--quiet", "-q", help="No progress.")] = False,
    db: Annotated[
        Path | None, Option(help="Record findings as exposures in this event store.")
    ] = None,
) -> None:
    """Find exposed AI credentials. Exit 0: none; 1: findings; 2: usage or fatal error."""
    if staged and history:
        raise fail("--staged and --history cannot be combined")
    request = ScanRequest(
        paths=tuple(paths or ["."]),
        staged=staged,
        history=history,
        config=config,
        baseline=baseline,
        engine=engine.value,
    )
    walk = early_walk(request)
    with walk or contextlib.nullcontext():
        result, rules = _scan(request, quiet, walk)
    if verify and result.findings:
        result = _verified(result, rules)
    if db is not None:
        _record(db, result)
    if baseline_out is not None:
        from stormwatch.secrets.baseline import write_baseline

        written = write_baseline(baseline_out, result.findings)
        err.print(f"baseline: {written} fingerprints written to {baseline_out}")
    from stormwatch.report import WriterOptions, writer_for

    options = WriterOptions(tool_version=__version__, show_secrets=show_secrets)
    with output_stream(output) as stream:
        writer_for(fmt.value, options).write(result, rules, stream)
    raise SystemExit(EXIT_FOUND if result.findings else EXIT_OK)


def _scan(
    request: ScanRequest, quiet: bool, walk: WalkProcess | None
) -> tuple[ScanResult, RuleSet]:
    """Run the scan, with a progress display unless ``quiet`` (a quiet scan never loads Rich);
    an error in the request or the user's files ends the command with exit 2."""
    from stormwatch.secrets.baseline import BaselineError
    from stormwatch.secrets.engine import EngineUnavailable
    from stormwatch.secrets.ruleset import RuleError
    from stormwatch.secrets.scan import run_scan
    from stormwatch.secrets.settings import ConfigError
    from stormwatch.secrets.sources import GitSourceError

    try:
        if quiet:
            return run_scan(request, walk=walk)
        with progress_bar(quiet) as progress:
            task = progress.add_task("scanning", total=None, detail="")

            def advance(units: int, size: int) -> None:
                done = progress.tasks[task].fields.get("bytes", 0) + size
                progress.update(task, advance=units, bytes=done, detail=f"{done / 1e6:,.1f} MB")

            return run_scan(request, advance, walk)
    except (
        ConfigError,
        RuleError,
        BaselineError,
        EngineUnavailable,
        GitSourceError,
        ScanPathError,
    ) as exc:
        raise fail(str(exc)) from exc


def _record(db: Path, result: ScanResult) -> None:
    from datetime import UTC, datetime

    import duckdb

    from stormwatch.events.store import StoreError, connect
    from stormwatch.secrets.exposure import exposure_records, record_exposures

    records = exposure_records(result.findings, datetime.now(UTC).replace(tzinfo=None))
    try:
        with connect(db) as con:
            added = record_exposures(con, records)
    except (StoreError, duckdb.Error) as exc:
        raise fail(f"cannot record exposures in {db}: {exc}") from exc
    err.print(f"exposures: {added} new identifiers recorded in {db}")


def _verified(result: ScanResult, rules: RuleSet) -> ScanResult:
    from stormwatch.secrets.verify import VerifySettings, verify_findings

    err.print(f"verifying {len(result.findings)} findings at the providers' official hosts")
    return replace(result, findings=verify_findings(result.findings, rules, VerifySettings()))
