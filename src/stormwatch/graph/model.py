"""Cases: alerts and findings that share entities, with their timeline, roles and checklist.

Frozen models without I/O. The case builder (graph/cases.py) makes them from the store; the
exporters (STIX, HTML, JSON, Markdown, text) only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

EntityKind = Literal[
    "credential",  # an access key id, API key fingerprint or resource-key marker
    "exposure",  # where a credential was found exposed: repo/file/commit
    "resource",  # AI resource, endpoint, gateway, AWS account
    "ip",  # a source IP address
    "network",  # a masked or aggregated network (CIDR)
    "user_agent",
    "principal",  # user, role, object id behind calls
    "model",
    "identity",  # an identity created by the attacker (IAM user, access key)
]
Stage = Literal["exposure", "probe", "enablement", "persistence", "abuse", "tampering", "other"]
Role = Literal["key-checker", "proxy", "consumer", "owner", "exposure-source"]
Severity = Literal["low", "medium", "high", "critical"]
Confidence = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class Entity:
    """A node of the case graph."""

    kind: EntityKind
    value: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    count: int = 0
    label: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Edge:
    """Two entities seen together (e.g. a credential used from an IP), with when and how often."""

    source: str  # Entity.key
    target: str  # Entity.key
    relation: str  # used-from, used-by, exposed-at, created, invoked, ...
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    count: int = 0


@dataclass(frozen=True)
class AlertRef:
    """An alert that belongs to the case (a summary of the detect alert)."""

    rule_id: str
    title: str
    severity: Severity
    first_seen: datetime
    last_seen: datetime
    event_count: int
    techniques: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # raw record locations "file:line"
    entities: tuple[str, ...] = ()  # Entity.key values


@dataclass(frozen=True)
class TimelineEntry:
    """One step of the case in time order."""

    time: datetime
    stage: Stage
    title: str
    rule_id: str | None = None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleHypothesis:
    """A hypothesis about the role an entity plays, with the evidence behind it."""

    role: Role
    entity: str  # Entity.key
    confidence: Confidence
    reasons: tuple[str, ...]
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChecklistItem:
    """One response action."""

    action: str  # rotate-key, disable-principal, delete-access-key, block-network, ...
    target: str
    reason: str


@dataclass(frozen=True)
class CaseFigures:
    """Headline figures of a case; None where the data does not say."""

    requests: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    estimated_cost_usd: float | None = None
    exposure_to_first_use_seconds: float | None = None
    duration_seconds: float = 0.0


@dataclass(frozen=True)
class Case:
    """A group of related alerts and findings: what happened, who, from where, in what order."""

    id: str
    title: str
    severity: Severity
    score: float
    first_seen: datetime
    last_seen: datetime
    alerts: tuple[AlertRef, ...]
    entities: tuple[Entity, ...]
    edges: tuple[Edge, ...]
    timeline: tuple[TimelineEntry, ...]
    roles: tuple[RoleHypothesis, ...]
    checklist: tuple[ChecklistItem, ...]
    figures: CaseFigures = field(default_factory=CaseFigures)
