"""What an ingest run did, per file: counted, located, never silent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_SAMPLES = 5


def printable(text: str) -> str:
    """``text`` as a terminal shows it safely: control characters (escape sequences, newlines in
    a file or member name) and undecodable bytes escaped, the rest as it is."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


@dataclass(frozen=True, slots=True)
class Rejection:
    """One sampled rejected record: where, why, and the offending value."""

    location: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class FileReport:
    """One file's outcome.

    ``records`` = records read (valid or not); ``events`` = records that parsed;
    ``stored`` = events new to the store; ``duplicates`` = events already there (or repeated in
    the run); ``rejected`` = records that did not become events, counted by reason in
    ``reasons`` with up to ``MAX_SAMPLES`` located samples. ``notes`` count odd values on events
    that were kept (a field left empty: ``invalid ip``; a value read with a fix: ``padded ip``),
    with up to ``MAX_SAMPLES`` located ``note_samples``; ``ignored`` counts, by reason, records
    that are no event by design (not errors, not in ``rejected``). ``error`` is set when the file
    could not be read; ``skipped`` when, sniffing, no record of it looked like any log source (a
    manifest, a CloudTrail digest, ``labels.json``): such a file is listed, but its records are
    not errors. ``unchanged`` when the store already holds this path with the same size and
    modification time: the file is not read again.
    """

    path: str
    source: str | None
    records: int = 0
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: tuple[tuple[str, int], ...] = ()
    samples: tuple[Rejection, ...] = ()
    notes: tuple[tuple[str, int], ...] = ()
    note_samples: tuple[Rejection, ...] = ()
    ignored: tuple[tuple[str, int], ...] = ()
    error: str | None = None
    skipped: str | None = None
    unchanged: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The file's report as JSON-ready data; counts by reason become objects."""
        counted = {"reasons": self.reasons, "notes": self.notes, "ignored": self.ignored}
        return asdict(self) | {name: dict(counts) for name, counts in counted.items()}

    @property
    def bad(self) -> int:
        """Rejected records, plus one for an unreadable file; nothing for a skipped file."""
        if self.skipped is not None:
            return 0
        return self.rejected + (1 if self.error else 0)


@dataclass(frozen=True)
class SourceSummary:
    """Totals of one source over a run."""

    source: str
    files: int = 0
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class IngestReport:
    """The whole run: one :class:`FileReport` per file, in input order, and the elapsed time."""

    files: tuple[FileReport, ...] = ()
    seconds: float = 0.0
    by_source: tuple[SourceSummary, ...] = field(default=())

    @property
    def records(self) -> int:
        """Records read over all files."""
        return sum(f.records for f in self.files)

    @property
    def stored(self) -> int:
        """Events added to the store."""
        return sum(f.stored for f in self.files)

    @property
    def duplicates(self) -> int:
        """Events skipped because the store already had them."""
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        """Records that did not become events, plus files that could not be read."""
        return sum(f.bad for f in self.files)

    @property
    def clean(self) -> bool:
        """True when every record was stored or already present."""
        return self.rejected == 0

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-ready data: totals, then every file with its counts by reason and
        its located samples."""
        return {
            "seconds": round(self.seconds, 3),
            "clean": self.clean,
            "records": self.records,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "files": [report.to_dict() for report in self.files],
        }


def merged_report(first: FileReport | None, other: FileReport) -> FileReport:
    """One file's report from the reports of its parts (a zip whose members several processes
    parsed): counts added, samples kept in location order, errors joined."""
    if first is None:
        return other
    errors = [error for error in (first.error, other.error) if error]
    return FileReport(
        path=first.path,
        source=first.source or other.source,
        records=first.records + other.records,
        events=first.events + other.events,
        stored=first.stored + other.stored,
        duplicates=first.duplicates + other.duplicates,
        rejected=first.rejected + other.rejected,
        reasons=_added(first.reasons, other.reasons),
        samples=_first_located(first.samples + other.samples),
        notes=_added(first.notes, other.notes),
        note_samples=_first_located(first.note_samples + other.note_samples),
        ignored=_added(first.ignored, other.ignored),
        error="; ".join(errors) or None,
        skipped=first.skipped if other.skipped else None,
    )


def _first_located(samples: tuple[Rejection, ...]) -> tuple[Rejection, ...]:
    return tuple(sorted(samples, key=lambda sample: sample.location)[:MAX_SAMPLES])


def _added(
    first: tuple[tuple[str, int], ...], other: tuple[tuple[str, int], ...]
) -> tuple[tuple[str, int], ...]:
    counts = Counter(dict(first))
    counts.update(dict(other))
    return tuple(sorted(counts.items()))


def summarize(files: Iterable[FileReport]) -> tuple[SourceSummary, ...]:
    """Per-source totals, sorted by source name (unknown sources as ``?``)."""
    totals: dict[str, list[int]] = {}
    for report in files:
        if report.unchanged:  # not read in this run: listed apart, not counted again
            continue
        row = totals.setdefault(report.source or "?", [0, 0, 0, 0, 0])
        counts = (1, report.records, report.stored, report.duplicates, report.bad)
        for index, value in enumerate(counts):
            row[index] += value
    return tuple(SourceSummary(name, *row) for name, row in sorted(totals.items()))
