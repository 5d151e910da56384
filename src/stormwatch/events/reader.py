"""Raw records out of log files: JSON Lines, wrapped batches, whole documents, gzip, and the
Avro container files of Event Hubs Capture.

Memory per file is constant for JSON Lines: one line at a time. A line that holds a wrapper
(``{"Records": [...]}`` as CloudTrail writes, ``{"records": [...]}`` as Event Hubs capture, a
saved API page: OpenAI's ``{"object": "list", "data": [...]}``, LiteLLM's spend-log pages,
Azure Resource Manager's ``{"value": [...], "nextLink": ...}``) is parsed whole: such lines are
bounded by their producers (a CloudTrail file is at most tens of MB). A file whose first line is
not complete JSON but starts like JSON (a pretty-printed document or array) is parsed whole. An
Avro file is read block by block; each event's ``Body`` is one such JSON value.

Logs that went through CloudWatch Logs (Bedrock invocation logs, CloudTrail) arrive in its
envelopes, whose ``message`` strings are the records: subscription data (``logEvents``, as a
subscription filter hands it to Firehose, which concatenates the documents with no separator),
the ``events`` of ``aws logs filter-log-events`` / ``get-log-events``, and the lines of an
export task (``<ISO time> <message>``). ``aws cloudtrail lookup-events`` output carries each
event as ``CloudTrailEvent`` text.
"""

from __future__ import annotations

import functools
import itertools
import re
import zlib
from collections.abc import Collection, Generator, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import orjson

from stormwatch.events.archives import ArchiveError, archive_errors, archive_members
from stormwatch.events.files import ExpansionBudget, Readable, log_name, open_binary
from stormwatch.events.parsers.protocol import Location
from stormwatch.events.report import printable
from stormwatch.events.values import Problem
from stormwatch.sniffing import archive_kind

# Archives of logs (a portal download, a bundle), by their kind; their logs are read in place.
ARCHIVES = {"zip": "zip archive", "tar": "tar archive"}
MEMBER_MARK = "!"
MAX_ARCHIVE_DEPTH = 3
TOO_DEEP = Problem("archive", f"nested more than {MAX_ARCHIVE_DEPTH} archives deep: extract it")
AVRO_MAGIC = b"Obj\x01"
WRAPPER_KEYS = ("Records", "records")
# A saved page of an API listing: OpenAI's (``object: "list"``, ``data``, ``first_id``,
# ``last_id``, ``has_more``) or LiteLLM's spend-log pages (``data``, ``total``, these).
PAGE_KEYS = frozenset({"page", "page_size", "total_pages"})
# An Azure Resource Manager list page (the Activity Log REST API): ``value`` and ``nextLink``.
ARM_PAGE_KEYS = frozenset({"value", "nextLink"})
# A Log Analytics query result as its REST API returns it (Microsoft's "Azure Monitor Log
# Analytics API response format"): ``tables`` of ``columns`` and ``rows``, an ``error`` beside
# them after a partial failure, statistics and a render hint when asked for.
QUERY_RESULT_KEYS = frozenset({"tables", "error", "statistics", "render"})
SAMPLE_CHARS = 80
# A NUL byte this early means the file is no text log (an image, an archive, a database).
BINARY_PROBE = 8192
BINARY = Problem("binary content", "NUL bytes in the first 8 KiB: not a text log")
CONTROL = Problem("CloudWatch control message", ignore=True)
# One line or document above this is not parsed: its objects would take several times as much
# memory (CloudTrail objects are tens of MB, Log Analytics caps query results well below).
MAX_RECORD_BYTES = 256 << 20
TOO_LARGE = Problem("record too large", f"one line or document over {MAX_RECORD_BYTES >> 20} MiB")
NOT_TEXT = Problem("unknown record shape", "envelope item without its record text:")
# (envelope key, field of each item holding a record as JSON text, another field it always has)
TEXT_ENVELOPES = (("events", "message", "timestamp"), ("Events", "CloudTrailEvent", "EventId"))
# A CloudWatch Logs export task's line: the event's time, a space, the message.
EXPORTED_LINE = re.compile(rb"\d{4}-\d\d-\d\dT[\d:.]+Z ")
CONCATENATED = "unexpected content after document"
# What fastavro raises on a damaged or cut container: a bad header, sync marker, codec block or
# value (a damaged length even asks for terabytes: MemoryError); and its schema errors.
AVRO_DAMAGE = (ValueError, LookupError, EOFError, MemoryError, zlib.error)

# (where, record, problem): exactly one of record / problem is set.
RawItem = tuple[Location, Any, Problem | None]


class CorruptAvroError(Exception):
    """An Avro file that cannot be read past some point; the records before it are kept."""


def unwrap(value: Any) -> list[Any] | None:
    """The records of a wrapper document, or ``None`` when ``value`` is one record."""
    if isinstance(value, list):
        return value
    if not isinstance(value, dict) or len(value) > 5:
        return None
    data = value.get("data")
    if isinstance(data, list) and (value.get("object") == "list" or value.keys() >= PAGE_KEYS):
        return data
    for key in WRAPPER_KEYS if len(value) <= 4 else ():
        inner = value.get(key)
        if isinstance(inner, list):
            return inner
    inner = value.get("value")
    if isinstance(inner, list) and value.keys() <= ARM_PAGE_KEYS:
        return inner
    tables = value.get("tables")
    if isinstance(tables, list) and value.keys() <= QUERY_RESULT_KEYS:
        return _query_rows(tables)
    return None


def _query_rows(tables: list[Any]) -> list[Any] | None:
    """The rows of a Log Analytics query result as objects of column name to value, as
    ``az monitor log-analytics query`` gives them; ``None`` when a table is not
    ``{"columns": [{"name", ...}], "rows": [[...]]}``. A row of another length stays a list
    (and is rejected as no object)."""
    rows: list[Any] = []
    for table in tables:
        columns = table.get("columns") if isinstance(table, dict) else None
        found = table.get("rows") if isinstance(table, dict) else None
        if not isinstance(columns, list) or not isinstance(found, list):
            return None
        names = [column.get("name") if isinstance(column, dict) else None for column in columns]
        if not all(isinstance(name, str) for name in names):
            return None
        rows += [
            dict(zip(names, row, strict=True))
            if isinstance(row, list) and len(row) == len(names)
            else row
            for row in found
        ]
    return rows


def read_records(path: Path, members: Collection[str] | None = None) -> Iterator[RawItem]:
    """Every record of one file (of every log in it, for an archive: of the ``members`` named,
    when given), with its location, or a problem for what is not JSON."""
    budget = ExpansionBudget()
    with open_binary(path, budget) as stream:
        yield from _read_stream(log_name(path), stream, 0, budget, members)


def _read_stream(
    name: str,
    stream: Readable,
    depth: int,
    budget: ExpansionBudget,
    members: Collection[str] | None = None,
) -> Iterator[RawItem]:
    """The records of one opened log (or archive of logs, ``depth`` archives deep, of its
    ``members`` when given) named ``name``."""
    if stream.peek(len(AVRO_MAGIC)).startswith(AVRO_MAGIC):
        yield from _read_capture(name, stream)
        return
    head = stream.peek(BINARY_PROBE)[:BINARY_PROBE]
    kind = archive_kind(name, head)
    if kind in ARCHIVES:
        yield from _read_archive(name, kind, stream, depth, budget, members)
        return
    if b"\x00" in head:
        yield Location(name, 1), None, BINARY
        return
    lines = _bounded_lines(stream)
    first = next(((number, raw) for number, raw in lines if raw.strip()), None)
    if first is None:
        return
    number, raw = first
    if len(raw) > MAX_RECORD_BYTES or not _starts_document(raw):
        yield from _read_lines(name, itertools.chain([(number, raw)], lines))
        return
    data = raw + stream.read(MAX_RECORD_BYTES + 1 - len(raw))
    if len(data) > MAX_RECORD_BYTES:
        yield Location(name, number), None, TOO_LARGE
        return
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        # JSON Lines after all, unless no line is a record: then one broken document
        items = list(_read_lines(name, enumerate(data.splitlines(), number)))
        if any(problem is None for _, _, problem in items):
            yield from items
        else:
            where = Location(name, number + error.lineno - 1)
            yield where, None, Problem("invalid JSON", f"document: {_why(error)}")
        return
    yield from _records_of(name, number, value, 0)


def _read_archive(
    name: str,
    kind: str,
    stream: Readable,
    depth: int,
    budget: ExpansionBudget,
    members: Collection[str] | None,
) -> Iterator[RawItem]:
    """The records of the logs in an archive (of ``members`` only, when given), each named
    ``<archive>!<member>``."""
    if depth >= MAX_ARCHIVE_DEPTH:
        yield Location(name, 1), None, TOO_DEEP
        return
    member = None
    try:
        for member, open_member in archive_members(kind, stream, budget):
            if members is not None and member not in members:
                continue
            with open_member() as content:
                if content is not None:
                    inner = f"{name}{MEMBER_MARK}{member}"
                    yield from _read_stream(inner, content, depth + 1, budget)
    except archive_errors() as error:
        at = f", member {member}" if member else ""
        raise ArchiveError(f"{ARCHIVES[kind]}{at}: {error}") from error


def _read_capture(name: str, stream: Readable) -> Iterator[RawItem]:
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


def _avro_events(stream: Readable) -> Iterator[Any]:
    """The decoded values of an Avro container, one block in memory at a time. fastavro is
    imported here, on the first Avro file: it adds 40 ms to every start otherwise."""
    import fastavro
    from fastavro.schema import SchemaParseException

    try:
        # plain or gzip: a binary file, which typeshed does not declare as IO
        yield from fastavro.reader(cast(IO[bytes], stream))
    except (*AVRO_DAMAGE, SchemaParseException) as error:
        raise CorruptAvroError(f"{type(error).__name__}: {error}") from error


def _starts_document(raw: bytes) -> bool:
    """A first line that opens a multi-line document (``{``, ``[`` or ``{"Records": [``)."""
    stripped = raw.strip()
    return stripped in (b"{", b"[") or (stripped[:1] in (b"{", b"[") and stripped[-1:] in b"[{,")


def _bounded_lines(stream: Readable) -> Iterator[tuple[int, bytes]]:
    """The stream's lines, numbered from 1, each read up to ``MAX_RECORD_BYTES + 1`` bytes: a
    longer line comes in pieces (the first without its newline), which ``_read_lines`` skips."""
    return enumerate(iter(functools.partial(stream.readline, MAX_RECORD_BYTES + 1), b""), 1)


def _read_lines(name: str, lines: Iterable[tuple[int, bytes]]) -> Iterator[RawItem]:
    ordinal = 0
    pieces = 0  # pieces of over-long lines so far: they are no lines of their own
    skipping = False
    for number, raw in lines:
        if skipping or len(raw) > MAX_RECORD_BYTES:
            pieces += skipping
            if not skipping:
                yield Location(name, number - pieces), None, TOO_LARGE
            skipping = not raw.endswith(b"\n")
            continue
        number -= pieces
        if not raw.strip():
            continue
        try:
            values = [orjson.loads(raw)]
        except orjson.JSONDecodeError as error:
            found = _salvaged(raw, error)
            if found is None:
                yield Location(name, number), None, _invalid(raw, error)
                continue
            values = found
        for value in values:
            ordinal = yield from _records_of(name, number, value, ordinal)


def _salvaged(raw: bytes, error: orjson.JSONDecodeError) -> list[Any] | None:
    """The documents of a line that is not one JSON value but a known arrangement of them:
    documents concatenated with no separator (Firehose), or an export task's timed message."""
    if EXPORTED_LINE.match(raw):
        try:
            return [orjson.loads(raw[raw.index(b" ") + 1 :])]
        except orjson.JSONDecodeError:
            return None
    return _concatenated(raw) if error.msg == CONCATENATED else None


def _concatenated(raw: bytes) -> list[Any] | None:
    """Objects written back to back (``{...}{...}``), or ``None`` if that is not what ``raw``
    holds. A ``}{`` inside a string makes a piece that does not parse; it joins the next."""
    values = []
    pending = b""
    pieces = raw.strip().split(b"}{")
    for index, piece in enumerate(pieces):
        start = b"{" if index else b""
        end = b"}" if index < len(pieces) - 1 else b""
        pending += start + piece + end
        try:
            values.append(orjson.loads(pending))
        except orjson.JSONDecodeError:
            continue
        pending = b""
    return None if pending else values


def _records_of(name: str, number: int, value: Any, ordinal: int) -> Generator[RawItem, None, int]:
    """The records in one decoded value; returns the last array ordinal used."""
    records = unwrap(value)
    texts = None if records is not None else _record_texts(value)
    if records is None and texts is None:
        yield Location(name, number), value, None
        return ordinal
    for record in records or ():
        ordinal += 1
        yield Location(name, ordinal, in_array=True), record, None
    items, field = texts or ([], "")
    for item in items:
        ordinal += 1
        yield Location(name, ordinal, in_array=True), *_text_record(item, field)
    return ordinal


def _record_texts(value: Any) -> tuple[list[Any], str] | None:
    """The items of an envelope whose records are JSON text, and the field holding it, or
    ``None`` when ``value`` is none: CloudWatch Logs' log events (``message``) and the events of
    ``aws cloudtrail lookup-events`` (``CloudTrailEvent``). A control message (Firehose's health
    check) holds no log: its one item is ``None``."""
    if not isinstance(value, dict) or len(value) > 10:
        return None
    events = value.get("logEvents")
    if isinstance(events, list) and "messageType" in value:
        return (events if value["messageType"] == "DATA_MESSAGE" else [None]), "message"
    for key, field, beside in TEXT_ENVELOPES:
        events = value.get(key)
        if isinstance(events, list) and events and isinstance(events[0], dict):
            first = events[0]
            return (events, field) if field in first and beside in first else None
    return None


def _text_record(item: Any, field: str) -> tuple[Any, Problem | None]:
    """The record an envelope's item carries as JSON text in ``field``, or why it carries none."""
    if item is None:
        return None, CONTROL
    text = item.get(field) if isinstance(item, dict) else None
    if not isinstance(text, str):
        return None, Problem(NOT_TEXT.reason, f"{NOT_TEXT.detail} {field}")
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError:
        return None, _invalid(text.encode())


def _invalid(raw: bytes, error: orjson.JSONDecodeError | None = None) -> Problem:
    sample = printable(raw[:SAMPLE_CHARS].decode("utf-8", "replace").strip())
    return Problem("invalid JSON", f"{_why(error)}: {sample}" if error else sample)


def _why(error: orjson.JSONDecodeError) -> str:
    """orjson's reason and where (``str is not valid UTF-8`` at column 412)."""
    return f"{error.msg} at line {error.lineno} column {error.colno}"
