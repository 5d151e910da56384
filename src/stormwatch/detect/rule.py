"""The typed detection-rule model: what a YAML rule file says, after validation.

A rule holds metadata (id, severity, techniques, advice), tunable parameters with defaults and
exactly one analytic: a raw ``query`` or one of the typed analytics (``threshold``,
``first_seen``, ``deviation``, ``sequence``). Numbers in an analytic may be a literal or a
``"{param}"`` reference; SQL fragments may hold ``{param}`` placeholders. Both are resolved when
the rule is compiled (see ``compiler``), so one rule serves many tunings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
SEVERITY_RANK: Mapping[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}

# Entity columns an alert can key on; every compiled query returns all of them (NULL when unused).
ENTITY_COLUMNS: tuple[str, ...] = (
    "credential_id",
    "src_ip",
    "resource",
    "principal",
    "user_agent",
    "account",
)

ParamValue = int | float | str | bool | tuple[int | float | str | bool, ...]
# A number in an analytic: a literal, or the name of a parameter written as "{name}".
Number = int | float | str


@dataclass(frozen=True)
class RuleIssue:
    """One problem found while loading rules, with where it is."""

    file: str
    rule_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        rule = f" rule {self.rule_id}" if self.rule_id else ""
        return f"{self.file}:{rule} {self.field}: {self.message}"


@dataclass(frozen=True)
class Aggregate:
    """What a window measures: ``count`` rows, ``distinct`` values of ``expr``, ``sum`` of it."""

    kind: Literal["count", "distinct", "sum"] = "count"
    expr: str | None = None


@dataclass(frozen=True)
class AlsoCondition:
    """A threshold's second condition: at least ``min`` of the window's events match ``filter``
    and, when ``share`` is set, at least that fraction of them (0 to 1): a burst relative to the
    entity's own volume, so busy benign networks do not cross an absolute count."""

    filter: str
    min: Number
    share: Number = 0


@dataclass(frozen=True)
class ThresholdAnalytic:
    """Group matching events by entities in a time window; alert when the aggregate is ≥ ``min``.

    ``sliding`` windows hop by half a window, so any burst shorter than ``window / 2`` seconds
    lands whole in one window; ``tumbling`` windows do not overlap.
    """

    group_by: tuple[str, ...]
    filter: str
    window: Number
    min: Number
    aggregate: Aggregate = Aggregate()
    window_kind: Literal["tumbling", "sliding"] = "tumbling"
    also: AlsoCondition | None = None


@dataclass(frozen=True)
class FirstSeenAnalytic:
    """A value (network, user agent, model, ...) new for a key versus the key's own history.

    The key needs ``baseline_days`` of history and ``min_baseline_events`` events before the
    value first appears; the value's events must satisfy ``risk`` at least once. A value still in
    use on ``persist_days`` distinct days or more is downgraded to ``persist_severity``: a new
    office network that stays is not an intruder.

    Logs kept for a few days only, or logging switched on lately, do not silence the rule: a
    key already active on the store's first day (its age unknown) needs only the days the store
    holds before the value, at least ``SHORT_BASELINE_DAYS``, and such alerts are at most
    medium. With ``shared_by`` > 0, a value that as many keys or more use with success, in any
    source's events (the office's or the VPN's network, which all the staff's sessions share,
    whatever service they call; not a password spray's, whose logins fail), is
    ``shared_severity`` at most.
    """

    key: tuple[str, ...]
    value: str
    filter: str = "TRUE"
    risk: str = "TRUE"
    baseline_days: Number = 7
    min_baseline_events: Number = 20
    persist_days: Number = 5
    persist_severity: Severity = "low"
    shared_by: Number = 0
    shared_severity: Severity = "medium"


@dataclass(frozen=True)
class DeviationAnalytic:
    """A bucket's aggregate against the same key's preceding buckets (its own baseline).

    Alert when the value is ≥ ``factor`` × the baseline ``statistic`` (mean or max over the
    ``baseline_buckets`` preceding buckets that had activity) and ≥ ``min_value``, and the key has
    at least ``min_baseline_buckets`` active buckets of history.
    """

    key: tuple[str, ...]
    filter: str
    aggregate: Aggregate
    bucket: Number = 3600
    factor: Number = 5
    min_value: Number = 1
    statistic: Literal["mean", "max"] = "mean"
    baseline_buckets: Number = 720
    min_baseline_buckets: Number = 24


@dataclass(frozen=True)
class SequenceAnalytic:
    """Ordered steps (SQL conditions) by the same entity, the last within ``window`` seconds."""

    by: tuple[str, ...]
    steps: tuple[str, ...]
    window: Number


@dataclass(frozen=True)
class QueryAnalytic:
    """A hand-written SELECT over ``events`` (and lookup tables) in the portable SQL subset.

    It returns any of the alert columns (``first_seen``, ``last_seen``, entity columns,
    ``event_count``, ``evidence``, ``score``, ``extra``, ``severity``); the rest are NULL.
    A query that reports per time bucket names ``episode_by``: its alerts of the same values
    of those entities, at most ``episode_gap`` seconds apart, are one episode.
    """

    sql: str
    episode_by: tuple[str, ...] = ()
    episode_gap: Number = 0


Analytic = (
    ThresholdAnalytic | FirstSeenAnalytic | DeviationAnalytic | SequenceAnalytic | QueryAnalytic
)


@dataclass(frozen=True)
class RuleExamples:
    """Event specs (see ``examples``) that must, and must not, raise the rule's alert."""

    positive: tuple[tuple[Mapping[str, object], ...], ...] = ()
    negative: tuple[tuple[Mapping[str, object], ...], ...] = ()


ROUTINE_WHEN = ("same_time", "any_time")


@dataclass(frozen=True)
class Routine:
    """A job's signature, whatever the analytic: the rule matched the same ``by`` entities on
    ``min_days`` days or more, at about the same time of day (within ``tolerance`` seconds) or,
    with ``when="any_time"``, at any time (a CI job run on every push). Such alerts are given
    ``severity``: a nightly key rotation, or an application that lists models as it starts,
    stays visible without paging anyone. A role's sessions are one principal here."""

    by: tuple[str, ...]
    min_days: Number = 3
    tolerance: Number = 1800
    severity: Severity = "low"
    when: str = "same_time"


@dataclass(frozen=True)
class DetectionRule:
    """One detection rule, loaded from YAML."""

    id: str
    title: str
    description: str
    severity: Severity
    techniques: tuple[str, ...]
    entities: tuple[str, ...]
    response: str
    analytic: Analytic
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    false_positives: str = ""
    theme: str = ""
    examples: RuleExamples = RuleExamples()
    source: str = ""
    routine: Routine | None = None

    @property
    def analytic_type(self) -> str:
        """The YAML key of the analytic (``threshold``, ``query``, ...)."""
        return ANALYTIC_NAMES[type(self.analytic)]


ANALYTIC_NAMES: Mapping[type, str] = {
    ThresholdAnalytic: "threshold",
    FirstSeenAnalytic: "first_seen",
    DeviationAnalytic: "deviation",
    SequenceAnalytic: "sequence",
    QueryAnalytic: "query",
}
