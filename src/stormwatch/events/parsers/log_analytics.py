"""Log Analytics / Microsoft Sentinel rows, read by the parser of the source they came from.

Many teams export AI-service logs from a workspace (KQL results as JSON: one object per row, or
an array of rows) instead of from storage or Event Hubs. The records are the same, but carry the
table's column names (``TimeGenerated``, ``CallerIPAddress``, ``properties_s``). A table is
data, a :class:`TableShape` from column to native field path; one adapter rebuilds the native
record from a row and hands it to the native parser's ``fields``. Mapping and normalisation stay
in one place, and events keep the native ``source``, so every detection rule applies unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from stormwatch.events.parsers.protocol import (
    FieldsResult,
    Location,
    Record,
    SourceParser,
    record_event_id,
)
from stormwatch.events.values import Problem


@dataclass(frozen=True, slots=True)
class TableShape:
    """How the rows of one Log Analytics table become the records of one native source.

    ``marker`` columns are in every row of the table and in no native record (native records
    use camelCase keys), so recognising rows can never claim a native record; ``accepted``
    pairs restrict a column's values (``AzureDiagnostics`` holds every Azure service's logs).
    ``columns`` maps a column to a dotted native path; when several columns name one path, the
    first non-empty one wins. ``json_columns`` hold JSON text where the native record has an
    object. ``constants`` are native fields that every row of the table stands for but no
    column holds (the category of a table that stores one category and has no such column).
    """

    table: str
    source: str
    marker: tuple[str, ...]
    columns: Mapping[str, str]
    json_columns: frozenset[str] = frozenset()
    accepted: tuple[tuple[str, frozenset[str]], ...] = ()
    constants: tuple[tuple[str, str], ...] = ()

    def matches(self, row: Record) -> bool:
        """The row has this table's marker columns, with accepted values."""
        if not all(column in row for column in self.marker):
            return False
        # Text only: a JSON object in a marker column must not raise on the set look-up.
        return all(
            isinstance(row[column], str) and row[column] in values
            for column, values in self.accepted
        )


def native_record(shape: TableShape, row: Record) -> tuple[dict[str, Any], tuple[Problem, ...]]:
    """The native record a row stands for, and notes on JSON columns that could not be read.

    Empty strings mean absent: Log Analytics writes ``""`` for a string it never received
    (``ErrorCode`` of a successful call), where the native record has no field at all.
    """
    record: dict[str, Any] = {}
    notes: list[Problem] = []
    for column, path in shape.columns.items():
        value = row.get(column)
        if value is None or value == "":
            continue
        if column in shape.json_columns and isinstance(value, str):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                notes.append(Problem("invalid JSON column", f"{column}: {value[:60]}"))
                continue
        _place(record, path.split("."), value)
    for path, value in shape.constants:
        _place(record, path.split("."), value)
    return record, tuple(notes)


def _place(record: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``record[a][b]... = value`` unless an earlier column already set that path."""
    *parents, leaf = path
    for name in parents:
        record = record.setdefault(name, {})
    record.setdefault(leaf, value)


@dataclass(frozen=True, slots=True)
class _RowsAndRecords:
    """A native parser that also reads the rows of the tables holding its records."""

    native: SourceParser
    shapes: tuple[TableShape, ...]

    def shape_of(self, record: Record) -> TableShape | None:
        # The first marker column alone rules out native records cheaply: this is the hot path.
        for shape in self.shapes:
            if shape.marker[0] in record and shape.matches(record):
                return shape
        return None

    def sniff(self, record: Record) -> bool:
        return self.native.sniff(record) or self.shape_of(record) is not None

    def fields(self, record: Record, where: Location) -> FieldsResult:
        shape = self.shape_of(record)
        if shape is None:
            return self.native.fields(record, where)
        native, notes = native_record(shape, record)
        found, problems = self.native.fields(native, where)
        if found is None:
            return None, problems
        # The id hashes the row as read, so re-ingesting the same export adds nothing.
        found["event_id"] = record_event_id(self.native.name, record)
        return found, problems + notes


def reading_tables(parser: SourceParser, shapes: Iterable[TableShape]) -> SourceParser:
    """``parser``, also reading rows of the ``shapes`` whose source it is (same name, same
    events); the parser itself when no table holds its records."""
    own = tuple(shape for shape in shapes if shape.source == parser.name)
    if not own:
        return parser
    both = _RowsAndRecords(parser, own)
    return SourceParser(parser.name, both.fields, both.sniff)
