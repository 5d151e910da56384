"""One file's records through its parser: events in batches, a tally of everything else.

Runs in the ingesting process or in a parse worker; it touches no database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Generator
from pathlib import Path
from typing import Any

from stormwatch.events.archives import ArchiveError
from stormwatch.events.batch import EventBatch, row_of
from stormwatch.events.files import DAMAGED_STREAM, ExpansionError, path_text
from stormwatch.events.parsers import PARSERS, detect_source
from stormwatch.events.parsers.protocol import FieldsResult, Location, Record, SourceParser
from stormwatch.events.reader import CorruptAvroError, read_records
from stormwatch.events.report import MAX_SAMPLES, FileReport, Rejection
from stormwatch.events.values import Problem, country_of

AUTO = "auto"
# What makes a file unreadable past some point: the records read before it are kept.
UNREADABLE: tuple[type[Exception], ...] = (
    OSError,
    CorruptAvroError,
    ArchiveError,
    ExpansionError,
    *DAMAGED_STREAM,
)
NOT_AN_OBJECT = Problem("unknown record shape", "not a JSON object")
UNRECOGNISED = Problem("unknown record shape", "no known log source has this shape")
# CloudTrail writes one digest file an hour per region beside the logs, to prove them intact.
DIGEST_KEYS = frozenset({"digestStartTime", "digestEndTime", "logFiles"})
DIGEST = "CloudTrail digest (an integrity file, no events)"


class _Tally:
    """Counters of one file while it is read; frozen into a :class:`FileReport` at the end."""

    def __init__(self) -> None:
        self.records = 0
        self.events = 0
        self.repeated = 0
        self.reasons: Counter[str] = Counter()
        self.notes: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()
        self.samples: list[Rejection] = []
        self.note_samples: list[Rejection] = []
        self.error: str | None = None
        self.digest = False

    def reject(self, where: Location, problem: Problem) -> None:
        if problem.ignore:
            self.ignored[problem.reason] += 1
            return
        self.reasons[problem.reason] += 1
        _sample(self.samples, where, problem)

    def note(self, where: Location, problem: Problem) -> None:
        self.notes[problem.reason] += 1
        _sample(self.note_samples, where, problem)

    def report(self, path: Path, source: str | None, sniffing: bool) -> FileReport:
        unknown = set(self.reasons) == {UNRECOGNISED.reason}
        skipped = None
        if sniffing and source is None and unknown:
            skipped = DIGEST if self.digest else "no known log source"
        return FileReport(
            path=path_text(path),
            source=source,
            records=self.records,
            events=self.events,
            duplicates=self.repeated,
            rejected=sum(self.reasons.values()),
            reasons=tuple(sorted(self.reasons.items())),
            samples=tuple(self.samples),
            notes=tuple(sorted(self.notes.items())),
            note_samples=tuple(self.note_samples),
            ignored=tuple(sorted(self.ignored.items())),
            error=self.error,
            skipped=skipped,
        )


def _sample(samples: list[Rejection], where: Location, problem: Problem) -> None:
    if len(samples) < MAX_SAMPLES:
        samples.append(Rejection(str(where), problem.reason, problem.detail))


def parse_file(
    path: Path, source: str, batch_size: int, members: Collection[str] | None = None
) -> Generator[EventBatch, None, FileReport]:
    """Parse one file (of an archive, the ``members`` named, when given), yielding batches of at
    most ``batch_size`` events; returns the report.

    With ``source="auto"`` the first recognisable record names the file's source; a later record
    of another shape (an Event Hub capture mixing categories) is parsed by the parser that
    recognises it.
    """
    tally = _Tally()
    parser = None if source == AUTO else PARSERS[source]
    pending: list[tuple[Any, ...]] = []
    try:
        for where, record, problem in read_records(path, members):
            tally.records += 1
            if problem is None and not isinstance(record, dict):
                problem = NOT_AN_OBJECT
            if problem is not None:
                tally.reject(where, problem)
                continue
            if parser is None:
                parser = _sniff(record)
                tally.digest = tally.digest or record.keys() >= DIGEST_KEYS
            fields, problems = _parse(parser, record, where, source == AUTO)
            if fields is None:
                tally.reject(where, problems[0] if problems else UNRECOGNISED)
                continue
            for note in problems:
                tally.note(where, note)
            tally.events += 1
            fields["src_country"] = country_of(fields.get("src_ip"))
            pending.append(row_of(fields))
            if len(pending) >= batch_size:
                yield _packed(pending, tally)
                pending = []
    except UNREADABLE as error:
        tally.error = f"{type(error).__name__}: {error}"
    if pending:
        yield _packed(pending, tally)
    return tally.report(path, parser.name if parser else None, source == AUTO)


def _packed(rows: list[tuple[Any, ...]], tally: _Tally) -> EventBatch:
    batch = EventBatch.of_rows(rows)
    tally.repeated += batch.repeated
    return batch


def _sniff(record: Record) -> SourceParser | None:
    name = detect_source(record)
    return PARSERS[name] if name else None


def _parse(
    parser: SourceParser | None, record: Record, where: Location, auto: bool
) -> FieldsResult:
    if auto and (parser is None or not parser.sniff(record)):
        parser = _sniff(record) or parser
    if parser is None:
        return None, (UNRECOGNISED,)
    return parser.fields(record, where)
