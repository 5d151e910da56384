"""Compile a detection rule once into a sqlglot expression of the common alert shape.

``COMPILERS`` is the one registry from analytic type to its builder. The builder's SELECT is
wrapped so every compiled rule returns the same columns (``ALERT_COLUMNS``), whatever it
computes; the expression is then emitted per backend (``CompiledRule.sql("duckdb")`` or
``"spark"``) without recompiling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from stormwatch.detect.analytics import (
    BuildContext,
    BuiltQuery,
    build_deviation,
    build_first_seen,
    build_sequence,
    build_threshold,
)
from stormwatch.detect.portable import CompileError, emit, literal, parse_portable, substitute
from stormwatch.detect.rule import (
    ENTITY_COLUMNS,
    DetectionRule,
    DeviationAnalytic,
    FirstSeenAnalytic,
    Number,
    ParamValue,
    QueryAnalytic,
    Routine,
    RuleIssue,
    SequenceAnalytic,
    ThresholdAnalytic,
)

# (column, SQL type) of every compiled rule's result, in order.
ALERT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rule_id", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("first_seen", "TIMESTAMP"),
    ("last_seen", "TIMESTAMP"),
    *((name, "VARCHAR") for name in ENTITY_COLUMNS),
    ("event_count", "BIGINT"),
    ("evidence", "VARCHAR[]"),
    ("score", "DOUBLE"),
    ("extra", "VARCHAR"),
)
ALERT_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in ALERT_COLUMNS)


def _build_query(a: QueryAnalytic, ctx: BuildContext) -> BuiltQuery:
    if not a.episode_by:
        return BuiltQuery(ctx.sql(a.sql, "query"), 0)
    # Any positive gap merges: the engine widens it to its own episode gap.
    gap = max(ctx.number(a.episode_gap, "query.episode_gap"), 1.0)
    return BuiltQuery(ctx.sql(a.sql, "query"), gap, a.episode_by)


# The one registry from analytic type to its compiler.
COMPILERS: Mapping[type, Callable[[object, BuildContext], BuiltQuery]] = {
    ThresholdAnalytic: build_threshold,  # type: ignore[dict-item]
    FirstSeenAnalytic: build_first_seen,  # type: ignore[dict-item]
    DeviationAnalytic: build_deviation,  # type: ignore[dict-item]
    SequenceAnalytic: build_sequence,  # type: ignore[dict-item]
    QueryAnalytic: _build_query,  # type: ignore[dict-item]
}


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its parameters bound, as one sqlglot expression of ``ALERT_COLUMNS``."""

    rule: DetectionRule
    expression: exp.Expr
    params: Mapping[str, ParamValue]
    merge_gap_seconds: float
    merge_keys: tuple[str, ...] = ()
    routine: Routine | None = None  # numbers resolved

    def sql(self, dialect: str = "duckdb", events_table: str = "events") -> str:
        """The rule's query for ``dialect`` (``duckdb`` or ``spark``)."""
        return emit(self.expression, dialect, events_table)


def bound_params(rule: DetectionRule, overrides: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
    """The rule's defaults updated with ``overrides``; unknown or mistyped overrides are errors."""
    params = dict(rule.params)
    for name, value in overrides.items():
        if name not in params:
            raise CompileError(f"params.{name}", "unknown parameter")
        default = params[name]
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        same = isinstance(value, type(default)) or (numeric and isinstance(value, int | float))
        if not same or (numeric and isinstance(value, bool)):
            raise CompileError(
                f"params.{name}", f"expected {type(default).__name__}, got {value!r}"
            )
        params[name] = value
    return params


def _resolver(params: Mapping[str, ParamValue]) -> BuildContext:
    def number(value: Number, field: str) -> float:
        if isinstance(value, str):
            name = value.strip().strip("{}")
            resolved = params.get(name)
            if isinstance(resolved, bool) or not isinstance(resolved, int | float):
                raise CompileError(field, f"{value!r} does not name a numeric parameter")
            return float(resolved)
        return float(value)

    return BuildContext(number=number, sql=lambda text, field: substitute(text, params, field))


def _wrap(rule: DetectionRule, inner: exp.Expr) -> exp.Expr:
    """Select ``ALERT_COLUMNS`` from the builder's query, NULL (typed) where it has none."""
    provided = (
        {name.lower() for name in inner.named_selects} if isinstance(inner, exp.Query) else set()
    )
    if "*" in provided or not provided & {"first_seen", "last_seen"}:
        raise CompileError(
            rule.analytic_type, "the SELECT must name its columns, including first_seen"
        )
    columns = []
    for name, sql_type in ALERT_COLUMNS:
        if name == "rule_id":
            columns.append(f"{literal(rule.id)} AS rule_id")
        elif name == "severity":
            own = "CAST(m.severity AS VARCHAR)" if name in provided else "NULL"
            columns.append(f"COALESCE({own}, {literal(rule.severity)}) AS severity")
        elif name in provided:
            columns.append(f"CAST(m.{name} AS {sql_type}) AS {name}")
        else:
            columns.append(f"CAST(NULL AS {sql_type}) AS {name}")
    assert isinstance(inner, exp.Query)
    return exp.select(*(sqlglot.parse_one(c, read="duckdb") for c in columns)).from_(
        inner.subquery("m")
    )


def compile_rule(
    rule: DetectionRule, overrides: Mapping[str, ParamValue] | None = None
) -> CompiledRule:
    """Bind parameters and compile ``rule``; raises ``CompileError`` naming the bad field."""
    params = bound_params(rule, overrides or {})
    ctx = _resolver(params)
    ctx = BuildContext(ctx.number, ctx.sql, context_entities=rule.entities, severity=rule.severity)
    built = COMPILERS[type(rule.analytic)](rule.analytic, ctx)
    tree = _wrap(rule, parse_portable(built.sql, rule.analytic_type))
    routine = _routine(rule, ctx)
    return CompiledRule(rule, tree, params, built.merge_gap_seconds, built.keys, routine)


def _routine(rule: DetectionRule, ctx: BuildContext) -> Routine | None:
    if rule.routine is None:
        return None
    missing = sorted(set(rule.routine.by) - set(rule.entities))
    if missing:
        raise CompileError("routine.by", f"{', '.join(missing)} not among the rule's entities")
    return Routine(
        by=rule.routine.by,
        min_days=ctx.number(rule.routine.min_days, "routine.min_days"),
        tolerance=ctx.number(rule.routine.tolerance, "routine.tolerance"),
        severity=rule.routine.severity,
        when=rule.routine.when,
    )


def compile_issues(rule: DetectionRule) -> list[RuleIssue]:
    """Problems compiling ``rule`` with its defaults, as issues with their location."""
    try:
        compiled = compile_rule(rule)
        for dialect in ("duckdb", "spark"):
            compiled.sql(dialect)
    except CompileError as exc:
        return [RuleIssue(rule.source, rule.id, exc.field, str(exc))]
    except sqlglot.errors.SqlglotError as exc:
        message = re.sub(r"\s+", " ", str(exc))
        return [RuleIssue(rule.source, rule.id, rule.analytic_type, message)]
    return []
