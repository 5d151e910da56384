"""Alerts that share entities within a time window become one group (a future case).

The alert-entity graph is a networkx graph; two alerts are joined when they name the same
credential, address or principal and lie within ``window`` of each other, so an IP that
reappears a month later starts a new case instead of merging unrelated incidents. Alerts of one
rule whose addresses share a /24 and whose spans overlap are joined too: one operator sweeping
keys from neighbouring addresses at the same time. (Any two alerts sharing a /24 would join
unrelated playbooks.) An alert that names only a resource joins the nearest alert on it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import networkx as nx

from stormwatch.graph.model import AlertRef, EntityKind, Severity

# Alert entity columns → graph entity kinds; "account" is too broad to link alerts on.
ENTITY_KINDS: dict[str, EntityKind] = {
    "credential_id": "credential",
    "src_ip": "ip",
    "resource": "resource",
    "principal": "principal",
    "user_agent": "user_agent",
    "account": "resource",
}
# Who and where: alerts naming one of these are joined on it. A resource is shared by every
# caller (a gateway's upstream by every key), so it only attaches an alert that names nothing
# else (a volume spike, tampering seen on the resource alone) to the nearest alert on it.
LINKING = frozenset({"credential_id", "src_ip", "principal"})


@dataclass(frozen=True)
class StoredAlert:
    """An alert as stored by ``stormwatch detect``, with its entities by column."""

    ref: AlertRef
    entities: dict[str, tuple[str, ...]]


def entity_key(column: str, value: str) -> str:
    """The graph key of an alert entity (IPs with a mask are networks)."""
    kind = ENTITY_KINDS.get(column, "resource")
    if kind == "ip" and "/" in value:
        kind = "network"
    return f"{kind}:{value}"


def load_alerts(con: duckdb.DuckDBPyConnection) -> list[StoredAlert]:
    """Every stored alert, oldest first."""
    rows = con.execute(
        "SELECT rule_id, title, severity, first_seen, last_seen, entities, event_count, "
        "evidence, techniques FROM alerts ORDER BY first_seen, rule_id"
    ).fetchall()
    return [_stored(row) for row in rows]


def _stored(row: tuple[Any, ...]) -> StoredAlert:
    rule_id, title, severity, first, last, entities, count, evidence, techniques = row
    by_column = {k: tuple(str(v) for v in vs if v) for k, vs in json.loads(entities).items()}
    keys = tuple(entity_key(c, v) for c, vs in by_column.items() for v in vs)
    ref = AlertRef(
        rule_id=rule_id,
        title=title,
        severity=_severity(severity),
        first_seen=first,
        last_seen=last,
        event_count=int(count),
        techniques=tuple(json.loads(techniques)),
        evidence=tuple(json.loads(evidence)),
        entities=keys,
    )
    return StoredAlert(ref, by_column)


def _severity(value: str) -> Severity:
    if value not in ("low", "medium", "high", "critical"):
        return "medium"
    return value  # type: ignore[return-value]


def group_alerts(alerts: Sequence[StoredAlert], window: timedelta) -> list[list[StoredAlert]]:
    """Connected groups of alerts that share a linking entity within ``window``."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(alerts)))
    by_entity: dict[str, list[int]] = {}
    by_sweep: dict[tuple[str, str], list[int]] = {}  # (rule, /24) -> alerts
    for index, alert in enumerate(alerts):
        for column, values in alert.entities.items():
            if column in LINKING:
                for value in values:
                    by_entity.setdefault(entity_key(column, value), []).append(index)
        for network in {_net24(value) for value in alert.entities.get("src_ip", ())}:
            if network is not None:
                by_sweep.setdefault((alert.ref.rule_id, network), []).append(index)
    for members in by_entity.values():
        _chain(graph, alerts, members, window)
    for members in by_sweep.values():
        _chain(graph, alerts, members, timedelta(0))  # spans must overlap
    _attach_by_resource(graph, alerts, window)
    groups = [sorted(component) for component in nx.connected_components(graph)]
    return [[alerts[i] for i in group] for group in sorted(groups)]


def _attach_by_resource(graph: nx.Graph, alerts: Sequence[StoredAlert], window: timedelta) -> None:
    """Join each alert that names no linking entity, per resource it names, to the one alert on
    that resource nearest in time (within ``window``): one edge each, so it never bridges two
    incidents that only share the resource."""
    by_resource: dict[str, list[int]] = {}
    for index, alert in enumerate(alerts):
        for value in alert.entities.get("resource", ()):
            by_resource.setdefault(value, []).append(index)
    for members in by_resource.values():
        for index in members:
            if any(alerts[index].entities.get(column) for column in LINKING):
                continue
            ref = alerts[index].ref
            others = ((_gap(ref, alerts[o].ref), o) for o in members if o != index)
            near = min(others, default=None)
            if near is not None and near[0] <= window:
                graph.add_edge(index, near[1])


def _gap(a: AlertRef, b: AlertRef) -> timedelta:
    """The time between two alerts' spans (zero when they overlap)."""
    return max(a.first_seen - b.last_seen, b.first_seen - a.last_seen, timedelta(0))


def _chain(
    graph: nx.Graph, alerts: Sequence[StoredAlert], members: list[int], gap: timedelta
) -> None:
    """Join each alert of ``members`` to one before it whose span reaches within ``gap``."""
    members.sort(key=lambda i: alerts[i].ref.first_seen)
    reach: datetime | None = None
    previous = -1
    for index in members:
        ref = alerts[index].ref
        if previous >= 0 and reach is not None and ref.first_seen - reach <= gap:
            graph.add_edge(previous, index)
        if reach is None or ref.last_seen > reach:
            reach, previous = ref.last_seen, index


def _net24(value: str) -> str | None:
    """The /24 of an IPv4 address or masked network (``203.0.113.0/24``); None otherwise."""
    parts = value.split("/")[0].split(".")
    return ".".join(parts[:3]) if len(parts) == 4 and all(p.isdigit() for p in parts) else None
