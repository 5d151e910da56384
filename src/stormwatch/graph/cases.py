"""From the store to cases: group alerts, add what the logs say, hypothesise roles, plan response.

``build_cases(con)`` reads the ``alerts`` written by ``stormwatch detect``, the ``events`` and the
``exposures`` recorded by ``stormwatch scan --db`` and returns ``Case`` values, most severe first.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import duckdb

from stormwatch.events.store import StoreError, stored_version
from stormwatch.events.values import country_of
from stormwatch.graph.activity import (
    ActivityRow,
    CreatedIdentity,
    Exposure,
    activity,
    created_identities,
    exposures,
    usual_sources,
)
from stormwatch.graph.grouping import (
    ENTITY_KINDS,
    StoredAlert,
    entity_key,
    group_alerts,
    load_alerts,
)
from stormwatch.graph.model import Case, CaseFigures, Edge, Entity, Stage, TimelineEntry
from stormwatch.graph.prices import PriceTable, load_prices
from stormwatch.graph.roles import RoleThresholds, checklist, hypotheses, source_profiles

SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}
# Detection rule themes (the YAML files' `theme`) → kill-chain stage on the timeline.
THEME_STAGES: Mapping[str, Stage] = {
    "validation": "probe",
    "enablement": "enablement",
    "persistence": "persistence",
    "evasion": "tampering",
    "abuse": "abuse",
    "volume": "abuse",
    "access": "abuse",
}


@dataclass(frozen=True)
class CaseSettings:
    """How alerts are grouped and roles decided (passed in; defaults suit most tenants)."""

    window: timedelta = timedelta(hours=48)
    thresholds: RoleThresholds = field(default_factory=RoleThresholds)
    min_severity: str = "low"


def check_store(con: duckdb.DuckDBPyConnection) -> None:
    """Raise StoreError unless the store has events and alerts to investigate."""
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "events" not in tables:
        raise StoreError("the store has no events: run `stormwatch ingest` first")
    if "alerts" not in tables:
        raise StoreError("the store has no alerts: run `stormwatch detect` first")
    stored_version(con)


def build_cases(
    con: duckdb.DuckDBPyConnection,
    themes: Mapping[str, str],
    settings: CaseSettings | None = None,
) -> tuple[Case, ...]:
    """Cases from the store, most severe and costly first. ``themes`` maps rule id → theme."""
    settings = settings or CaseSettings()
    check_store(con)
    floor = SEVERITY_RANK.get(settings.min_severity, 1)
    alerts = [a for a in load_alerts(con) if SEVERITY_RANK[a.ref.severity] >= floor]
    prices = load_prices()
    cases = [
        _case(con, group, themes, prices, settings)
        for group in group_alerts(alerts, settings.window)
    ]
    return tuple(sorted(cases, key=lambda c: (-c.score, c.first_seen)))


def _case(
    con: duckdb.DuckDBPyConnection,
    group: Sequence[StoredAlert],
    themes: Mapping[str, str],
    prices: PriceTable,
    settings: CaseSettings,
) -> Case:
    credentials = _values(group, "credential_id")
    addresses = _values(group, "src_ip")
    start = min(a.ref.first_seen for a in group)
    end = max(a.ref.last_seen for a in group)
    rows = activity(con, credentials, addresses, start, end)
    made = created_identities(con, credentials)
    found = exposures(con, credentials)
    sources = sorted({r.src_ip for r in rows if r.src_ip})
    usual = usual_sources(con, credentials, sources, start, settings.thresholds.owner_days)
    roles = hypotheses(source_profiles(rows), found, settings.thresholds, usual)
    severity = max((a.ref.severity for a in group), key=SEVERITY_RANK.__getitem__)
    figures = _figures(rows, found, prices, start, end)
    score = SEVERITY_RANK[severity] * 100 + 10 * math.log10(1 + figures.requests)
    score += 10 * math.log10(1 + (figures.estimated_cost_usd or 0.0))
    return Case(
        id="case-" + hashlib.sha256("|".join(sorted(_alert_ids(group))).encode()).hexdigest()[:10],
        title=_title(group, themes, credentials),
        severity=severity,
        score=round(score, 2),
        first_seen=min([start, *(x.exposed_at for x in found)]),
        last_seen=end,
        alerts=tuple(a.ref for a in group),
        entities=tuple(_entities(group, rows, made, found)),
        edges=tuple(_edges(rows, made, found)),
        timeline=tuple(_timeline(group, themes, made, found)),
        roles=tuple(roles),
        checklist=tuple(checklist(group, roles, made, found)),
        figures=figures,
    )


def _values(group: Iterable[StoredAlert], column: str) -> list[str]:
    return sorted({v for a in group for v in a.entities.get(column, ())})


def _alert_ids(group: Iterable[StoredAlert]) -> list[str]:
    # Entities too: one rule can fire for two networks in the same second (distinct cases).
    return [
        f"{a.ref.rule_id}@{a.ref.first_seen.isoformat()}@{','.join(sorted(a.ref.entities))}"
        for a in group
    ]


def _title(group: Sequence[StoredAlert], themes: Mapping[str, str], creds: list[str]) -> str:
    order = ("probe", "enablement", "persistence", "abuse", "tampering")
    stages = {THEME_STAGES.get(themes.get(a.ref.rule_id, ""), "abuse") for a in group}
    steps = [s for s in order if s in stages]
    stages_text = " → ".join(steps).capitalize()
    if not creds:
        return f"{stages_text}: {group[0].ref.title}"
    more = f" (+{len(creds) - 1} more)" if len(creds) > 1 else ""
    return f"{stages_text} with credential {creds[0]}{more}"


def _figures(
    rows: Sequence[ActivityRow],
    found: Sequence[Exposure],
    prices: PriceTable,
    start: datetime,
    end: datetime,
) -> CaseFigures:
    known = [x.first_use - x.exposed_at for x in found if x.first_use is not None]
    # A cost the source reports (gateway spend) replaces the list-price estimate of those calls.
    cost = sum(
        r.cost_usd or prices.estimate(r.model, r.requests - r.failures, r.tokens_in, r.tokens_out)
        for r in rows
    )
    return CaseFigures(
        requests=sum(r.requests for r in rows),
        tokens_in=sum(r.tokens_in for r in rows),
        tokens_out=sum(r.tokens_out for r in rows),
        estimated_cost_usd=round(cost, 2) if rows else None,
        exposure_to_first_use_seconds=min(known).total_seconds() if known else None,
        duration_seconds=(end - start).total_seconds(),
    )


@dataclass
class _Span:
    """When something was first and last seen, and how often (an accumulator)."""

    first: datetime | None = None
    last: datetime | None = None
    count: int = 0

    def see(self, first: datetime | None, last: datetime | None, count: int) -> None:
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last
        self.count += count


def _entities(
    group: Sequence[StoredAlert],
    rows: Sequence[ActivityRow],
    made: Sequence[CreatedIdentity],
    found: Sequence[Exposure],
) -> list[Entity]:
    spans: dict[str, _Span] = defaultdict(_Span)
    for alert in group:
        for key in alert.ref.entities:
            spans[key].see(alert.ref.first_seen, alert.ref.last_seen, 0)
    for row in rows:
        for column in ("credential_id", "src_ip", "user_agent", "model"):
            value = getattr(row, column)
            if value:
                spans[_row_key(column, value)].see(row.first_seen, row.last_seen, row.requests)
    for identity in made:
        spans[f"identity:{identity.name}"].see(identity.time, identity.time, 1)
    for x in found:
        spans[f"exposure:{x.location}"].see(x.exposed_at, x.exposed_at, 1)
    return [_entity(key, span) for key, span in sorted(spans.items())]


def _entity(key: str, span: _Span) -> Entity:
    kind, value = key.split(":", 1)
    entity = Entity(kind, value, span.first, span.last, span.count)  # type: ignore[arg-type]
    country = country_of(value) if kind == "ip" else None
    return replace(entity, label=f"{value} ({country})") if country else entity


def _row_key(column: str, value: str) -> str:
    if column == "model":
        return f"model:{value}"
    return entity_key(column, value) if column in ENTITY_KINDS else f"{column}:{value}"


def _edges(
    rows: Sequence[ActivityRow], made: Sequence[CreatedIdentity], found: Sequence[Exposure]
) -> list[Edge]:
    spans: dict[tuple[str, str, str], _Span] = defaultdict(_Span)
    for row in rows:
        pairs = (
            ("credential_id", row.credential_id, "src_ip", row.src_ip, "used-from"),
            ("src_ip", row.src_ip, "user_agent", row.user_agent, "sent-as"),
            ("credential_id", row.credential_id, "model", row.model, "invoked"),
        )
        for a_col, a, b_col, b, relation in pairs:
            if a and b:
                key = (_row_key(a_col, a), _row_key(b_col, b), relation)
                spans[key].see(row.first_seen, row.last_seen, row.requests)
    edges = [Edge(s, t, r, v.first, v.last, v.count) for (s, t, r), v in sorted(spans.items())]
    edges += [
        Edge(f"credential:{i.credential_id}", f"identity:{i.name}", "created", i.time, i.time, 1)
        for i in made
    ]
    edges += [
        Edge(f"exposure:{x.location}", f"credential:{x.credential_id}", "exposed", x.exposed_at)
        for x in found
    ]
    return edges


def _timeline(
    group: Sequence[StoredAlert],
    themes: Mapping[str, str],
    made: Sequence[CreatedIdentity],
    found: Sequence[Exposure],
) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            x.exposed_at,
            "exposure",
            f"credential exposed at {x.location}",
            x.rule_id,
            (x.location,),
        )
        for x in found
    ]
    entries += [
        TimelineEntry(i.time, "persistence", f"{i.operation} {i.name}", None, (i.evidence,))
        for i in made
    ]
    entries += [
        TimelineEntry(
            a.ref.first_seen,
            THEME_STAGES.get(themes.get(a.ref.rule_id, ""), "other"),
            a.ref.title,
            a.ref.rule_id,
            a.ref.evidence,
        )
        for a in group
    ]
    return sorted(entries, key=lambda e: (e.time, e.stage, e.title))
