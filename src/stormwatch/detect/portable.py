"""The portable SQL subset rules are written in, and how it becomes DuckDB or Spark SQL.

Rules are written in DuckDB-flavoured SQL restricted to constructs sqlglot transpiles to Spark
(``EPOCH(t)`` becomes ``UNIX_TIMESTAMP(t)``, ``ARG_MIN`` becomes ``MIN_BY``, ``[a, b]`` becomes
``ARRAY(a, b)``, ``REGEXP_MATCHES`` becomes ``RLIKE``). A few macros cover what has no common
spelling; they expand to portable expressions before emission:

- ``NET24(ip)``: the /24 network of an IPv4 address or masked network ("203.0.113"), else the value;
- ``IPV4_INT(ip)`` / ``IPV4_LAST(ip)``: first / last address of an IPv4 address or CIDR as integers;
- ``REF()``: the event's ``raw_file:raw_line``;
- ``EVIDENCE()``: an aggregate, the first and last ``REF()`` of the group by time (file and line
  are picked separately, cheaper than a string per event).

Where sqlglot's transpilation is faithful in syntax but not in value, ``REWRITES`` holds the
per-dialect correction (a table, as sqlglot keeps its own): Spark's ``UNIX_TIMESTAMP`` drops the
fraction of a second that DuckDB's ``EPOCH`` keeps, so Spark gets microseconds over a million;
a cast of a fraction to an integer rounds on DuckDB and truncates on Spark, so Spark rounds
first (both round half away from zero); Spark counts week days from Sunday = 1, DuckDB from
Sunday = 0 (and sqlglot's ISO form for Spark is off by one), so Spark's are shifted.
The conformance test (tests/scaleout) runs every rule on both engines and compares the alerts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import sqlglot
from sqlglot import exp

from stormwatch.detect.rule import ParamValue

READ_DIALECT = "duckdb"

_OCTET = r"(\d{1,3})"
_QUAD = [r"\d{1,3}"] * 4


def _octet(n: int) -> str:
    parts = list(_QUAD)
    parts[n] = _OCTET
    pattern = "^" + r"\.".join(parts)
    return f"CAST(NULLIF(REGEXP_EXTRACT($1, '{pattern}', 1), '') AS BIGINT)"


_IPV4_INT = " + ".join(f"{_octet(n)} * {256 ** (3 - n)}" if n < 3 else _octet(n) for n in range(4))
_PREFIX = r"COALESCE(CAST(NULLIF(REGEXP_EXTRACT($1, '/(\d{1,2})$', 1), '') AS BIGINT), 32)"

# Macro name -> template; ``$1`` is the first argument's SQL.
MACROS: Mapping[str, str] = {
    "NET24": r"COALESCE(NULLIF(REGEXP_EXTRACT($1, '^(\d{1,3}\.\d{1,3}\.\d{1,3})\.', 1), ''), $1)",
    "IPV4_INT": f"({_IPV4_INT})",
    "IPV4_LAST": f"(({_IPV4_INT}) + CAST(POWER(2, 32 - {_PREFIX}) AS BIGINT) - 1)",
    "REF": "raw_file || ':' || CAST(raw_line AS VARCHAR)",
    "EVIDENCE": (
        "[ARG_MIN(raw_file, time) || ':' || CAST(ARG_MIN(raw_line, time) AS VARCHAR), "
        "ARG_MAX(raw_file, time) || ':' || CAST(ARG_MAX(raw_line, time) AS VARCHAR)]"
    ),
}

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class CompileError(ValueError):
    """A rule does not compile; ``field`` says where."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def literal(value: ParamValue) -> str:
    """SQL literal for a parameter value (a tuple becomes a parenthesised list for ``IN``)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ")"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def substitute(text: str, params: Mapping[str, ParamValue], field: str) -> str:
    """Replace ``{name}`` placeholders with SQL literals; unknown names are an error."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise CompileError(field, f"unknown parameter {{{name}}}")
        return literal(params[name])

    return PLACEHOLDER.sub(replace, text)


def _expand(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Anonymous) and str(node.this).upper() in MACROS:
        text = MACROS[str(node.this).upper()]
        for n, arg in enumerate(node.expressions, start=1):
            text = text.replace(f"${n}", f"({arg.sql(READ_DIALECT)})")
        return sqlglot.parse_one(text, read=READ_DIALECT)
    return node


def parse_portable(text: str, field: str) -> exp.Expr:
    """Parse portable SQL and expand its macros; syntax errors become ``CompileError``."""
    try:
        tree = sqlglot.parse_one(text, read=READ_DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise CompileError(field, f"SQL does not parse: {exc}") from exc
    for _ in range(4):  # macros may use macros (EVIDENCE uses REF)
        tree = tree.transform(_expand)
    return tree


def _spark_epoch(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.TimeToUnix):
        micros = exp.Anonymous(
            this="UNIX_MICROS", expressions=[exp.cast(node.this, exp.DataType.Type.TIMESTAMPLTZ)]
        )
        # an integer divisor: Spark divides in DOUBLE as DuckDB's EPOCH does (a decimal literal
        # made every time bucket arbitrary-precision arithmetic, several times slower)
        return exp.Div(this=micros, expression=exp.Literal.number(1_000_000))
    return node


_INTEGERS = {
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
}
_FRACTIONAL = (exp.Mul, exp.Div, exp.Add, exp.Sub, exp.Pow)


def _spark_rounding_cast(node: exp.Expr) -> exp.Expr:
    if (
        isinstance(node, exp.Cast)
        and node.to.this in _INTEGERS
        and isinstance(node.this, _FRACTIONAL)
    ):
        return exp.cast(exp.Round(this=node.this.copy()), node.to)
    return node


def _spark_weekday(node: exp.Expr) -> exp.Expr:
    """DuckDB's ``DAYOFWEEK`` (Sunday = 0) and ``ISODOW`` (Monday = 1) from Spark's
    ``DAYOFWEEK`` (Sunday = 1), also when written as ``EXTRACT(dow | isodow FROM t)``."""
    if isinstance(node, exp.Extract) and node.this.name.upper() in ("DOW", "ISODOW"):
        kind = exp.DayOfWeek if node.this.name.upper() == "DOW" else exp.DayOfWeekIso
        node = kind(this=node.expression.copy())
    if isinstance(node, exp.DayOfWeek | exp.DayOfWeekIso):
        spark_day = f"DAYOFWEEK({node.this.sql('spark')})"
        iso = isinstance(node, exp.DayOfWeekIso)
        text = f"(({spark_day} + 5) % 7 + 1)" if iso else f"({spark_day} - 1)"
        return sqlglot.parse_one(text, read="spark")
    return node


# Dialect -> transformations applied before emission, in order.
REWRITES: Mapping[str, tuple[Callable[[exp.Expr], exp.Expr], ...]] = {
    "duckdb": (),
    "spark": (_spark_epoch, _spark_rounding_cast, _spark_weekday),
}


def emit(tree: exp.Expr, dialect: str, events_table: str = "events") -> str:
    """SQL text of ``tree`` for ``dialect``, reading events from ``events_table``."""
    if dialect not in REWRITES:
        raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(REWRITES)}")
    if events_table != "events":
        tree = tree.transform(
            lambda n: (
                exp.to_table(events_table).as_(n.alias_or_name)
                if isinstance(n, exp.Table) and n.name == "events" and not n.db
                else n
            )
        )
    for rewrite in REWRITES[dialect]:
        tree = tree.transform(rewrite)
    return tree.sql(dialect=dialect)
