"""The terminal view of cases: one Rich panel per case.

The only graph module that imports Rich; the exporter registry loads it lazily. Every log value
goes in as ``Text`` so that Rich never reads markup from attacker-controlled strings.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from stormwatch.graph.model import Case
from stormwatch.graph.presentation import (
    HYPOTHESIS_NOTE,
    entity_digests,
    headline,
    ordered_cases,
    time_text,
)

SEVERITY_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}
STAGE_STYLES = {
    "exposure": "magenta",
    "probe": "yellow",
    "enablement": "blue",
    "persistence": "red",
    "abuse": "bold red",
    "tampering": "bold magenta",
    "other": "dim",
}
TOP_ENTITIES = 5
TEXT_WIDTH = 140


def cases_to_rich(cases: Sequence[Case]) -> RenderableType:
    """A renderable of all cases, most severe first; the CLI prints it on its console."""
    if not cases:
        return Text("No cases.", style="green")
    panels: list[RenderableType] = [Text(HYPOTHESIS_NOTE, style="dim italic")]
    panels.extend(_case_panel(c) for c in ordered_cases(cases))
    return Group(*panels)


def cases_to_text(cases: Sequence[Case], *, width: int = TEXT_WIDTH) -> str:
    """The Rich view rendered to plain text without colour, for files and pipes."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        no_color=True,
        color_system=None,
        markup=False,
        highlight=False,
        emoji=False,
    )
    console.print(cases_to_rich(cases))
    return out.getvalue()


def _case_panel(case: Case) -> Panel:
    title = Text.assemble(
        (f" {case.severity.upper()} ", SEVERITY_STYLES[case.severity]), " ", (case.title, "bold")
    )
    subtitle = Text(
        f"{case.id} · score {case.score:.1f} · "
        f"{time_text(case.first_seen)} – {time_text(case.last_seen)}"
    )
    parts: list[RenderableType] = [_figures(case), _timeline(case)]
    if case.roles:
        parts.append(_roles(case))
    parts.extend([_alerts(case), _entities(case)])
    if case.checklist:
        parts.append(_checklist(case))
    return Panel(Group(*parts), title=title, subtitle=subtitle, title_align="left")


def _figures(case: Case) -> Table:
    table = Table.grid(padding=(0, 3))
    figures = headline(case)
    for figure in figures:
        table.add_column(header=figure.label)
    table.add_row(*(Text(f.label, style="dim") for f in figures))
    table.add_row(*(Text(f.value, style="bold") for f in figures))
    return table


def _timeline(case: Case) -> Table:
    table = Table(title="Timeline", title_justify="left", show_header=False, box=None)
    for entry in case.timeline:
        table.add_row(
            Text(time_text(entry.time), style="dim"),
            Text(entry.stage, style=STAGE_STYLES.get(entry.stage, "")),
            Text(entry.title),
            Text(entry.rule_id or "", style="dim"),
        )
    return table


def _roles(case: Case) -> Table:
    table = Table(title="Role hypotheses", title_justify="left", show_header=True, box=None)
    for header in ("Hypothesis", "Entity", "Confidence", "Because", "Evidence"):
        table.add_column(header, overflow="fold")
    for r in case.roles:
        table.add_row(
            Text(r.role, style="bold"),
            Text(r.entity),
            Text(r.confidence),
            Text("; ".join(r.reasons)),
            Text(", ".join(r.evidence), style="dim"),
        )
    return table


def _alerts(case: Case) -> Table:
    table = Table(title="Alerts", title_justify="left", box=None)
    for header in ("Rule", "Severity", "First seen", "Last seen", "Events", "Techniques"):
        table.add_column(header, overflow="fold", justify="right" if header == "Events" else "left")
    for a in sorted(case.alerts, key=lambda a: (a.first_seen, a.rule_id)):
        table.add_row(
            Text(a.rule_id),
            Text(a.severity, style=SEVERITY_STYLES[a.severity]),
            Text(time_text(a.first_seen)),
            Text(time_text(a.last_seen)),
            Text(f"{a.event_count:,}"),
            Text(", ".join(a.techniques)),
        )
    return table


def _entities(case: Case) -> Table:
    table = Table(title="Entities", title_justify="left", show_header=False, box=None)
    table.add_column(style="dim")
    table.add_column(overflow="fold")
    for digest in entity_digests(case, TOP_ENTITIES):
        table.add_row(Text(digest.heading), Text(digest.text()))
    return table


def _checklist(case: Case) -> Table:
    table = Table(title="Response checklist", title_justify="left", show_header=False, box=None)
    for item in case.checklist:
        table.add_row(
            Text("[ ]"), Text(item.action, style="bold"), Text(item.target), Text(item.reason)
        )
    return table
