"""What every log-source parser is: a pure function from one decoded record to one event.

A parser never raises on bad input and never drops a record silently: it returns the event, or
``None`` with the problems that rejected the record. Problems returned *with* an event are notes
(a field left empty, e.g. a service name in the IP field) that the ingest report counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from stormwatch.events.model import Event
from stormwatch.events.values import Problem

Record = Mapping[str, Any]
# Event fields by column name (absent = NULL): the hot path packs them without building an Event.
Fields = dict[str, Any]
FieldsResult = tuple[Fields | None, tuple[Problem, ...]]
ParseResult = tuple[Event | None, tuple[Problem, ...]]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a record sits: ``line`` is the physical line for JSON Lines, or, inside a
    ``Records``/``records`` array, the record's 1-based position in the file (``in_array``)."""

    file: str
    line: int
    in_array: bool = False

    def __str__(self) -> str:
        return f"{self.file}:record {self.line}" if self.in_array else f"{self.file}:{self.line}"


FieldsFn = Callable[[Record, Location], FieldsResult]
SniffFn = Callable[[Record], bool]


@dataclass(frozen=True, slots=True)
class SourceParser:
    """One log source: its name (the ``source`` column), how to recognise and parse a record.

    ``fields`` is the source's code; :meth:`parse` wraps it into an :class:`Event`. Bulk
    ingestion calls ``fields`` directly because building 32-field frozen objects per record
    would cost more than the parsing itself.
    """

    name: str
    fields: FieldsFn
    sniff: SniffFn

    def parse(self, record: Record, where: Location) -> ParseResult:
        """One decoded record as an :class:`Event`, or ``None`` and why."""
        found, problems = self.fields(record, where)
        return (None if found is None else Event(**found)), problems


def record_event_id(source: str, record: Record) -> str:
    """sha256 of the source name and the record's canonical JSON (sorted keys).

    Canonical bytes make the id independent of file, line, whitespace and key order, so the same
    record ingested again, from any path or wrapper, gets the same id.
    """
    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(source.encode() + b"\x00" + canonical).hexdigest()


def rejected(*problems: Problem | None) -> FieldsResult:
    """The result of a record rejected by the first of ``problems`` that is not ``None``."""
    found = present(*problems)
    return None, found[:1] or (Problem("rejected"),)


def present(*problems: Problem | None) -> tuple[Problem, ...]:
    """The problems that occurred (drops the ``None`` placeholders)."""
    return tuple(problem for problem in problems if problem is not None)


def unknown_shape(source: str, record: Record) -> FieldsResult:
    """The result of a record that does not look like ``source`` at all."""
    keys = ",".join(sorted(record)[:8]) if isinstance(record, Mapping) else type(record).__name__
    return None, (Problem("unknown record shape", f"not {source}: keys {keys}"),)


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty mapping (absent nested objects)."""
    if type(value) is dict:  # the decoder's own type: skip the slower ABC check
        return value
    return value if isinstance(value, Mapping) else _EMPTY


_EMPTY: Mapping[str, Any] = MappingProxyType({})
