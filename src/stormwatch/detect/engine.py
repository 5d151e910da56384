"""Run compiled rules on a backend, turn rows into ``Alert`` values and store them idempotently.

Backends sit behind the ``QueryBackend`` seam: ``DuckDBBackend`` here, ``SparkBackend`` in
``stormwatch.scaleout`` (loaded only when asked for). ``detect_alerts`` is the whole run on any
backend: it scopes events with a view (``until`` and the allowlist), runs each rule, merges
windows of one episode and keeps alerts that end at or after ``since``. ``run_detection`` is that
run on a DuckDB store, which also replaces the stored alerts of the same rules and window in the
``alerts`` table.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb

from stormwatch.detect.compiler import ALERT_COLUMN_NAMES, CompiledRule, compile_rule
from stormwatch.detect.lookups import Allowlist, ensure_lookup_tables
from stormwatch.detect.portable import emit, parse_portable
from stormwatch.detect.rule import (
    ENTITY_COLUMNS,
    SEVERITY_RANK,
    DetectionRule,
    ParamValue,
    Routine,
    Severity,
)

SCOPED_EVENTS = "stormwatch_scoped_events"
INSERT_CHUNK = 500
CONTEXT_VALUES = 5  # values an episode keeps of each context entity (earliest first)
ALERTS_DDL = """CREATE TABLE IF NOT EXISTS alerts (
  alert_id VARCHAR, rule_id VARCHAR, title VARCHAR, severity VARCHAR, first_seen TIMESTAMP,
  last_seen TIMESTAMP, entities VARCHAR, event_count BIGINT, evidence VARCHAR,
  techniques VARCHAR, advice VARCHAR, score DOUBLE, extra VARCHAR, detected_at TIMESTAMP
)"""


class DetectionError(RuntimeError):
    """Detection cannot run (no events table, a rule fails on the backend, ...)."""


@dataclass(frozen=True)
class Alert:
    """One alert: a rule matched these entities between ``first_seen`` and ``last_seen``."""

    rule_id: str
    title: str
    severity: Severity
    first_seen: datetime
    last_seen: datetime
    entities: Mapping[str, tuple[str, ...]]
    event_count: int
    evidence: tuple[str, ...]
    techniques: tuple[str, ...]
    advice: str
    score: float | None = None
    extra: str | None = None

    @property
    def alert_id(self) -> str:
        """Stable id from rule, entities and start: the same finding keeps its id across runs."""
        key = json.dumps(
            [self.rule_id, self.first_seen.isoformat(), dict(self.entities)], sort_keys=True
        )
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (times in ISO 8601, UTC)."""
        return {
            "alert_id": self.alert_id,
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "entities": {k: list(v) for k, v in self.entities.items()},
            "event_count": self.event_count,
            "evidence": list(self.evidence),
            "techniques": list(self.techniques),
            "advice": self.advice,
            "score": self.score,
            "extra": self.extra,
        }


@dataclass(frozen=True)
class DetectionSettings:
    """How to run: per-rule parameter overrides, allowlist, what to keep and store.

    Windowed alerts of one rule and entities less than ``merge_gap_seconds`` apart (or the rule's
    own window, when longer) merge into one episode.
    """

    params: Mapping[str, Mapping[str, ParamValue]] = field(default_factory=dict)
    allowlist: Allowlist = field(default_factory=Allowlist)
    min_severity: Severity = "low"
    store: bool = True
    max_evidence: int = 5
    merge_gap_seconds: float = 3600.0


class QueryBackend(Protocol):
    """The whole I/O seam of detection: run a statement, fetch rows of a query.

    ``concurrency`` is how many rule queries may run at once (from as many threads): 1 for a
    connection that serializes them, more for an engine that schedules them side by side.
    """

    dialect: str
    concurrency: int

    def execute(self, sql: str) -> None: ...

    def fetch(self, sql: str) -> list[tuple[Any, ...]]: ...


class DuckDBBackend:
    """Runs detection SQL on a DuckDB connection."""

    dialect = "duckdb"
    concurrency = 1  # one connection runs one query at a time

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()


def _scope_view(backend: QueryBackend, settings: DetectionSettings, until: datetime | None) -> None:
    allowed = settings.allowlist.condition()
    bound = f" AND time < CAST('{until.isoformat(sep=' ')}' AS TIMESTAMP)" if until else ""
    query = parse_portable(f"SELECT * FROM events WHERE NOT ({allowed}){bound}", "scope")
    backend.execute(
        f"CREATE OR REPLACE TEMP VIEW {SCOPED_EVENTS} AS {emit(query, backend.dialect)}"
    )


def _to_alert(rule: DetectionRule, row: Mapping[str, Any], max_evidence: int) -> Alert:
    entities = {c: (str(row[c]),) for c in ENTITY_COLUMNS if row[c] is not None}
    evidence = tuple(dict.fromkeys(e for e in (row["evidence"] or ()) if e))[:max_evidence]
    return Alert(
        rule_id=rule.id,
        title=rule.title,
        severity=row["severity"] if row["severity"] in SEVERITY_RANK else rule.severity,
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        entities=entities,
        event_count=int(row["event_count"] or 0),
        evidence=evidence,
        techniques=rule.techniques,
        advice=rule.response,
        score=None if row["score"] is None else float(row["score"]),
        extra=row["extra"],
    )


def _merge(
    alerts: Sequence[Alert], gap_seconds: float, max_evidence: int, keys: tuple[str, ...] = ()
) -> list[Alert]:
    """Join alerts of the same key entities (``keys``; all entities when empty) whose windows
    touch into one episode; the episode keeps every context value seen (a few at most)."""
    if gap_seconds <= 0:
        return list(alerts)
    merged: list[Alert] = []
    # a total order, so the episode (and its evidence) is the same whatever order rows came in
    by_key = sorted(
        alerts,
        key=lambda a: (
            _key_of(a, keys),
            a.first_seen,
            a.last_seen,
            sorted(a.entities.items()),
            a.evidence,
        ),
    )
    for alert in by_key:
        last = merged[-1] if merged else None
        if (
            last is None
            or _key_of(last, keys) != _key_of(alert, keys)
            or ((alert.first_seen - last.last_seen).total_seconds() > gap_seconds)
        ):
            merged.append(alert)
            continue
        overlap = alert.first_seen <= last.last_seen  # hopping windows count events twice
        merged[-1] = replace(
            last,
            last_seen=max(last.last_seen, alert.last_seen),
            entities=_united(last.entities, alert.entities),
            event_count=max(last.event_count, alert.event_count)
            if overlap
            else last.event_count + alert.event_count,
            severity=max(last.severity, alert.severity, key=SEVERITY_RANK.__getitem__),
            evidence=tuple(dict.fromkeys(last.evidence + alert.evidence))[:max_evidence],
            score=max(last.score or 0.0, alert.score or 0.0),
        )
    return merged


def _key_of(alert: Alert, keys: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """The entities that tell an alert's episode apart (all of them without ``keys``)."""
    return sorted((c, v) for c, v in alert.entities.items() if not keys or c in keys)


def _united(
    first: Mapping[str, tuple[str, ...]], second: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Each column's values of both alerts, in order of appearance, a few at most."""
    columns = dict.fromkeys([*first, *second])
    return {
        c: tuple(dict.fromkeys(first.get(c, ()) + second.get(c, ())))[:CONTEXT_VALUES]
        for c in columns
    }


def _run_rule(
    backend: QueryBackend, compiled: CompiledRule, settings: DetectionSettings
) -> list[Alert]:
    try:
        rows = backend.fetch(compiled.sql(backend.dialect, SCOPED_EVENTS))
    except Exception as exc:  # a backend error names the rule, whatever the backend raises
        raise DetectionError(f"rule {compiled.rule.id} failed: {exc}") from exc
    alerts = [
        _to_alert(
            compiled.rule, dict(zip(ALERT_COLUMN_NAMES, r, strict=True)), settings.max_evidence
        )
        for r in rows
    ]
    gap = max(compiled.merge_gap_seconds, settings.merge_gap_seconds)
    if compiled.merge_gap_seconds <= 0:
        gap = 0
    merged = _merge(alerts, gap, settings.max_evidence, compiled.merge_keys)
    return _routine(merged, compiled.routine) if compiled.routine else merged


def _routine(alerts: list[Alert], routine: Routine) -> list[Alert]:
    """Alerts of a job (see :class:`Routine`) lowered to the routine's severity.

    An alert is routine when alerts of the same ``by`` entities started on at least
    ``min_days`` days (its own included), earlier or later in the run, within ``tolerance``
    seconds of its time of day (or at any time, ``when="any_time"``): a job that runs every
    morning is one from its first morning.
    """
    starts: dict[tuple[tuple[str, tuple[str, ...]], ...], list[datetime]] = {}
    for alert in alerts:
        if all(alert.entities.get(column) for column in routine.by):
            starts.setdefault(_routine_key(alert, routine.by), []).append(alert.first_seen)
    tolerance, min_days = float(routine.tolerance), float(routine.min_days)  # resolved numbers
    any_time = routine.when == "any_time"
    lowered = []
    for alert in alerts:
        days = {
            start.date()
            for start in starts.get(_routine_key(alert, routine.by), ())
            if any_time or _day_gap(start, alert.first_seen) <= tolerance
        }
        if len(days) >= min_days and (
            SEVERITY_RANK[alert.severity] > SEVERITY_RANK[routine.severity]
        ):
            note = f"routine: {'' if any_time else 'same time of day '}on {len(days)} days"
            extra = f"{alert.extra}; {note}" if alert.extra else note
            alert = replace(alert, severity=routine.severity, extra=extra)
        lowered.append(alert)
    return lowered


# An AWS role session's principal (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``): a job
# names each run's session anew (``GitHubActions-<run>``); its role is what repeats.
_ROLE_SESSION = re.compile(r"^(arn:aws[\w-]*:sts::[^:]*:assumed-role/[^/]+)/.+$")


def _routine_key(alert: Alert, by: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The ``by`` entities that make an alert's job, role sessions as their role."""
    key = []
    for column, values in _key_of(alert, by):
        if column == "principal":
            values = tuple(dict.fromkeys(_ROLE_SESSION.sub(r"\1", value) for value in values))
        key.append((column, values))
    return tuple(key)


def _day_gap(first: datetime, second: datetime) -> float:
    """Seconds between two moments' times of day, across midnight too (at most 12 hours)."""
    seconds = abs(_time_of_day(first) - _time_of_day(second))
    return min(seconds, 86400 - seconds)


def _time_of_day(moment: datetime) -> float:
    return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6


def _run_rules(
    backend: QueryBackend, compiled: Sequence[CompiledRule], settings: DetectionSettings
) -> list[Alert]:
    """Every rule's alerts, in rule order; up to ``backend.concurrency`` queries at a time."""

    def run(rule: CompiledRule) -> list[Alert]:
        return _run_rule(backend, rule, settings)

    if backend.concurrency <= 1:
        per_rule = list(map(run, compiled))
    else:
        with ThreadPoolExecutor(backend.concurrency, thread_name_prefix="rule") as pool:
            per_rule = list(pool.map(run, compiled))
    return [alert for alerts in per_rule for alert in alerts]


def _has_events(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'events'"
    ).fetchone()
    return bool(found and found[0])


def detect_alerts(
    backend: QueryBackend,
    rules: Iterable[DetectionRule],
    settings: DetectionSettings | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[Alert, ...]:
    """Run ``rules`` on ``backend``, whose ``events`` and lookup tables must exist.

    Alerts ending before ``since`` are dropped and events at or after ``until`` ignored
    (baselines still use history before ``since``). Returns alerts sorted by severity (highest
    first), then time, then rule; nothing is stored.
    """
    settings = settings or DetectionSettings()
    _scope_view(backend, settings, until)
    compiled = [compile_rule(rule, settings.params.get(rule.id)) for rule in rules]
    found = _run_rules(backend, compiled, settings)
    floor = SEVERITY_RANK[settings.min_severity]
    kept = [
        a
        for a in found
        if SEVERITY_RANK[a.severity] >= floor and (since is None or a.last_seen >= since)
    ]
    kept.sort(key=lambda a: (-SEVERITY_RANK[a.severity], a.first_seen, a.rule_id, a.alert_id))
    return tuple(kept)


def run_detection(
    con: duckdb.DuckDBPyConnection,
    rules: Iterable[DetectionRule],
    settings: DetectionSettings | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[Alert, ...]:
    """``detect_alerts`` over the DuckDB store ``con``; stores the alerts in ``alerts``
    (replacing the same rules' alerts in the window) unless ``settings.store`` is false."""
    settings = settings or DetectionSettings()
    if not _has_events(con):
        raise DetectionError("the store has no 'events' table: run `stormwatch ingest` first")
    ensure_lookup_tables(con)
    rules = tuple(rules)
    kept = detect_alerts(DuckDBBackend(con), rules, settings, since, until)
    if settings.store:
        store_alerts(con, kept, [r.id for r in rules], since, until)
    return kept


def store_alerts(
    con: duckdb.DuckDBPyConnection,
    alerts: Sequence[Alert],
    rule_ids: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
) -> None:
    """Replace the stored alerts of ``rule_ids`` in [since, until) with ``alerts``."""
    con.execute(ALERTS_DDL)
    where = ["rule_id IN (SELECT unnest(?))"]
    args: list[Any] = [list(rule_ids)]
    if since is not None:
        where.append("last_seen >= ?")
        args.append(since)
    if until is not None:
        where.append("first_seen < ?")
        args.append(until)
    con.execute("BEGIN TRANSACTION")
    con.execute(f"DELETE FROM alerts WHERE {' AND '.join(where)}", args)
    now = datetime.now(UTC).replace(tzinfo=None)
    if alerts:
        _insert_alerts(con, alerts, now)
    con.execute("COMMIT")


def _insert_alerts(con: duckdb.DuckDBPyConnection, alerts: Sequence[Alert], now: datetime) -> None:
    rows = [
        [
            a.alert_id, a.rule_id, a.title, a.severity, a.first_seen, a.last_seen,
            json.dumps({k: list(v) for k, v in a.entities.items()}), a.event_count,
            json.dumps(list(a.evidence)), json.dumps(list(a.techniques)), a.advice,
            a.score, a.extra, now,
        ]
        for a in alerts
    ]  # fmt: skip
    marks = "(" + ", ".join("?" * 14) + ")"
    for start in range(0, len(rows), INSERT_CHUNK):  # one statement per chunk: executemany is slow
        chunk = rows[start : start + INSERT_CHUNK]
        con.execute(
            f"INSERT INTO alerts VALUES {', '.join([marks] * len(chunk))}",
            [value for row in chunk for value in row],
        )
