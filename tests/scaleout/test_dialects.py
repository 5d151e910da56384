"""Silent dialect differences: the same portable expression gives the same value on both.

Each case is an expression of the portable SQL subset rules are written in (macros included),
evaluated by DuckDB and by Spark SQL after sqlglot's emission and stormwatch's rewrites. A case
here is a difference that once was, or easily could be, silent: sub-second epochs, casts that
round on one engine and truncate on the other, time zones, integer division, the IP macros.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from stormwatch.detect.portable import emit, parse_portable

pytestmark = pytest.mark.slow

CASES = {
    "epoch keeps the fraction": "EPOCH(TIMESTAMP '2025-06-01 12:00:00.750')",
    "epoch is UTC": "EPOCH(TIMESTAMP '1970-01-02 00:00:00')",
    "floor of an epoch bucket": "FLOOR(EPOCH(TIMESTAMP '2025-06-01 12:34:56.9') / 60)",
    "cast of a fraction rounds": "CAST(EPOCH(TIMESTAMP '2025-06-01 12:00:00.6') * 1 AS BIGINT)",
    "cast of a negative fraction": "CAST(-2.5 * 1 AS BIGINT)",
    "cast of a product": "CAST(1.0015 * 1000 AS BIGINT)",
    "division is real": "7 / 2",
    "timestamp text round trip": (
        "CAST(TRIM(RPAD(CAST(TIMESTAMP '2025-06-01 12:00:00.5' AS VARCHAR), 26, ' ')) AS TIMESTAMP)"
    ),
    "whole-second timestamp text": "CAST(TIMESTAMP '2025-06-01 12:00:00' AS VARCHAR)",
    "net24 of an address": "NET24('203.0.113.7')",
    "net24 of a masked network": "NET24('203.0.113.0/24')",
    "net24 of a name": "NET24('bedrock.amazonaws.com')",
    "ipv4 as integer": "IPV4_INT('10.1.2.3')",
    "last address of a network": "IPV4_LAST('10.0.0.0/8')",
    "integer text": "CAST(COUNT(*) AS VARCHAR)",
    "padded millis": "LPAD(CAST(CAST(1748779200.5 * 1000 AS BIGINT) AS VARCHAR), 15, '0')",
    "day of the week, Sunday": "DAYOFWEEK(TIMESTAMP '2025-06-01 12:00:00')",
    "day of the week, Monday": "DAYOFWEEK(TIMESTAMP '2025-06-02 12:00:00')",
    "ISO day of the week, Sunday": "ISODOW(TIMESTAMP '2025-06-01 12:00:00')",
    "ISO day of the week, Monday": "ISODOW(TIMESTAMP '2025-06-02 12:00:00')",
    "extract dow": "EXTRACT(dow FROM TIMESTAMP '2025-06-07 12:00:00')",
    "extract isodow": "EXTRACT(isodow FROM TIMESTAMP '2025-06-07 12:00:00')",
    "hour": "HOUR(TIMESTAMP '2025-06-01 23:59:59')",
}


def _duckdb(sql: str) -> Any:
    row = duckdb.connect().execute(emit(parse_portable(sql, "case"), "duckdb")).fetchone()
    assert row is not None
    return row[0]


def _spark(spark: Any, sql: str) -> Any:
    return spark.sql(emit(parse_portable(sql, "case"), "spark")).collect()[0][0]


@pytest.mark.parametrize("expression", list(CASES.values()), ids=list(CASES))
def test_same_value_on_both_engines(spark: Any, expression: str) -> None:
    sql = f"SELECT {expression} AS v"
    duck, sparked = _duckdb(sql), _spark(spark, sql)
    if isinstance(duck, float) or isinstance(sparked, float):
        assert float(sparked) == pytest.approx(float(duck), abs=1e-9)
    else:
        assert sparked == duck
