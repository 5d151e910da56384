"""Column types on Spark, derived from the DuckDB model by sqlglot (one table of types).

``TIMESTAMP`` becomes ``TIMESTAMP_NTZ``: stormwatch's times are naive UTC on both engines, so
neither the session nor the Python worker's time zone can shift them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
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
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=None)


def _real(value: Any) -> Any:
    return None if value is None else float(value)


# JSON value -> Python value Spark accepts for the column's type (others pass as they are).
_FROM_JSON: Mapping[str, Callable[[Any], Any]] = MappingProxyType(
    {"TIMESTAMP": _naive_utc, "DOUBLE": _real}
)
CONVERTERS: tuple[Callable[[Any], Any] | None, ...] = tuple(
    _FROM_JSON.get(kind) for _, kind, _ in COLUMNS
)


def event_row(values: list[Any]) -> tuple[Any, ...]:
    """One decoded batch row (JSON types, ``COLUMNS`` order) as a row of ``EVENTS_SCHEMA``."""
    return tuple(
        value if convert is None else convert(value)
        for value, convert in zip(values, CONVERTERS, strict=True)
    )
