"""`stormwatch detect`, `stormwatch canary` and `stormwatch rules`: thin wrappers over detect."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.table import Table

from stormwatch.cli.console import fail, open_output
from stormwatch.cli.spark_cmd import (
    ConfOption,
    EngineOption,
    MasterOption,
    check_engine,
    detect_on_spark,
    spark_settings,
)

if TYPE_CHECKING:  # the detection stack (duckdb, sqlglot) loads only when a command runs
    import duckdb

    from stormwatch.detect import Alert

SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
DbOption = Annotated[
    Path, typer.Option("--db", help="DuckDB store written by `stormwatch ingest`.")
]


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise fail(f"--{name}: {value!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is not None:  # the store holds naive UTC
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _render_text(alerts: tuple[Alert, ...], console: Console) -> None:
    if not alerts:
        console.print("No alerts.")
        return
    table = Table(title=f"{len(alerts)} alert(s)")
    for column in ("severity", "rule", "first seen", "last seen", "entities", "events"):
        table.add_column(column)
    for a in alerts:
        entities = "\n".join(f"{k}={', '.join(v)}" for k, v in a.entities.items())
        table.add_row(
            f"[{SEVERITY_STYLE[a.severity]}]{a.severity}[/]",
            a.rule_id,
            f"{a.first_seen:%Y-%m-%d %H:%M:%S}",
            f"{a.last_seen:%Y-%m-%d %H:%M:%S}",
            entities,
            str(a.event_count),
        )
    console.print(table)
    for a in alerts:
        console.print(f"\n[bold]{a.title}[/bold] ({a.rule_id}, {a.severity})")
        console.print(f"  techniques: {', '.join(a.techniques)}")
        if a.extra:
            console.print(f"  detail: {a.extra}")
        console.print(f"  evidence: {', '.join(a.evidence) or '-'}")
        console.print(f"  advice: {a.advice}")


def detect(
    db: DbOption = Path("stormwatch.duckdb"),
    since: Annotated[str | None, typer.Option(help="Keep alerts ending at or after (ISO).")] = None,
    until: Annotated[str | None, typer.Option(help="Ignore events at or after (ISO).")] = None,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")
    ] = None,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="Extra rule file or folder (repeatable).")
    ] = None,
    ip_list: Annotated[
        Path | None, typer.Option("--ip-list", help="Networks to flag: 'NETWORK [LABEL]' lines.")
    ] = None,
    allowlist: Annotated[
        Path | None, typer.Option(help="YAML of trusted principals, src_ips, user_agents.")
    ] = None,
    min_severity: Annotated[str, typer.Option(help="low, medium, high or critical.")] = "low",
    memory_limit: Annotated[str, typer.Option(help="DuckDB memory cap, e.g. 3GB.")] = "3GB",
    engine: EngineOption = "duckdb",
    input: Annotated[
        str | None,
        typer.Option("--input", help="With --engine spark: normalized Parquet events (URI)."),
    ] = None,
    master: MasterOption = None,
    conf: ConfOption = None,
) -> None:
    """Run detection rules over the event store (or, with --engine spark, over Parquet).
    Exit 0: no alerts, 1: alerts, 2: error."""
    import duckdb

    from stormwatch.detect import (
        SEVERITIES,
        Allowlist,
        DetectionError,
        DetectionSettings,
        RuleLoadError,
        load_allowlist,
        load_ip_list,
        load_rules,
        run_detection,
    )
    from stormwatch.events.store import StoreError, connect, prepare_schema, stored_version

    if format not in ("text", "json"):
        raise fail("--format must be text or json")
    if min_severity not in SEVERITIES:
        raise fail(f"--min-severity must be one of {', '.join(SEVERITIES)}")
    check_engine(engine)
    if (engine == "spark") != (input is not None):
        raise fail("--input goes with --engine spark, and --engine spark needs --input")
    if engine == "duckdb" and not db.exists():
        raise fail(f"no event store at {db}: run `stormwatch ingest --db {db} ...` first")
    try:
        loaded = load_rules(rules or ())
        trusted = load_allowlist(allowlist) if allowlist else None
    except (RuleLoadError, ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    settings = DetectionSettings(min_severity=min_severity, allowlist=trusted or Allowlist())
    window = (_time(since, "since"), _time(until, "until"))
    if window[0] is not None and window[1] is not None and window[1] <= window[0]:
        raise fail(f"--until ({until}) must be later than --since ({since})")
    stream = open_output(output)
    if input is not None:
        spark = spark_settings(master, conf)
        alerts = detect_on_spark(input, db, loaded, settings, ip_list, window, spark)
        _write(alerts, format, stream)
        raise typer.Exit(1 if alerts else 0)
    try:
        # DuckDB's default cache takes 80% of RAM; a cap keeps detection within a laptop's memory
        # (it spills to disk past it) at a small cost in time.
        with connect(db, memory_limit=memory_limit) as con:
            if stored_version(con) is not None:  # a store: an older layout is migrated
                prepare_schema(con)
            if ip_list is not None:
                load_ip_list(con, ip_list)
            alerts = run_detection(con, loaded, settings, *window)
    except (DetectionError, StoreError, duckdb.Error, ValueError, OSError) as exc:
        raise fail(str(exc)) from exc
    _write(alerts, format, stream)
    raise typer.Exit(1 if alerts else 0)


def _write(alerts: tuple[Alert, ...], format: str, stream: TextIO | None) -> None:
    """The alerts to ``stream`` (opened by :func:`open_output`, closed here), else stdout."""
    if format == "json":
        text = json.dumps([a.to_dict() for a in alerts], indent=2)
        if stream is None:
            typer.echo(text)
            return
        with stream:
            stream.write(text + "\n")
        return
    if stream is None:
        _render_text(alerts, Console())
        return
    with stream:
        _render_text(alerts, Console(file=stream, width=160, no_color=True))


canary_app = typer.Typer(help="Register canary credentials whose any use is an alert.")


def _connect(db: Path, create: bool) -> duckdb.DuckDBPyConnection:
    import duckdb

    if not create and not db.exists():
        raise fail(f"no store at {db}")
    from stormwatch.events.store import StoreError, connect

    try:
        return connect(db)
    except (StoreError, duckdb.Error) as exc:
        raise fail(str(exc)) from exc


@canary_app.command("add")
def canary_add(
    credential_id: Annotated[
        str,
        typer.Argument(
            help="Key id or key hash of the canary; a LiteLLM key's hash or the sk-... key "
            "itself (hashed, never stored) is registered as litellm:<hash>."
        ),
    ],
    label: Annotated[str, typer.Option(help="Where the canary is planted.")],
    db: DbOption = Path("stormwatch.duckdb"),
) -> None:
    """Register a canary credential."""
    from stormwatch.detect import add_canary, canary_credential_id

    if not credential_id.strip():
        raise fail("the canary's key id or hash is empty")
    registered = canary_credential_id(credential_id)
    with _connect(db, create=True) as con:
        add_canary(con, registered, label)
    typer.echo(f"canary {registered} registered ({label})")


@canary_app.command("list")
def canary_list(
    db: DbOption = Path("stormwatch.duckdb"),
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """List registered canary credentials."""
    from stormwatch.detect import list_canaries

    with _connect(db, create=False) as con:
        canaries = list_canaries(con)
    if format == "json":
        rows: list[dict[str, Any]] = [
            {"credential_id": c.credential_id, "label": c.label, "added_at": c.added_at.isoformat()}
            for c in canaries
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    for c in canaries:
        typer.echo(f"{c.credential_id}\t{c.label}\t{c.added_at:%Y-%m-%d %H:%M:%S}")


@canary_app.command("remove")
def canary_remove(
    credential_id: Annotated[str, typer.Argument(help="The canary to unregister.")],
    db: DbOption = Path("stormwatch.duckdb"),
) -> None:
    """Unregister a canary credential (exit 1 when it was not registered)."""
    from stormwatch.detect import canary_credential_id, remove_canary

    registered = canary_credential_id(credential_id)
    with _connect(db, create=False) as con:
        removed = remove_canary(con, registered)
    typer.echo(f"canary {registered} {'removed' if removed else 'was not registered'}")
    raise typer.Exit(0 if removed else 1)


def rules_list(
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="Extra rule file or folder (repeatable).")
    ] = None,
) -> None:
    """List detection rules (id, severity, analytic, techniques)."""
    from stormwatch.detect import RuleLoadError, load_rules

    try:
        loaded = load_rules(rules or ())
    except (RuleLoadError, OSError) as exc:
        raise fail(str(exc)) from exc
    table = Table(title=f"{len(loaded)} rule(s)")
    for column in ("id", "severity", "analytic", "techniques", "title"):
        table.add_column(column)
    for r in loaded:
        table.add_row(r.id, r.severity, r.analytic_type, ", ".join(r.techniques), r.title)
    Console(width=200).print(table)
