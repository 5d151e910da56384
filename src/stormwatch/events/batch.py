"""Events packed for the store: a batch of rows, spooled to a file as JSON Lines.

Python objects are slow to hand to DuckDB row by row and costly to pickle between processes, so
a batch is serialised once, by ``orjson``, as JSON Lines of arrays in ``COLUMN_NAMES`` order;
DuckDB's own JSON reader turns it into columns. Times are written as UTC with a ``Z``. The
ingester spools each batch to a file where it was parsed: only the file's name crosses to the
inserting process, which hands DuckDB many such files at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

import orjson

from stormwatch.events.model import COLUMN_NAMES, Event

_ROW = attrgetter(*COLUMN_NAMES)
_JSON_LINE = orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE
SPOOL_BUFFER = 1 << 20


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Events of one batch as rows in ``COLUMN_NAMES`` order, distinct by ``event_id``, with
    their time span.

    ``first`` and ``last`` bound the events' times: the store only looks for duplicates in that
    span (a record's id fixes its time), which keeps inserts fast as the table grows.
    """

    kept: Sequence[Sequence[Any]]
    repeated: int
    first: datetime | None
    last: datetime | None

    @classmethod
    def of(cls, events: Iterable[Event]) -> EventBatch:
        """Pack ``events``; an id seen twice in the batch is kept once and counted."""
        return cls.of_rows([_ROW(event) for event in events])

    @classmethod
    def of_rows(cls, rows: Sequence[Sequence[Any]]) -> EventBatch:
        """Pack rows in ``COLUMN_NAMES`` order (``event_id`` first, ``time`` second)."""
        distinct = {row[0]: row for row in reversed(rows)}
        kept = list(distinct.values())
        times = [row[1] for row in kept]
        return cls(
            kept=kept,
            repeated=len(rows) - len(kept),
            first=min(times, default=None),
            last=max(times, default=None),
        )

    @property
    def rows(self) -> int:
        return len(self.kept)

    def write(self, stream: IO[bytes]) -> None:
        """The rows as JSON Lines of arrays, written row by row: one joined payload of a batch
        (tens of MB) cost a page fault per 4 KiB of it, a third of a parse worker's system time."""
        stream.writelines(orjson.dumps(row, option=_JSON_LINE) for row in self.kept)


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """Batches whose payloads wait in files (``paths``) for the store, with their totals."""

    paths: tuple[Path, ...]
    rows: int
    repeated: int
    first: datetime | None
    last: datetime | None

    @classmethod
    def of(cls, batch: EventBatch, path: Path) -> SpooledBatch:
        """Write ``batch``'s rows to ``path`` (nothing for an empty batch)."""
        if batch.rows:
            with path.open("wb", buffering=SPOOL_BUFFER) as stream:
                batch.write(stream)
        paths = (path,) if batch.rows else ()
        return cls(paths, batch.rows, batch.repeated, batch.first, batch.last)


def merged(batches: Sequence[SpooledBatch]) -> SpooledBatch:
    """Several spooled batches as one (one transaction for many files)."""
    firsts = [b.first for b in batches if b.first is not None]
    lasts = [b.last for b in batches if b.last is not None]
    return SpooledBatch(
        paths=tuple(path for b in batches for path in b.paths),
        rows=sum(b.rows for b in batches),
        repeated=sum(b.repeated for b in batches),
        first=min(firsts, default=None),
        last=max(lasts, default=None),
    )


def row_of(fields: dict[str, Any]) -> tuple[Any, ...]:
    """Event fields (absent = NULL) as a row in ``COLUMN_NAMES`` order."""
    return tuple(map(fields.get, COLUMN_NAMES))
