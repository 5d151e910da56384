"""Role hypotheses and the response checklist of a case.

Roles follow the Storm-2139 investigation's terms: infrastructure that validates many keys
(key checker), infrastructure that serves sustained generation on stolen keys (proxy / access
provider), consumers, the owner's own networks (busy with the case's keys before the case), and
the places keys were exposed. They are hypotheses, each with the measurements and record
locations behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from stormwatch.graph.activity import ActivityRow, CreatedIdentity, Exposure, UsualSource
from stormwatch.graph.grouping import StoredAlert, entity_key
from stormwatch.graph.model import ChecklistItem, Confidence, RoleHypothesis


@dataclass(frozen=True)
class RoleThresholds:
    """When a network's behaviour supports a role hypothesis (tunable, passed in)."""

    checker_credentials: int = 3
    checker_failure_ratio: float = 0.5
    proxy_requests: int = 200
    proxy_hours: int = 6
    # days a case's credentials used an address before the case for it to be the owner's
    owner_days: int = 2


@dataclass(frozen=True)
class SourceProfile:
    """What one source address did across the case's activity."""

    key: str
    credentials: int
    requests: int
    failures: int
    hours: int
    evidence: tuple[str, ...]


def source_profiles(rows: Sequence[ActivityRow]) -> list[SourceProfile]:
    """Per source address: distinct credentials, requests, failures, active hours."""
    creds: dict[str, set[str]] = defaultdict(set)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    evidence: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if not row.src_ip:
            continue
        key = entity_key("src_ip", row.src_ip)
        creds[key].add(row.credential_id or "")
        totals[key][0] += row.requests
        totals[key][1] += row.failures
        totals[key][2] = max(totals[key][2], row.hours)
        evidence[key].append(row.evidence)
    return [
        SourceProfile(key, len(creds[key]), t[0], t[1], t[2], tuple(sorted(evidence[key])[:3]))
        for key, t in sorted(totals.items())
    ]


def hypotheses(
    profiles: Sequence[SourceProfile],
    exposures: Sequence[Exposure],
    thresholds: RoleThresholds,
    usual: Sequence[UsualSource] = (),
) -> list[RoleHypothesis]:
    """Role hypotheses for the case's sources and exposures. A source in ``usual`` is the
    owner's (its office or NAT, busy before the case began): never a checker or a proxy."""
    found: list[RoleHypothesis] = []
    owners = {entity_key("src_ip", u.src_ip): u for u in usual}
    for p in profiles:
        ratio = p.failures / p.requests if p.requests else 0.0
        facts: tuple[str, ...] = (
            f"{p.credentials} credentials",
            f"{p.requests} requests, {ratio:.0%} failed",
            f"active in {p.hours} distinct hours",
        )
        owner = owners.get(p.key)
        if owner is not None:
            before = f"used by the case's credentials on {owner.days} days before the case"
            facts += (f"{before}, since {owner.since:%Y-%m-%d %H:%M}",)
            level: Confidence = "high" if owner.days >= 2 * thresholds.owner_days else "medium"
            found.append(RoleHypothesis("owner", p.key, level, facts, p.evidence))
        elif p.credentials >= thresholds.checker_credentials and ratio >= (
            thresholds.checker_failure_ratio
        ):
            level = "high" if p.credentials >= 2 * thresholds.checker_credentials else "medium"
            found.append(RoleHypothesis("key-checker", p.key, level, facts, p.evidence))
        elif p.requests - p.failures >= thresholds.proxy_requests and (
            p.hours >= thresholds.proxy_hours
        ):
            level = "high" if p.hours >= 4 * thresholds.proxy_hours else "medium"
            found.append(RoleHypothesis("proxy", p.key, level, facts, p.evidence))
        elif p.requests > p.failures:
            found.append(RoleHypothesis("consumer", p.key, "low", facts, p.evidence))
    for x in exposures:
        reasons = (
            f"{x.rule_id} found at {x.location}",
            f"exposed at {x.exposed_at:%Y-%m-%d %H:%M}",
        )
        found.append(
            RoleHypothesis(
                "exposure-source", f"exposure:{x.location}", "high", reasons, (x.location,)
            )
        )
    return found


# Alert rules whose subject a responder must undo, by words in the rule id.
_UNDO = (
    ("logging", "re-enable-logging", "invocation or diagnostic logging was disabled or changed"),
    ("diagnostic", "re-enable-logging", "diagnostic settings were deleted"),
    ("guardrail", "restore-guardrail", "a guardrail was deleted"),
    ("rai", "revert-content-filter", "content filtering was weakened"),
    ("content-filter-weak", "revert-content-filter", "content filtering was weakened"),
)


def checklist(
    alerts: Sequence[StoredAlert],
    roles: Sequence[RoleHypothesis],
    identities: Sequence[CreatedIdentity],
    exposures: Sequence[Exposure],
) -> list[ChecklistItem]:
    """What to do, most urgent first: keys, identities, networks, settings, exposures."""
    items: dict[tuple[str, str], ChecklistItem] = {}

    def add(action: str, target: str, reason: str) -> None:
        items.setdefault((action, target), ChecklistItem(action, target, reason))

    for alert in alerts:
        for credential in alert.entities.get("credential_id", ()):
            add("rotate-key", credential, f"used in '{alert.ref.title}'")
    for identity in identities:
        add("delete-identity", identity.name, f"{identity.operation} by {identity.credential_id}")
    for alert in alerts:
        for principal in alert.entities.get("principal", ()):
            if alert.ref.severity in ("high", "critical"):
                add("review-principal", principal, f"acted in '{alert.ref.title}'")
    for role in roles:
        if role.role in ("key-checker", "proxy"):
            add("block-network", role.entity.split(":", 1)[1], f"{role.role} hypothesis")
    for alert in alerts:
        for word, action, reason in _UNDO:
            if word in alert.ref.rule_id:
                resources = (
                    alert.entities.get("resource", ())
                    or alert.entities.get("account", ())
                    or ("the affected account",)
                )
                for resource in resources:
                    add(action, resource, reason)
    for x in exposures:
        add("remove-exposure", x.location, "delete the secret from the file and its history")
    return list(items.values())
