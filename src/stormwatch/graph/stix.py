"""The STIX 2.1 export: cases as a bundle that threat-intelligence platforms can import.

Per case: an intrusion set, observables and indicators for the addresses, networks and user agents
seen, sightings of those indicators, infrastructure for addresses with a proxy or key-checker
role hypothesis, the relationships between them, and a report that ties the case together. Every
object carries TLP:AMBER. Credentials, exposures, principals and other entities are never exported:
a bundle is shared outside the team and must not help anyone find or use a key. Nor are the
owner's own addresses (an ``owner`` role hypothesis): they are the victim's, not indicators.

Ids are deterministic (uuid5 over the case id and entity key) so that two exports of the same
cases diff cleanly; observables get STIX's own deterministic ids from their values.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stix2
from stix2.properties import StringProperty

from stormwatch.graph.model import Case, Entity, Role, RoleHypothesis
from stormwatch.graph.presentation import HYPOTHESIS_NOTE, as_utc, headline, roles_by_entity

# Fixed so that ids stay the same from one export to the next and between installations.
_ID_NAMESPACE = uuid.UUID("4f1c1b7e-3d51-5c1c-9a57-5e0a6f2b9d11")
_TOOL_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
MARKING = stix2.TLP_AMBER  # stix2 3.x ships TLP 1.0 marking definitions only
IDENTITY_ID = "identity--6b1e3c5a-2f0d-4c8e-9a4b-7d2e1f0c3b5a"
USER_AGENT_EXTENSION_ID = "extension-definition--0c9a6e4f-5b7d-4e21-8f3a-2d6c1b9e7a40"
_MAX_COUNT = 999_999_999  # the largest sighting count STIX allows
_INFRASTRUCTURE_TYPES: dict[Role, str] = {"proxy": "anonymization", "key-checker": "reconnaissance"}
_INFRASTRUCTURE_NAMES: dict[Role, str] = {"proxy": "Suspected proxy", "key-checker": "Key checker"}
_UA_PATH = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"


def stable_id(kind: str, *parts: str) -> str:
    """A STIX id for ``kind`` derived from ``parts``: the same case gives the same ids every run.

    The uuid5 digest is stamped as version 4 because STIX asks for UUIDv4 on all but
    observables; the bits stay unpredictable to anyone who does not know the parts.
    """
    digest = uuid.uuid5(_ID_NAMESPACE, "|".join((kind, *parts)))
    return f"{kind}--{uuid.UUID(bytes=digest.bytes, version=4)}"


@stix2.CustomObservable(
    "stormwatch-user-agent",
    [("value", StringProperty(required=True))],
    id_contrib_props=["value"],
    extension_name=USER_AGENT_EXTENSION_ID,
)
class UserAgentObservable:
    """A user agent string seen on AI API calls (STIX has no standard object for one alone)."""


@dataclass(frozen=True)
class _Exported:
    """An entity that may leave the organisation: its observable and the pattern that matches it."""

    entity: Entity
    observable: Any
    pattern: str


@dataclass(frozen=True)
class _CaseScope:
    """What every object made for one case shares: the case, its times and its creator."""

    case: Case

    def sdo_id(self, kind: str, *parts: str) -> str:
        return stable_id(kind, self.case.id, *parts)

    def common(self) -> dict[str, Any]:
        created = as_utc(self.case.first_seen)
        return {
            "created_by_ref": IDENTITY_ID,
            "created": created,
            "modified": max(created, as_utc(self.case.last_seen)),
            "object_marking_refs": [MARKING],
        }


def cases_to_stix(cases: Sequence[Case], *, tool_version: str) -> str:
    """A STIX 2.1 bundle (JSON) of ``cases``: TLP:AMBER, ids stable between runs, no credentials."""
    objects: dict[str, Any] = {o.id: o for o in _tool_objects()}
    for case in cases:
        for obj in _case_objects(case, tool_version):
            objects.setdefault(obj.id, obj)  # an address seen in two cases is one observable
    bundle_id = stable_id("bundle", tool_version, *sorted(c.id for c in cases))
    bundle = stix2.Bundle(objects=list(objects.values()), id=bundle_id)
    # stix2's pretty printer is quadratic in the bundle size; indent the compact form instead.
    return json.dumps(json.loads(bundle.serialize()), indent=2) + "\n"


def _tool_objects() -> list[Any]:
    identity = stix2.Identity(
        id=IDENTITY_ID,
        name="stormwatch",
        identity_class="system",
        description="Open-source tool that detects theft and abuse of generative-AI credentials.",
        created=_TOOL_EPOCH,
        modified=_TOOL_EPOCH,
        object_marking_refs=[MARKING],
    )
    extension = stix2.ExtensionDefinition(
        id=USER_AGENT_EXTENSION_ID,
        created_by_ref=IDENTITY_ID,
        created=_TOOL_EPOCH,
        modified=_TOOL_EPOCH,
        name="stormwatch-user-agent",
        description="A user agent string seen on calls to AI services.",
        schema=(
            "Object type stormwatch-user-agent with one required string property, value: "
            "the User-Agent header or SDK identifier exactly as logged. "
            "Its id is derived from value."
        ),
        version="1.0.0",
        extension_types=["new-sco"],
        object_marking_refs=[MARKING],
    )
    return [MARKING, identity, extension]


def _case_objects(case: Case, tool_version: str) -> list[Any]:
    scope = _CaseScope(case)
    intrusion_set = _intrusion_set(scope)
    roles = roles_by_entity(case)
    exported = [
        x
        for x in map(_exported, case.entities)
        if x is not None and not any(r.role == "owner" for r in roles.get(x.entity.key, ()))
    ]
    objects: list[Any] = [intrusion_set]
    for item in exported:
        objects.append(item.observable)
        objects.extend(_indicated(scope, item, intrusion_set.id, roles.get(item.entity.key, [])))
        objects.extend(
            _infrastructure(scope, item, intrusion_set.id, roles.get(item.entity.key, []))
        )
    objects.append(_report(scope, tool_version, [o.id for o in objects], len(exported)))
    return objects


def _intrusion_set(scope: _CaseScope) -> Any:
    case = scope.case
    techniques = sorted({t for alert in case.alerts for t in alert.techniques})
    return stix2.IntrusionSet(
        id=scope.sdo_id("intrusion-set"),
        name=case.title,
        description=(
            f"Activity grouped by stormwatch as case {case.id} "
            f"(severity {case.severity}, score {case.score:g}). {HYPOTHESIS_NOTE}"
        ),
        first_seen=as_utc(case.first_seen),
        last_seen=max(as_utc(case.first_seen), as_utc(case.last_seen)),
        external_references=[_technique_reference(t) for t in techniques] or None,
        **scope.common(),
    )


def _technique_reference(technique: str) -> stix2.ExternalReference:
    source = "mitre-atlas" if technique.startswith("AML.") else "mitre-attack"
    return stix2.ExternalReference(source_name=source, external_id=technique)


def _exported(entity: Entity) -> _Exported | None:
    """The observable and pattern for an address, network or user agent; None for anything else."""
    if entity.kind in ("ip", "network"):
        network = _network_of(entity.value)
        if network is None:
            return None
        kind = "ipv4-addr" if network.version == 4 else "ipv6-addr"
        single = network.prefixlen == network.max_prefixlen
        value = str(network.network_address) if single else str(network)
        operator = "=" if single else "ISSUBSET"
        observable_type = stix2.IPv4Address if network.version == 4 else stix2.IPv6Address
        observable = observable_type(value=value, object_marking_refs=[MARKING])
        return _Exported(entity, observable, f"[{kind}:value {operator} {_literal(value)}]")
    if entity.kind == "user_agent" and entity.value.strip():
        observable = UserAgentObservable(  # type: ignore[call-arg]  # the decorator adds them
            value=entity.value, object_marking_refs=[MARKING]
        )
        return _Exported(entity, observable, f"[{_UA_PATH} = {_literal(entity.value)}]")
    return None


def _network_of(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    text = value.strip()
    if text.endswith(".***"):  # Azure masks the last octet of the caller address
        text = text[: -len("***")] + "0/24"
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _literal(text: str) -> str:
    """A STIX pattern string literal: quotes and backslashes escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _indicated(
    scope: _CaseScope, item: _Exported, intrusion_set_id: str, roles: list[RoleHypothesis]
) -> Iterator[Any]:
    """The indicator for an exported entity, its sighting, and what it indicates."""
    entity, case = item.entity, scope.case
    first, last = _seen(entity, case)
    indicator = stix2.Indicator(
        id=scope.sdo_id("indicator", entity.key),
        name=f"{_kind_name(entity)} {_short(entity.value)} seen in case {case.id}",
        description=_roles_text(roles) or f"Seen {entity.count:,} times in case {case.id}.",
        indicator_types=["malicious-activity" if roles else "anomalous-activity"],
        pattern=item.pattern,
        pattern_type="stix",
        valid_from=first,
        **scope.common(),
    )
    yield indicator
    yield stix2.Sighting(
        id=scope.sdo_id("sighting", entity.key),
        sighting_of_ref=indicator.id,
        first_seen=first,
        last_seen=last,
        count=min(max(entity.count, 0), _MAX_COUNT),
        where_sighted_refs=[IDENTITY_ID],
        **scope.common(),
    )
    yield _relationship(scope, indicator.id, "indicates", intrusion_set_id)


def _infrastructure(
    scope: _CaseScope, item: _Exported, intrusion_set_id: str, roles: list[RoleHypothesis]
) -> Iterator[Any]:
    """Infrastructure for an address with a proxy or key-checker hypothesis, and its links."""
    hypotheses = [r for r in roles if r.role in _INFRASTRUCTURE_TYPES]
    if not hypotheses or item.entity.kind not in ("ip", "network"):
        return
    first, last = _seen(item.entity, scope.case)
    names = sorted({_INFRASTRUCTURE_NAMES[r.role] for r in hypotheses})
    infrastructure = stix2.Infrastructure(
        id=scope.sdo_id("infrastructure", item.entity.key),
        name=f"{' / '.join(names)} {item.observable.value} (hypothesis)",
        description=_roles_text(hypotheses),
        infrastructure_types=sorted({_INFRASTRUCTURE_TYPES[r.role] for r in hypotheses}),
        first_seen=first,
        last_seen=last,
        **scope.common(),
    )
    yield infrastructure
    yield _relationship(scope, intrusion_set_id, "uses", infrastructure.id)
    yield _relationship(scope, infrastructure.id, "consists-of", item.observable.id)


def _relationship(scope: _CaseScope, source: str, relation: str, target: str) -> Any:
    return stix2.Relationship(
        id=scope.sdo_id("relationship", source, relation, target),
        source_ref=source,
        relationship_type=relation,
        target_ref=target,
        **scope.common(),
    )


def _report(scope: _CaseScope, tool_version: str, refs: list[str], exported: int) -> Any:
    case = scope.case
    figures = "; ".join(f"{f.label}: {f.value}" for f in headline(case))
    alerts = "; ".join(f"{a.rule_id} ({a.severity}, {a.event_count:,} events)" for a in case.alerts)
    left_out = len(case.entities) - exported
    return stix2.Report(
        id=scope.sdo_id("report"),
        name=f"stormwatch case {case.id}: {case.title}",
        description=" ".join(
            (
                f"Severity {case.severity}, score {case.score:g}. {figures}.",
                f"Alerts: {alerts or 'none'}.",
                HYPOTHESIS_NOTE,
                f"{left_out:,} other entities (credentials, exposures, principals, resources,",
                "models, empty user agents) are kept out of this bundle.",
                f"Generated by stormwatch {tool_version}.",
            )
        ),
        report_types=["threat-report"],
        published=max(as_utc(case.first_seen), as_utc(case.last_seen)),
        object_refs=refs,
        **scope.common(),
    )


def _seen(entity: Entity, case: Case) -> tuple[datetime, datetime]:
    """First and last sighting of an entity, falling back on the case's, never out of order."""
    first = as_utc(entity.first_seen or case.first_seen)
    last = as_utc(entity.last_seen or case.last_seen)
    return first, max(first, last)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind_name(entity: Entity) -> str:
    return {"ip": "Address", "network": "Network", "user_agent": "User agent"}[entity.kind]


def _roles_text(roles: Sequence[RoleHypothesis]) -> str:
    return " ".join(
        f"Hypothesis: {r.role} ({r.confidence} confidence) because {'; '.join(r.reasons)}."
        + (f" Evidence: {', '.join(r.evidence)}." if r.evidence else "")
        for r in roles
    )
