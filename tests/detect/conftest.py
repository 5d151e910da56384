"""Shared fixtures: an in-memory store with the ``events`` table and a way to fill it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import duckdb
import pytest

from stormwatch.detect.examples import expand_example, insert_events
from stormwatch.events.model import events_table_ddl

Specs = Iterable[Mapping[str, object]]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(events_table_ddl())
    return connection


@pytest.fixture
def add_events(con: duckdb.DuckDBPyConnection) -> Callable[..., list[dict[str, Any]]]:
    """Insert the events described by example specs (see ``stormwatch.detect.examples``)."""

    def add(*specs: Mapping[str, object], seed: int = 0) -> list[dict[str, Any]]:
        rows = expand_example(specs, seed=seed)
        insert_events(con, rows)
        return rows

    return add
