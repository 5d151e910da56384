"""The one registry of case formats: a name on the command line to the function that makes it.

Heavy or presentation-only modules (Rich, Jinja2 and networkx, stix2) load only when their format
is asked for, so importing the graph package stays cheap and never pulls in Rich.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from stormwatch.graph.json_export import cases_to_json
from stormwatch.graph.markdown import cases_to_markdown
from stormwatch.graph.model import Case


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """Settings every exporter receives; each uses the ones its format needs."""

    tool_version: str
    generated_at: datetime
    title: str = "stormwatch investigation"
    summary: Mapping[str, object] = field(default_factory=dict)


CaseExporter = Callable[[Sequence[Case], ExportOptions], str]


def _json(cases: Sequence[Case], options: ExportOptions) -> str:
    return cases_to_json(cases)


def _markdown(cases: Sequence[Case], options: ExportOptions) -> str:
    return cases_to_markdown(cases)


def _text(cases: Sequence[Case], options: ExportOptions) -> str:
    from stormwatch.graph.text import cases_to_text

    return cases_to_text(cases)


def _html(cases: Sequence[Case], options: ExportOptions) -> str:
    from stormwatch.graph.html import cases_to_html

    return cases_to_html(
        cases,
        title=options.title,
        generated_at=options.generated_at,
        tool_version=options.tool_version,
        summary=options.summary,
    )


def _stix(cases: Sequence[Case], options: ExportOptions) -> str:
    from stormwatch.graph.stix import cases_to_stix

    return cases_to_stix(cases, tool_version=options.tool_version)


EXPORTERS: Mapping[str, CaseExporter] = MappingProxyType(
    {
        "text": _text,
        "json": _json,
        "markdown": _markdown,
        "html": _html,
        "stix": _stix,
    }
)


def export_cases(name: str, cases: Sequence[Case], options: ExportOptions) -> str:
    """``cases`` in the format registered as ``name``; ValueError naming the known formats."""
    try:
        exporter = EXPORTERS[name]
    except KeyError:
        raise ValueError(
            f"unknown case format {name!r}; choose one of {', '.join(EXPORTERS)}"
        ) from None
    return exporter(cases, options)
