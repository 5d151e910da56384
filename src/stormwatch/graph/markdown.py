"""The Markdown export: one section per case, ready to paste into a ticket.

Log values are attacker-controlled, so they are written as code spans (no links, no HTML, no
formatting tricks) and table cells never break out of their row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from stormwatch.graph.model import Case
from stormwatch.graph.presentation import (
    HYPOTHESIS_NOTE,
    entity_digests,
    headline,
    ordered_cases,
    time_text,
)

TOP_ENTITIES = 10


_ESCAPED = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~#"})


def code(value: str, *, in_table: bool = False) -> str:
    """``value`` as an inline code span that no backtick or newline inside can break."""
    text = " ".join(value.split()) or "(empty)"
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    span = f"{fence}{pad}{text}{pad}{fence}"
    return span.replace("|", "\\|") if in_table else span  # GFM splits cells on any pipe


def cell(text: str) -> str:
    """Plain text on one line with the characters that make links, HTML or emphasis escaped."""
    return " ".join(text.split()).translate(_ESCAPED)


def cases_to_markdown(cases: Sequence[Case]) -> str:
    """All cases, most severe first, each with figures, timeline, roles and a checklist."""
    if not cases:
        return "# stormwatch cases\n\nNo cases.\n"
    blocks = ["# stormwatch cases", f"_{HYPOTHESIS_NOTE}_"]
    blocks.extend("\n".join(_case_lines(c)) for c in ordered_cases(cases))
    return "\n\n".join(blocks) + "\n"


def _case_lines(case: Case) -> Iterator[str]:
    yield f"## {cell(case.title)}"
    yield ""
    yield (
        f"**Severity:** {case.severity} · **Score:** {case.score:.1f} · **Case:** {code(case.id)}"
        f" · {time_text(case.first_seen)} – {time_text(case.last_seen)}"
    )
    yield ""
    yield "| Figure | Value |"
    yield "| --- | --- |"
    yield from (f"| {f.label} | {f.value} |" for f in headline(case))
    yield from _section("Timeline", _timeline(case))
    yield from _section("Role hypotheses", _roles(case))
    yield from _section("Alerts", _alerts(case))
    yield from _section("Key entities", _entities(case))
    yield from _section("Response checklist", _checklist(case))


def _section(title: str, lines: Iterator[str]) -> Iterator[str]:
    body = list(lines)
    if body:
        yield ""
        yield f"### {title}"
        yield ""
        yield from body


def _timeline(case: Case) -> Iterator[str]:
    for entry in case.timeline:
        rule = f" ({code(entry.rule_id)})" if entry.rule_id else ""
        yield f"- {time_text(entry.time)} **{entry.stage}**: {cell(entry.title)}{rule}"


def _roles(case: Case) -> Iterator[str]:
    for r in case.roles:
        evidence = f" Evidence: {', '.join(code(e) for e in r.evidence)}." if r.evidence else ""
        reasons = "; ".join(cell(reason) for reason in r.reasons)
        yield (
            f"- Hypothesis ({r.confidence} confidence): {code(r.entity)} as **{r.role}**,"
            f" because {reasons}.{evidence}"
        )


def _alerts(case: Case) -> Iterator[str]:
    if not case.alerts:
        return
    yield "| Rule | Severity | First seen | Last seen | Events | Techniques |"
    yield "| --- | --- | --- | --- | ---: | --- |"
    for a in sorted(case.alerts, key=lambda a: (a.first_seen, a.rule_id)):
        yield (
            f"| {code(a.rule_id, in_table=True)} {cell(a.title)} | {a.severity} "
            f"| {time_text(a.first_seen)} | {time_text(a.last_seen)} | {a.event_count:,} "
            f"| {cell(', '.join(a.techniques))} |"
        )


def _entities(case: Case) -> Iterator[str]:
    for digest in entity_digests(case, TOP_ENTITIES):
        yield f"- {digest.heading}: {digest.text(code)}"


def _checklist(case: Case) -> Iterator[str]:
    for item in case.checklist:
        yield f"- [ ] **{item.action}** {code(item.target)}: {cell(item.reason)}"
