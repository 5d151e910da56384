"""Column types on Spark, derived from the DuckDB model by sqlglot (one table of types).

``TIMESTAMP`` becomes ``TIMESTAMP_NTZ``: stormwatch's times are naive UTC on both engines, so
neither the session nor the Python worker's time zone can shift them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC
from types import MappingProxyType
from typing import Any

import sqlglot
from sqlglot import exp

from stormwatch.events.model import COLUMNS


def spark_type(duckdb_type: str) -> str:
    """The Spark SQL spelling of a DuckDB column type."""
    return exp.DataType.build(duckdb_type, dialect="duckdb").sql("spark")


def spark_schema(columns: str) -> str:
    """A DuckDB column list (``name TYPE, ...``) as a Spark DDL schema string."""
    table = sqlglot.parse_one(f"CREATE TABLE t ({columns})", read="duckdb")
    defs = table.find_all(exp.ColumnDef)
    return ", ".join(f"{d.name} {d.args['kind'].sql('spark')}" for d in defs)


EVENTS_SCHEMA = ", ".join(f"{name} {spark_type(kind)}" for name, kind, _ in COLUMNS)


def _naive_utc(value: Any) -> Any:
    """A parser's time (aware UTC; naive means UTC) as the naive UTC that TIMESTAMP_NTZ takes."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _real(value: Any) -> Any:
    return None if value is None else float(value)


# A parser's value -> the Python value Spark accepts for the column's type (others pass as they
# are: a cost may be an int, a time is aware).
_FROM_PARSER: Mapping[str, Callable[[Any], Any]] = MappingProxyType(
    {"TIMESTAMP": _naive_utc, "DOUBLE": _real}
)
CONVERTERS: tuple[Callable[[Any], Any] | None, ...] = tuple(
    _FROM_PARSER.get(kind) for _, kind, _ in COLUMNS
)


def event_row(values: Sequence[Any]) -> tuple[Any, ...]:
    """One batch row (the parsers' values, ``COLUMNS`` order) as a row of ``EVENTS_SCHEMA``."""
    return tuple(
        value if convert is None else convert(value)
        for value, convert in zip(values, CONVERTERS, strict=True)
    )
