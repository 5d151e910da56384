"""How case values read to a person: times, durations, money, headline figures, groupings.

Shared by the HTML, Markdown and text exporters so that every format says the same thing in the
same words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from stormwatch.graph.model import Case, Entity, EntityKind, RoleHypothesis, Severity

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
# Report order of entity kinds: from where the key leaked, through who used it, to what it reached.
ENTITY_KINDS: tuple[EntityKind, ...] = (
    "exposure",
    "credential",
    "identity",
    "principal",
    "ip",
    "network",
    "user_agent",
    "resource",
    "model",
)
KIND_TITLES: dict[EntityKind, str] = {
    "exposure": "Exposures",
    "credential": "Credentials",
    "identity": "Identities created",
    "principal": "Principals",
    "ip": "IP addresses",
    "network": "Networks",
    "user_agent": "User agents",
    "resource": "Resources",
    "model": "Models",
}
HYPOTHESIS_NOTE = (
    "Roles are hypotheses drawn from the logs, not attributions: "
    "check the evidence before acting on them."
)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already, as the store keeps them."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, the form machine readers expect."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def time_text(moment: datetime | None) -> str:
    """A timestamp for people: ``2025-03-01 12:00:05 UTC``; an em dash when unknown."""
    if moment is None:
        return "—"
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_text(seconds: float | None) -> str:
    """A duration in the two largest units that matter (``3 h 20 min``); ``unknown`` for None."""
    if seconds is None:
        return "unknown"
    whole = round(max(seconds, 0.0))
    if whole < 120:
        return f"{whole} s"
    minutes, _ = divmod(whole, 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def cost_text(usd: float | None) -> str:
    """Estimated cost in dollars, or ``not estimated`` when no price was known."""
    return "not estimated" if usd is None else f"${usd:,.2f}"


@dataclass(frozen=True)
class Figure:
    """One headline figure: what it is and its value in words."""

    label: str
    value: str


def headline(case: Case) -> tuple[Figure, ...]:
    """The figures a responder reads first, in the order they tell the story."""
    f = case.figures
    return (
        Figure("Exposure to first use", duration_text(f.exposure_to_first_use_seconds)),
        Figure("Duration", duration_text(f.duration_seconds)),
        Figure("Requests", f"{f.requests:,}"),
        Figure("Tokens in / out", f"{f.tokens_in:,} / {f.tokens_out:,}"),
        Figure("Estimated cost", cost_text(f.estimated_cost_usd)),
    )


def severity_counts(cases: Iterable[Case]) -> dict[Severity, int]:
    """Number of cases per severity, most severe first, zeros included."""
    counts = Counter(c.severity for c in cases)
    return {s: counts.get(s, 0) for s in SEVERITIES}


def ordered_cases(cases: Iterable[Case]) -> list[Case]:
    """Cases most severe first, then by score, then by first sighting: the triage order."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(cases, key=lambda c: (rank[c.severity], -c.score, as_utc(c.first_seen), c.id))


def time_range(cases: Sequence[Case]) -> tuple[datetime, datetime] | None:
    """Earliest first sighting and latest last sighting over all cases; None without cases."""
    if not cases:
        return None
    return (
        min(as_utc(c.first_seen) for c in cases),
        max(as_utc(c.last_seen) for c in cases),
    )


def overall_figures(cases: Sequence[Case]) -> tuple[Figure, ...]:
    """Totals over all cases for the summary at the top of a report."""
    costs = [
        c.figures.estimated_cost_usd for c in cases if c.figures.estimated_cost_usd is not None
    ]
    first_uses = [
        c.figures.exposure_to_first_use_seconds
        for c in cases
        if c.figures.exposure_to_first_use_seconds is not None
    ]
    return (
        Figure("Cases", f"{len(cases):,}"),
        Figure("Requests", f"{sum(c.figures.requests for c in cases):,}"),
        Figure(
            "Tokens in / out",
            f"{sum(c.figures.tokens_in for c in cases):,} / "
            f"{sum(c.figures.tokens_out for c in cases):,}",
        ),
        Figure("Estimated cost", cost_text(sum(costs)) if costs else cost_text(None)),
        Figure("Fastest exposure to use", duration_text(min(first_uses) if first_uses else None)),
    )


def entities_by_kind(case: Case) -> list[tuple[EntityKind, list[Entity]]]:
    """Entities grouped by kind in report order, each group busiest first."""
    groups: dict[EntityKind, list[Entity]] = {k: [] for k in ENTITY_KINDS}
    for entity in case.entities:
        groups.setdefault(entity.kind, []).append(entity)
    return [
        (kind, sorted(items, key=lambda e: (-e.count, e.value)))
        for kind, items in groups.items()
        if items
    ]


@dataclass(frozen=True)
class EntityDigest:
    """The busiest entities of one kind, for views too small to list them all."""

    heading: str  # "IP addresses (3,000)"
    values: tuple[str, ...]
    more: int  # how many were left out

    def text(self, show: Callable[[str], str] = str) -> str:
        """The values shown with ``show``, and how many more there are."""
        listed = ", ".join(show(v or "(empty)") for v in self.values)
        return f"{listed} and {self.more:,} more" if self.more else listed


def entity_digests(case: Case, limit: int) -> list[EntityDigest]:
    """Per kind, in report order: a heading with the count and the ``limit`` busiest values."""
    return [
        EntityDigest(
            f"{KIND_TITLES[kind]} ({len(items):,})",
            tuple(e.value for e in items[:limit]),
            max(len(items) - limit, 0),
        )
        for kind, items in entities_by_kind(case)
    ]


def roles_by_entity(case: Case) -> dict[str, list[RoleHypothesis]]:
    """Role hypotheses keyed by the entity they are about."""
    found: dict[str, list[RoleHypothesis]] = {}
    for hypothesis in case.roles:
        found.setdefault(hypothesis.entity, []).append(hypothesis)
    return found


def evidence_of(case: Case) -> list[str]:
    """Every raw record location the case rests on, once each, in order."""
    locations: set[str] = set()
    for alert in case.alerts:
        locations.update(alert.evidence)
    for entry in case.timeline:
        locations.update(entry.evidence)
    for hypothesis in case.roles:
        locations.update(hypothesis.evidence)
    return sorted(locations)
