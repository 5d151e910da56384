"""`stormwatch simulate`: write realistic raw logs with labelled attack playbooks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from stormwatch.cli.console import fail
from stormwatch.simulate import SCENARIOS, UnknownScenarioError
from stormwatch.simulate import simulate as run_simulation


def simulate(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the logs into.")],
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            help=f"Attack playbook to inject (repeatable; default all): {', '.join(SCENARIOS)}.",
        ),
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Days of logs.")] = 7,
    scale: Annotated[
        float, typer.Option("--scale", min=0.0, help="Multiplier of benign volume.")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same logs).")] = 7,
) -> None:
    """Simulate a fictional organisation's AI-service logs with injected LLMjacking playbooks."""
    console = Console()
    try:
        summary = run_simulation(
            out, scenarios=scenario or SCENARIOS, days=days, scale=scale, seed=seed
        )
    except UnknownScenarioError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from exc
    table = Table(title=f"Simulated {days} day(s) into {out}")
    table.add_column("format")
    table.add_column("events", justify="right")
    for fmt, count in summary.counts.items():
        table.add_row(fmt, f"{count:,}")
    table.add_row("[bold]total[/bold]", f"[bold]{summary.total_events:,}[/bold]")
    console.print(table)
    console.print(
        f"{len(summary.files)} files; playbooks: "
        f"{', '.join(label.scenario for label in summary.attacks) or 'none'}"
    )
    for key_id in summary.canary_keys:
        console.print(f"canary key: {key_id}")
    for credential in summary.exposed_credentials:
        console.print(f"exposed credential: {credential}")
    console.print(f"labels: {summary.labels_file}")
