"""SQL builders, one per typed analytic: each returns portable SQL over ``events``.

Every builder returns a SELECT whose columns are a subset of the alert shape (see ``compiler``):
the key entities, ``first_seen``, ``last_seen``, ``event_count``, ``evidence`` and optionally
``score``, ``extra`` and ``severity``. The SQL is set-based: one scan of ``events`` with the
rule's filter, then aggregation; window functions only run over small aggregated tables or over
events already narrowed to keys that started a sequence. Time arithmetic uses epoch seconds
(``EPOCH(time)``), which transpiles to every target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stormwatch.detect.portable import CompileError
from stormwatch.detect.rule import (
    SEVERITY_RANK,
    Aggregate,
    DeviationAnalytic,
    FirstSeenAnalytic,
    Number,
    SequenceAnalytic,
    Severity,
    ThresholdAnalytic,
)

REF = "COALESCE(raw_file || ':' || CAST(raw_line AS VARCHAR), '')"
# The shortest baseline a first-seen rule runs with for a key already active when the logs
# begin (its age unknown), while the store holds too few days before the value (then at most
# medium).
SHORT_BASELINE_DAYS = 2
SHORT_HISTORY_SEVERITY: Severity = "medium"


def _ref_at(pick: str, order: str, alias: str = "") -> str:
    """``raw_file:raw_line`` of the first (``ARG_MIN``) or last (``ARG_MAX``) event by ``order``.

    File and line are picked separately, which avoids building a string per event; events tied
    on ``order`` in different files may mix (the reference then still names a grouped event's
    file).
    """
    return (
        f"{pick}({alias}raw_file, {order}) || ':' || "
        f"CAST({pick}({alias}raw_line, {order}) AS VARCHAR)"
    )


@dataclass(frozen=True)
class BuildContext:
    """What a builder needs besides its analytic: parameter resolution and context entities."""

    number: Callable[[Number, str], float]
    sql: Callable[[str, str], str]
    context_entities: tuple[str, ...] = ()
    severity: Severity = "medium"  # the rule's own


@dataclass(frozen=True)
class BuiltQuery:
    """A builder's SQL, how far apart two alerts of one key may be and still merge, and the
    key: the entity columns that tell episodes apart (other entities are context)."""

    sql: str
    merge_gap_seconds: float
    keys: tuple[str, ...] = ()


def _num(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(value)


def _keys(columns: tuple[str, ...], alias: str = "") -> str:
    return ", ".join(f"{alias}{c}" for c in columns)


def _not_null(columns: tuple[str, ...]) -> str:
    return " AND ".join(f"{c} IS NOT NULL" for c in columns) or "TRUE"


def _join_on(columns: tuple[str, ...], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in columns)


def _measure(aggregate: Aggregate, ctx: BuildContext, field: str) -> str:
    if aggregate.kind == "count":
        return "COUNT(*)"
    expr = ctx.sql(aggregate.expr or "", field)
    return f"COUNT(DISTINCT ({expr}))" if aggregate.kind == "distinct" else f"SUM({expr})"


def _beyond(ctx: BuildContext, keys: tuple[str, ...]) -> list[str]:
    """The entities the rule names beyond its keys (its context)."""
    return [c for c in ctx.context_entities if c not in keys]


def _context(ctx: BuildContext, keys: tuple[str, ...], order: str, alias: str = "") -> str:
    """Representative values (the earliest) of entities the rule names beyond its keys."""
    return "".join(f", ARG_MIN({alias}{c}, {alias}{order}) AS {c}" for c in _beyond(ctx, keys))


def _enrich(
    keys: tuple[str, ...], grain: float, where: str, hits: str, carry: str, ctx: BuildContext
) -> str:
    """Times, evidence and context entities of the hits only: one more filtered scan joined to
    the few hits.

    ``hits`` is a query naming the key columns, ``lo`` / ``hi`` (grain numbers the hit spans),
    ``hid`` (a unique hit id) and the ``carry`` columns passed through.
    """
    carried = "".join(f", h.{c}" for c in carry.split(", ") if c)
    others = "".join(f", {c}" for c in _beyond(ctx, keys))
    return f"""
    SELECT {_keys(keys, "h.")}{carried}, MIN(e.time) AS first_seen, MAX(e.time) AS last_seen,
      [{_ref_at("ARG_MIN", "e.time", "e.")}, {_ref_at("ARG_MAX", "e.time", "e.")}] AS evidence
      {_context(ctx, keys, "time", "e.")}
    FROM ({hits}) AS h
    JOIN (
      SELECT {_keys(keys)}{others}, time, FLOOR(EPOCH(time) / {_num(grain)}) AS g,
        raw_file, raw_line
      FROM events WHERE {where}
    ) AS e ON {_join_on(keys, "h", "e")} AND e.g BETWEEN h.lo AND h.hi
    GROUP BY {_keys(keys, "h.")}, h.hid{carried}
    """


def build_threshold(a: ThresholdAnalytic, ctx: BuildContext) -> BuiltQuery:
    """Aggregate per entities per window; times and evidence are fetched for hits only.

    Stage one counts at the grain (the window, or half of it for sliding windows, keeping
    distinct values apart); stage two adds grains up into windows (sliding windows hop by half a
    window: two offsets over the small stage-one table).
    """
    window = ctx.number(a.window, "threshold.window")
    if window <= 0:
        raise CompileError("threshold.window", "must be positive")
    keys, sliding = _keys(a.group_by), a.window_kind == "sliding"
    grain = window / 2 if sliding else window
    kind, expr = a.aggregate.kind, ctx.sql(a.aggregate.expr or "NULL", "threshold.aggregate")
    also = ctx.sql(a.also.filter, "threshold.also.filter") if a.also else "FALSE"
    value = f", ({expr})" if kind == "distinct" else ""
    measure = {"count": "SUM(n)", "sum": "SUM(sv)", "distinct": "COUNT(DISTINCT dv)"}[kind]
    having = f"{measure} >= {_num(ctx.number(a.min, 'threshold.min'))}"
    if a.also:
        having += f" AND SUM(an) >= {_num(ctx.number(a.also.min, 'threshold.also.min'))}"
        share = ctx.number(a.also.share, "threshold.also.share")
        if share:
            having += f" AND SUM(an) >= {_num(share)} * SUM(n)"
    window_of = "FLOOR((gb + o.shift) / 2)" if sliding else "gb"
    where = f"({ctx.sql(a.filter, 'threshold.filter')}) AND {_not_null(a.group_by)}"
    source, bucket = "events", f"FLOOR(EPOCH(time) / {_num(grain)})"
    if a.also:  # windows without an `also` event cannot hit: read only grains next to one
        source = f"""(
          SELECT ev.* FROM events AS ev JOIN (
            SELECT {keys}, {bucket} AS b FROM events WHERE {where} AND ({also})
            UNION SELECT {keys}, {bucket} - 1 AS b FROM events WHERE {where} AND ({also})
            UNION SELECT {keys}, {bucket} + 1 AS b FROM events WHERE {where} AND ({also})
          ) AS near ON {_join_on(a.group_by, "ev", "near")}
            AND FLOOR(EPOCH(ev.time) / {_num(grain)}) = near.b
        ) AS pruned"""
    hits = f"""
      WITH g AS (
        SELECT {keys}, {bucket} AS gb{value and value + " AS dv"},
          COUNT(*) AS n, SUM({expr if kind == "sum" else "0"}) AS sv,
          SUM(CASE WHEN {also} THEN 1 ELSE 0 END) AS an
        FROM {source} WHERE {where}
        GROUP BY {keys}, {bucket}{value}
      )
      SELECT {keys}, {window_of} AS hid, MIN(gb) AS lo, MAX(gb) AS hi, SUM(n) AS event_count,
        CAST({measure} AS DOUBLE) AS score
      FROM g{" CROSS JOIN (VALUES (0), (1)) AS o(shift)" if sliding else ""}
      GROUP BY {keys}{", o.shift" if sliding else ""}, {window_of}
      HAVING {having}
    """
    if sliding:  # a hit id must tell the two offsets apart
        hits = hits.replace(f"{window_of} AS hid", f"{window_of} * 2 + o.shift AS hid")
    built = _enrich(a.group_by, grain, where, hits, "event_count, score", ctx)
    return BuiltQuery(built, window, a.group_by)


def build_first_seen(a: FirstSeenAnalytic, ctx: BuildContext) -> BuiltQuery:
    """Values new for a key that has a baseline, whose events include a risky one.

    Only values with a risky event are aggregated in detail; the key's baseline is a plain count
    per day.
    """
    keys = _keys(a.key)
    n = ctx.number
    nominal = n(a.baseline_days, "first_seen.baseline_days")
    baseline_days = _num(nominal)
    short = _num(min(nominal, SHORT_BASELINE_DAYS))
    shared_by = n(a.shared_by, "first_seen.shared_by")
    others = [c for c in ctx.context_entities if c not in a.key]
    carried_min = "".join(f", ARG_MIN({c}, first_seen) AS {c}" for c in others)
    value, day = ctx.sql(a.value, "first_seen.value"), "FLOOR(EPOCH(time) / 86400)"
    where = f"({ctx.sql(a.filter, 'first_seen.filter')}) AND {_not_null(a.key)}"
    risk = ctx.sql(a.risk, "first_seen.risk")
    first_of_others = "".join(f", ARG_MIN(e.{c}, e.time) AS {c}" for c in others)
    # only for a rule that says how many keys make a value shared (an office's network)
    shared_cte = shared_case = shared_join = ""
    if shared_by > 0:
        shared_cte = f"""
    shared AS (
      SELECT ({value}) AS v, COUNT(DISTINCT {_concat(a.key)}) AS keys_using
      FROM events WHERE {_not_null(a.key)} AND COALESCE(success, TRUE) GROUP BY ({value})
    ),"""
        shared_case = f"""
        WHEN shared.keys_using >= {_num(shared_by)}
          THEN '{_at_most(ctx.severity, a.shared_severity)}'"""
        shared_join = "LEFT JOIN shared ON cand.v = shared.v"
    sql = f"""
    WITH kd AS (
      SELECT {keys}, {day} AS d, COUNT(*) AS n FROM events WHERE {where} GROUP BY {keys}, {day}
    ),
    rv AS (SELECT DISTINCT {keys}, ({value}) AS v FROM events WHERE {where} AND ({risk})),
    f AS (
      SELECT {_keys(a.key, "e.")}, e.v, e.d, COUNT(*) AS n, MAX(e.risky) AS risky,
        MIN(e.time) AS first_seen, MAX(e.time) AS last_seen,
        {_ref_at("ARG_MIN", "e.time", "e.")} AS e1,
        {_ref_at("ARG_MAX", "e.time", "e.")} AS e2{first_of_others}
      FROM (
        SELECT {keys}{"".join(f", {c}" for c in others)}, ({value}) AS v, {day} AS d, time,
          CASE WHEN ({risk}) THEN 1 ELSE 0 END AS risky, raw_file, raw_line
        FROM events WHERE {where}
      ) AS e JOIN rv ON {_join_on(a.key, "e", "rv")} AND e.v = rv.v
      GROUP BY {_keys(a.key, "e.")}, e.v, e.d
    ),
    kmin AS (SELECT {keys}, MIN(d) AS key_first_day FROM kd GROUP BY {keys}),
    logs AS (SELECT MIN({day}) AS first_day FROM events),{shared_cte}
    kv AS (
      SELECT {keys}, v, MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen,
        MIN(d) AS first_day, SUM(n) AS event_count, COUNT(*) AS days, MAX(risky) AS risky,
        [ARG_MIN(e1, first_seen), ARG_MAX(e2, last_seen)] AS evidence{carried_min}
      FROM f WHERE v IS NOT NULL GROUP BY {keys}, v
    ),
    cand AS (
      SELECT kv.*, kv.first_day - kmin.key_first_day AS history FROM kv
      JOIN kmin ON {_join_on(a.key, "kv", "kmin")} CROSS JOIN logs
      WHERE kv.risky = 1 AND (kv.first_day - kmin.key_first_day >= {baseline_days}
        OR (kmin.key_first_day = logs.first_day
          AND kv.first_day - kmin.key_first_day >= {short}))
    ),
    base AS (
      SELECT {_keys(a.key, "cand.")}, cand.v, SUM(kd.n) AS baseline_events
      FROM cand JOIN kd ON {_join_on(a.key, "cand", "kd")} AND kd.d < cand.first_day
      GROUP BY {_keys(a.key, "cand.")}, cand.v
    )
    SELECT {_keys(a.key, "cand.")}, cand.first_seen, cand.last_seen, cand.event_count,
      cand.evidence{"".join(f", cand.{c}" for c in others)},
      CAST(base.baseline_events AS DOUBLE) AS score,
      'new value ' || CAST(cand.v AS VARCHAR) || ' after ' || CAST(base.baseline_events AS VARCHAR)
        || ' baseline events' AS extra,
      CASE WHEN cand.days >= {_num(n(a.persist_days, "first_seen.persist_days"))}
          THEN '{a.persist_severity}'{shared_case}
        WHEN cand.history < {baseline_days}
          THEN '{_at_most(ctx.severity, SHORT_HISTORY_SEVERITY)}' END AS severity
    FROM cand JOIN base ON {_join_on(a.key, "cand", "base")} AND cand.v = base.v
    {shared_join}
    WHERE base.baseline_events >= {_num(n(a.min_baseline_events, "first_seen.min_baseline_events"))}
    """
    return BuiltQuery(sql, 0)


def _concat(columns: tuple[str, ...]) -> str:
    """One text of the key columns, for counting distinct keys portably."""
    if len(columns) == 1:
        return columns[0]
    return " || '|' || ".join(f"COALESCE(CAST({c} AS VARCHAR), '')" for c in columns)


def _at_most(severity: Severity, cap: Severity) -> Severity:
    return severity if SEVERITY_RANK[severity] <= SEVERITY_RANK[cap] else cap


def build_deviation(a: DeviationAnalytic, ctx: BuildContext) -> BuiltQuery:
    """A bucket's aggregate against the mean or max of the key's preceding active buckets."""
    bucket = ctx.number(a.bucket, "deviation.bucket")
    keys, measure = _keys(a.key), _measure(a.aggregate, ctx, "deviation.aggregate")
    stat = "AVG" if a.statistic == "mean" else "MAX"
    history = _num(ctx.number(a.baseline_buckets, "deviation.baseline_buckets"))
    frame = f"PARTITION BY {keys} ORDER BY gb ROWS BETWEEN {history} PRECEDING AND 1 PRECEDING"
    where = f"({ctx.sql(a.filter, 'deviation.filter')}) AND {_not_null(a.key)}"
    hits = f"""
      WITH b AS (
        SELECT {keys}, FLOOR(EPOCH(time) / {_num(bucket)}) AS gb, COUNT(*) AS event_count,
          CAST({measure} AS DOUBLE) AS v
        FROM events WHERE {where}
        GROUP BY {keys}, FLOOR(EPOCH(time) / {_num(bucket)})
      ),
      s AS (SELECT *, {stat}(v) OVER ({frame}) AS base, COUNT(*) OVER ({frame}) AS base_n FROM b)
      SELECT {keys}, gb AS hid, gb AS lo, gb AS hi, event_count, v / NULLIF(base, 0) AS score,
        'value ' || CAST(ROUND(v, 2) AS VARCHAR) || ' vs baseline '
          || CAST(ROUND(base, 2) AS VARCHAR) AS extra
      FROM s
      WHERE base_n >= {_num(ctx.number(a.min_baseline_buckets, "deviation.min_baseline_buckets"))}
        AND v >= {_num(ctx.number(a.min_value, "deviation.min_value"))}
        AND v >= {_num(ctx.number(a.factor, "deviation.factor"))} * base
    """
    built = _enrich(a.key, bucket, where, hits, "event_count, score, extra", ctx)
    return BuiltQuery(built, bucket, a.key)


# A sequence carries the start of a match through window functions as one sortable string:
# epoch milliseconds (15 digits), the start time as text (26 chars), then the start's evidence.
_ENCODE = (
    "LPAD(CAST(CAST(ts * 1000 AS BIGINT) AS VARCHAR), 15, '0') || "
    "RPAD(CAST(time AS VARCHAR), 26, ' ') || ref"
)
_START_TS = "CAST(SUBSTR({0}, 1, 15) AS BIGINT) / 1000.0"


def build_sequence(a: SequenceAnalytic, ctx: BuildContext) -> BuiltQuery:
    """Steps in order by the same entity, the last within ``window`` seconds of the first.

    An event may satisfy several steps but plays one per match: step k looks only at rows
    strictly before it for the start carried by step k - 1. Only events in windows that hold
    both a first step (this or the previous window) and a last step (this or the next) reach
    the window functions, so a broad step (every InvokeModel) stays cheap.
    """
    window = _num(ctx.number(a.window, "sequence.window"))
    keys, count = _keys(a.by), len(a.steps)
    steps = [f"({ctx.sql(s, f'sequence.steps[{i}]')})" for i, s in enumerate(a.steps)]
    flags = ", ".join(f"CASE WHEN {s} THEN 1 ELSE 0 END AS f{i}" for i, s in enumerate(steps, 1))
    frame = f"PARTITION BY {keys} ORDER BY ts, ref ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    chain = [f"c1 AS (SELECT *, CASE WHEN f1 = 1 THEN {_ENCODE} END AS carry1 FROM p)"]
    for i in range(2, count + 1):
        prior = f"MAX(carry{i - 1}) OVER ({frame})"
        chain.append(f"k{i} AS (SELECT *, {prior} AS start{i} FROM c{i - 1})")
        within = f"f{i} = 1 AND ts - {_START_TS.format(f'start{i}')} <= {window}"
        chain.append(
            f"c{i} AS (SELECT *, CASE WHEN {within} THEN start{i} END AS carry{i} FROM k{i})"
        )
    last = f"carry{count}"
    carried = "".join(f", {c}" for c in ctx.context_entities if c not in a.by)
    sql = f"""
    WITH a AS (
      SELECT DISTINCT {keys}, FLOOR(EPOCH(time) / {window}) AS b
      FROM events WHERE {steps[0]} AND {_not_null(a.by)}
    ),
    ab AS (SELECT {keys}, b FROM a UNION SELECT {keys}, b + 1 AS b FROM a),
    z AS (
      SELECT DISTINCT {_keys(a.by, "l.")}, l.b FROM (
        SELECT {keys}, FLOOR(EPOCH(time) / {window}) AS b
        FROM events WHERE {steps[-1]} AND {_not_null(a.by)}
      ) AS l JOIN ab ON {_join_on(a.by, "l", "ab")} AND l.b = ab.b
    ),
    zb AS (SELECT {keys}, b FROM z UNION SELECT {keys}, b - 1 AS b FROM z),
    s AS (
      SELECT {keys}, time, EPOCH(time) AS ts, FLOOR(EPOCH(time) / {window}) AS b,
        raw_file, raw_line, {flags}{carried}
      FROM events WHERE ({" OR ".join(steps)}) AND {_not_null(a.by)}
    ),
    p AS (
      SELECT s.*, {REF} AS ref FROM s
      JOIN ab ON {_join_on(a.by, "s", "ab")} AND s.b = ab.b
      JOIN zb ON {_join_on(a.by, "s", "zb")} AND s.b = zb.b
    ),
    {", ".join(chain)},
    m AS (
      SELECT *, {_START_TS.format(last)} AS start_ts,
        CAST(TRIM(SUBSTR({last}, 16, 26)) AS TIMESTAMP) AS start_time,
        SUBSTR({last}, 42) AS start_ref
      FROM c{count} WHERE {last} IS NOT NULL
    )
    SELECT {keys}, MIN(start_time) AS first_seen, MAX(time) AS last_seen, COUNT(*) AS event_count,
      [ARG_MIN(start_ref, start_ts), ARG_MAX(ref, ts)] AS evidence,
      CAST(MIN(ts - start_ts) AS DOUBLE) AS score{_context(ctx, a.by, "ts")}
    FROM m GROUP BY {keys}, FLOOR(start_ts / {window})
    """
    return BuiltQuery(sql, float(window), a.by)
