"""Raw records out of log files: JSON Lines, wrapped batches, whole documents, gzip, and the
Avro container files of Event Hubs Capture.

Memory per file is constant for JSON Lines: one line at a time. A line that holds a wrapper
(``{"Records": [...]}`` as CloudTrail writes, ``{"records": [...]}`` as Event Hubs capture,
``{"object": "list", "data": [...]}`` as the OpenAI API pages) is parsed whole: such lines are
bounded by their producers (a CloudTrail file is at most tens of MB). A file whose first line is
not complete JSON but starts like JSON (a pretty-printed document or array) is parsed whole. An
Avro file is read block by block; each event's ``Body`` is one such JSON value.
"""

from __future__ import annotations

import gzip
import itertools
import zlib
from collections.abc import Generator, Iterable, Iterator
from io import BufferedIOBase, BufferedReader
from pathlib import Path
from typing import IO, Any, cast

import fastavro
import orjson
from fastavro.schema import SchemaParseException

from stormwatch.events.parsers.protocol import Location
from stormwatch.events.values import Problem

GZIP_MAGIC = b"\x1f\x8b"
AVRO_MAGIC = b"Obj\x01"
LOG_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".log", ".avro"})
WRAPPER_KEYS = ("Records", "records", "data")
SAMPLE_CHARS = 80
# A NUL byte this early means the file is no text log (an image, an archive, a database).
BINARY_PROBE = 8192
BINARY = Problem("binary content", "NUL bytes in the first 8 KiB: not a text log")
# What fastavro raises on a damaged or cut container: a bad header, sync marker, codec block or
# value (a damaged length even asks for terabytes: MemoryError).
AVRO_DAMAGE = (ValueError, LookupError, EOFError, MemoryError, zlib.error, SchemaParseException)

# (where, record, problem): exactly one of record / problem is set.
RawItem = tuple[Location, Any, Problem | None]


class CorruptAvroError(Exception):
    """An Avro file that cannot be read past some point; the records before it are kept."""


def walk(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named by ``paths``; directories are walked recursively (log-like names only)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and looks_like_log(child):
                    yield child
        else:
            yield path


def looks_like_log(path: Path) -> bool:
    """A log file's name: ``.json``, ``.jsonl``, ``.ndjson``, ``.log`` or ``.avro``, optionally
    ``.gz``."""
    suffixes = path.suffixes
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1].lower() in LOG_SUFFIXES


def open_binary(path: Path) -> gzip.GzipFile | BufferedReader:
    """``path`` opened for reading bytes; gzip content is decompressed transparently."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:
        return gzip.open(path, "rb")
    return path.open("rb")


def unwrap(value: Any) -> list[Any] | None:
    """The records of a wrapper document, or ``None`` when ``value`` is one record."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and len(value) <= 4:
        for key in WRAPPER_KEYS:
            inner = value.get(key)
            if isinstance(inner, list) and (key != "data" or value.get("object") == "list"):
                return inner
    return None


def read_records(path: Path) -> Iterator[RawItem]:
    """Every record of one file, with its location, or a problem for what is not JSON."""
    name = str(path)
    with open_binary(path) as stream:
        if stream.peek(len(AVRO_MAGIC)).startswith(AVRO_MAGIC):
            yield from _read_capture(name, stream)
            return
        if b"\x00" in stream.peek(BINARY_PROBE)[:BINARY_PROBE]:
            yield Location(name, 1), None, BINARY
            return
        lines = enumerate(stream, 1)
        first = next(((number, raw) for number, raw in lines if raw.strip()), None)
        if first is None:
            return
        number, raw = first
        if not _starts_document(raw):
            yield from _read_lines(name, itertools.chain([(number, raw)], lines))
            return
        data = raw + stream.read()
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        yield from _read_lines(name, enumerate(data.splitlines(), number))
        return
    yield from _records_of(name, number, value, 0)


def _read_capture(name: str, stream: BufferedIOBase) -> Iterator[RawItem]:
    """The records in each event's ``Body`` of an Event Hubs Capture (Avro) file, numbered by
    their position in the file; a ``Body`` that is not JSON is one problem."""
    ordinal = 0
    for event in _avro_events(stream):
        body = event.get("Body") if isinstance(event, dict) else None
        if not isinstance(body, bytes):  # an event without body, or an Avro file of another schema
            body = b""
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            ordinal += 1
            yield Location(name, ordinal, in_array=True), None, _invalid(body)
            continue
        # a Body of one record is numbered like a wrapper's records: by position in the file
        records = value if unwrap(value) is not None else [value]
        ordinal = yield from _records_of(name, ordinal, records, ordinal)


def _avro_events(stream: BufferedIOBase) -> Iterator[Any]:
    """The decoded values of an Avro container, one block in memory at a time."""
    try:
        # plain or gzip: a binary file, which typeshed does not declare as IO
        yield from fastavro.reader(cast(IO[bytes], stream))
    except AVRO_DAMAGE as error:
        raise CorruptAvroError(f"{type(error).__name__}: {error}") from error


def _starts_document(raw: bytes) -> bool:
    """A first line that opens a multi-line document (``{``, ``[`` or ``{"Records": [``)."""
    stripped = raw.strip()
    return stripped in (b"{", b"[") or (stripped[:1] in (b"{", b"[") and stripped[-1:] in b"[{,")


def _read_lines(name: str, lines: Iterable[tuple[int, bytes]]) -> Iterator[RawItem]:
    ordinal = 0
    for number, raw in lines:
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            yield Location(name, number), None, _invalid(raw)
            continue
        ordinal = yield from _records_of(name, number, value, ordinal)


def _records_of(name: str, number: int, value: Any, ordinal: int) -> Generator[RawItem, None, int]:
    """The records in one decoded value; returns the last array ordinal used."""
    records = unwrap(value)
    if records is None:
        yield Location(name, number), value, None
        return ordinal
    for record in records:
        ordinal += 1
        yield Location(name, ordinal, in_array=True), record, None
    return ordinal


def _invalid(raw: bytes) -> Problem:
    sample = raw[:SAMPLE_CHARS].decode("utf-8", "replace").strip()
    return Problem("invalid JSON", "".join(map(_printable, sample)))


def _printable(char: str) -> str:
    """A sample's character as a terminal can show it (control characters escaped)."""
    return char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
