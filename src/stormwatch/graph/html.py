"""The HTML report: one self-contained page per run, for reading on screen and on paper.

Everything the page shows is computed here and in drawing.py; the Jinja2 template only lays it out
with autoescaping on, so hostile log values (user agents, resource names) are shown, never run.
The page loads nothing: CSS is inline, the graph is inline SVG, and there is no script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import jinja2

from stormwatch.graph.drawing import KIND_STYLES, ROLE_COLOURS, Drawing, KindStyle, draw_case
from stormwatch.graph.model import AlertRef, Case, Entity, RoleHypothesis
from stormwatch.graph.presentation import (
    HYPOTHESIS_NOTE,
    KIND_TITLES,
    Figure,
    duration_text,
    entities_by_kind,
    evidence_of,
    headline,
    ordered_cases,
    overall_figures,
    roles_by_entity,
    severity_counts,
    time_range,
    time_text,
)

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class EntityGroup:
    """The entities of one kind, for one table."""

    title: str
    style: KindStyle
    entities: tuple[Entity, ...]


@dataclass(frozen=True)
class RoleView:
    """A role hypothesis with the entity it is about, in words."""

    hypothesis: RoleHypothesis
    entity_text: str
    colour: str


@dataclass(frozen=True)
class CaseView:
    """One case as the template shows it."""

    case: Case
    figures: tuple[Figure, ...]
    drawing: Drawing
    alerts: tuple[AlertRef, ...]
    roles: tuple[RoleView, ...]
    entity_roles: Mapping[str, str]  # entity key to its role names, for the tables
    groups: tuple[EntityGroup, ...]
    evidence: tuple[str, ...]


def cases_to_html(
    cases: Sequence[Case],
    *,
    title: str,
    generated_at: datetime,
    tool_version: str,
    summary: Mapping[str, object] | None = None,
) -> str:
    """One self-contained HTML page: a summary, then every case with its graph, story and tables."""
    ordered = ordered_cases(cases)
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            title=title,
            generated_at=generated_at,
            tool_version=tool_version,
            summary=dict(summary or {}),
            severities=severity_counts(ordered),
            time_range=time_range(ordered),
            overall=overall_figures(ordered),
            cases=[case_view(c) for c in ordered],
            hypothesis_note=HYPOTHESIS_NOTE,
        )
    )


def case_view(case: Case) -> CaseView:
    """Everything the template needs for one case, worked out in Python."""
    hypotheses = roles_by_entity(case)
    texts = {e.key: e.label or e.value or "(empty)" for e in case.entities}
    return CaseView(
        case=case,
        figures=headline(case),
        drawing=draw_case(case),
        alerts=tuple(sorted(case.alerts, key=lambda a: (a.first_seen, a.rule_id))),
        roles=tuple(
            RoleView(r, texts.get(r.entity, r.entity), ROLE_COLOURS[r.role]) for r in case.roles
        ),
        entity_roles={k: ", ".join(sorted({r.role for r in v})) for k, v in hypotheses.items()},
        groups=tuple(
            EntityGroup(KIND_TITLES[kind], KIND_STYLES[kind], tuple(items))
            for kind, items in entities_by_kind(case)
        ),
        evidence=tuple(evidence_of(case)),
    )


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("stormwatch.graph", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "j2"), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = time_text
    environment.filters["duration"] = duration_text
    environment.filters["thousands"] = lambda n: f"{n:,}"
    return environment
