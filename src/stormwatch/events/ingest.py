"""``stormwatch ingest``'s core: files in, events stored, a report out.

Parsing is pure Python and CPU-bound, so with several input files (or one large zip) it runs in
worker processes: one file per task, largest first; a large zip's members in a few parts, so
that one archive keeps every worker busy. Workers spool each task's batches to the store's
scratch directory and send their names back through a bounded queue, so memory stays flat
whatever the file sizes and no payload is copied between processes; this process only inserts
(DuckDB reads the spooled files in C++) and keeps the tally. Small inputs are parsed in-process.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from stormwatch.events.archives import ArchiveError, zip_log_members
from stormwatch.events.batch import SpooledBatch, merged
from stormwatch.events.files import is_stdin, log_name, path_text, walk
from stormwatch.events.parsers import SOURCE_NAMES
from stormwatch.events.parsing import AUTO, parse_file
from stormwatch.events.reader import MEMBER_MARK
from stormwatch.events.report import FileReport, IngestReport, merged_report, summarize
from stormwatch.events.store import EventStore, FileEntry, StoreError

PARALLEL_MIN_BYTES = 4 << 20
# A zip this large is parsed in parts (of its members) by all workers, a few parts per worker
# so that they finish together.
SPLIT_MIN_BYTES = 8 << 20
PARTS_PER_WORKER = 4
EMPTY = SpooledBatch((), 0, 0, None, None)
POLL_SECONDS = 0.5

# (file index, a batch of that file or its final report)
Message = tuple[int, SpooledBatch | FileReport]


@dataclass(frozen=True)
class IngestSettings:
    """How to ingest: the source (``auto`` sniffs each file), parse processes, and two sizes.

    ``batch_size`` bounds the events a parser hands over at once (the queue's memory);
    ``commit_size`` is the events per store transaction: each transaction scans the stored ids
    once for duplicates, so fewer, larger ones keep inserting linear in the run's size.
    """

    source: str = AUTO
    batch_size: int = 50_000
    workers: int = 2
    commit_size: int = 500_000

    def __post_init__(self) -> None:
        if self.source != AUTO and self.source not in SOURCE_NAMES:
            raise ValueError(f"unknown source {self.source!r}; known: {', '.join(SOURCE_NAMES)}")
        if min(self.batch_size, self.workers, self.commit_size) < 1:
            raise ValueError("batch_size, workers and commit_size must be positive")


@dataclass(frozen=True)
class Progress:
    """Where a run is: files finished out of all, events stored so far."""

    files_done: int
    files_total: int
    stored: int


class IngestError(Exception):
    """The run could not go on (a parse worker died, the store refused a batch)."""


def ingest(
    paths: Sequence[Path],
    store: EventStore,
    settings: IngestSettings | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> IngestReport:
    """Ingest the files under ``paths`` into ``store`` and report what happened to each."""
    settings = settings or IngestSettings()
    started = datetime.now(UTC)
    found = list(dict.fromkeys(walk(paths)))  # a file named and in a named folder: once
    known = store.ingested()
    unchanged = {i: _unchanged(path, known) for i, path in enumerate(found)}
    files = [path for i, path in enumerate(found) if unchanged[i] is None]
    tasks = _tasks(files, settings.workers)
    messages = _parsed(tasks, settings, store.scratch)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit") as committer:
        parts = Counter(task.index for task in tasks)
        run = _Run(store, files, parts, settings.commit_size, on_progress, committer)
        for index, item in messages:
            run.take(index, item)
        parsed = iter(run.reports())
    reports = tuple(unchanged[i] or next(parsed) for i in range(len(found)))
    seconds = (datetime.now(UTC) - started).total_seconds()
    return IngestReport(files=reports, seconds=seconds, by_source=summarize(reports))


class _Run:
    """The main process's side: groups batches (small files share one transaction), has them
    inserted, completes the file reports once their events are committed, tells progress.

    Inserting is DuckDB's work and releases the GIL, so one commit at a time runs on
    ``committer`` while this thread goes on taking the workers' batches: parsing never waits
    for the store unless a second group fills before the first is in.
    """

    def __init__(
        self,
        store: EventStore,
        files: list[Path],
        parts: Counter[int],
        commit_size: int,
        on_progress: Callable[[Progress], None] | None,
        committer: Executor,
    ) -> None:
        self._store = store
        self._files = files
        self._index = {log_name(path): index for index, path in enumerate(files)}
        self._commit_size = commit_size
        self._on_progress = on_progress
        self._committer = committer
        self._stored = [0] * len(files)
        self._rows = [0] * len(files)
        self._pending: list[SpooledBatch] = []
        self._pending_rows = 0
        self._finished: list[tuple[int, FileReport]] = []
        self._done: dict[int, FileReport] = {}
        self._parts_left = Counter(parts)  # reports due per file: a zip's parts report apart
        self._partial: dict[int, FileReport] = {}
        self._in_flight: tuple[Future[Counter[str | None]], list[tuple[int, FileReport]]] | None
        self._in_flight = None

    def take(self, index: int, item: SpooledBatch | FileReport) -> None:
        if isinstance(item, SpooledBatch):
            self._pending.append(item)
            self._pending_rows += item.rows
            self._rows[index] += item.rows
        else:
            report = merged_report(self._partial.pop(index, None), item)
            self._parts_left[index] -= 1
            if self._parts_left[index] > 0:
                self._partial[index] = report
            else:
                self._finished.append((index, report))
        if self._pending_rows >= self._commit_size:
            self.flush()

    def flush(self) -> None:
        """Hand pending batches and finished files to the committer as one transaction."""
        if not self._pending and not self._finished:
            return
        entries = [
            self._entry(self._files[i], r)
            for i, r in self._finished
            if not r.error and not is_stdin(self._files[i])
        ]
        batch = merged(self._pending or [EMPTY])
        self._settle()
        self._in_flight = (
            self._committer.submit(self._store.commit, batch, entries),
            self._finished,
        )
        self._pending, self._finished, self._pending_rows = [], [], 0

    def _settle(self) -> None:
        """Wait for the commit in flight, then complete the reports of the files it finished."""
        if self._in_flight is None:
            return
        future, finished = self._in_flight
        self._in_flight = None
        for raw_file, count in future.result().items():
            self._stored[self._input_of(str(raw_file))] += count
        for index, report in finished:
            duplicates = report.duplicates + self._rows[index] - self._stored[index]
            self._done[index] = replace(report, stored=self._stored[index], duplicates=duplicates)
        if self._on_progress is not None:
            self._on_progress(Progress(len(self._done), len(self._files), sum(self._stored)))

    def _input_of(self, raw_file: str) -> int:
        """The input file an event's ``raw_file`` came from: itself, or the archive a member is
        named after (``logs.zip!a/b.json``; a ``!`` may be in the archive's own path too)."""
        index = self._index.get(raw_file)
        start = 0
        while index is None and MEMBER_MARK in raw_file[start:]:
            start = raw_file.index(MEMBER_MARK, start) + 1
            index = self._index.get(raw_file[: start - 1])
        return self._index[raw_file] if index is None else index

    @staticmethod
    def _entry(path: Path, report: FileReport) -> FileEntry:
        stat = path.stat()
        return FileEntry(
            path=path_text(path.resolve()),
            size=stat.st_size,
            mtime=datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None),
            source=report.source,
            records=report.records,
            events=report.events,
            rejected=report.rejected,
        )

    def reports(self) -> tuple[FileReport, ...]:
        self.flush()
        self._settle()
        return tuple(self._done[index] for index in range(len(self._files)))


def _unchanged(path: Path, known: dict[str, tuple[int, datetime, str | None]]) -> FileReport | None:
    """The report of a file the store already holds unchanged (same size and mtime), else None."""
    if is_stdin(path):
        return None
    try:
        stat = path.stat()
        entry = known.get(path_text(path.resolve()))
    except OSError:
        return None
    mtime = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
    if entry is None or entry[:2] != (stat.st_size, mtime):
        return None
    return FileReport(str(path), entry[2], unchanged=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing allocates millions of acyclic objects; cycle collection only costs time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class _Task:
    """One file to parse, or one part of a zip's members (``members``; ``part`` numbers it)."""

    index: int
    path: Path
    size: int
    part: int = 0
    members: frozenset[str] | None = None


def _tasks(files: list[Path], workers: int) -> list[_Task]:
    """What there is to parse: each file, a large zip in parts (its members are independent)."""
    tasks = [_Task(index, path, _size(path)) for index, path in enumerate(files)]
    if not _worth_workers(tasks, workers):
        return tasks
    return [part for task in tasks for part in _zip_parts(task, PARTS_PER_WORKER * workers)]


def _worth_workers(tasks: Sequence[_Task], workers: int) -> bool:
    """Enough to parse that worker processes pay for their start (standard input weighs 0)."""
    return workers > 1 and sum(task.size for task in tasks) >= PARALLEL_MIN_BYTES


def _zip_parts(task: _Task, count: int) -> list[_Task]:
    """A large zip's members in up to ``count`` parts of about equal compressed size (largest
    member first, each into the lightest part); anything else, or a zip that cannot be listed
    (reading it reports why), whole."""
    if task.size < SPLIT_MIN_BYTES or not task.path.name.lower().endswith(".zip"):
        return [task]
    try:
        members = sorted(zip_log_members(task.path), key=lambda member: -member[1])
    except (OSError, ArchiveError):
        return [task]
    parts: list[tuple[int, list[str]]] = [(0, []) for _ in range(min(count, len(members)))]
    for name, size in members:
        lightest = min(range(len(parts)), key=lambda i: parts[i][0])
        parts[lightest] = (parts[lightest][0] + size, [*parts[lightest][1], name])
    if len(parts) < 2:
        return [task]
    return [
        replace(task, size=size, part=number, members=frozenset(names))
        for number, (size, names) in enumerate(parts)
    ]


def _parsed(tasks: list[_Task], settings: IngestSettings, spool: Path) -> Iterator[Message]:
    """Every task's messages: standard input first and here (a worker's is ``/dev/null``), the
    rest in worker processes when there is enough of it."""
    piped = [task for task in tasks if is_stdin(task.path)]
    rest = sorted((task for task in tasks if not is_stdin(task.path)), key=lambda t: -t.size)
    yield from _serial(piped, settings, spool)
    if len(rest) > 1 and _worth_workers(rest, settings.workers):
        yield from _parallel(rest, settings, spool)
    else:
        yield from _serial(rest, settings, spool)


def _serial(tasks: list[_Task], settings: IngestSettings, spool: Path) -> Iterator[Message]:
    with _gc_paused():
        for task in tasks:
            yield from _messages(task, settings, spool)


def _messages(task: _Task, settings: IngestSettings, spool: Path) -> Iterator[Message]:
    """One task's batches, spooled under ``spool``, then its report."""
    batches = parse_file(task.path, settings.source, settings.batch_size, task.members)
    for number in itertools.count():
        try:
            batch = next(batches)
        except StopIteration as finished:
            yield task.index, finished.value
            return
        name = f"{task.index}-{task.part}-{number}.ndjson"
        yield task.index, SpooledBatch.of(batch, spool / name)


def _work(tasks: Any, results: Any, settings: IngestSettings, spool: Path) -> None:
    """A parse worker's loop: files from ``tasks``, spooled batches and reports to ``results``."""
    gc.disable()
    # terminated by the ingesting process: at once, not through the handler a command may have
    # inherited (an orderly exit would wait to flush queued messages that nobody reads)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_leave_with, args=(os.getppid(),), daemon=True).start()
    for task in iter(tasks.get, None):
        try:
            for message in _messages(task, settings, spool):
                results.put(message)
        except Exception as error:  # a parser bug must not hang the run: report it, go on
            failed = FileReport(str(task.path), None, error=f"parser failed: {error!r}")
            results.put((task.index, failed))


def _leave_with(parent: int) -> None:
    """End the worker when the ingesting process is gone (killed): nobody reads the results
    any more, and a worker waiting to hand them over, or to flush them at exit, would wait for
    ever."""
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)


def _parallel(tasks: list[_Task], settings: IngestSettings, spool: Path) -> Iterator[Message]:
    """``tasks`` (largest first) parsed by worker processes."""
    context = _context()
    queued = context.Queue()
    results = context.Queue(maxsize=2 * settings.workers)
    for task in tasks:
        queued.put(task)
    count = min(settings.workers, len(tasks))
    for _ in range(count):
        queued.put(None)
    workers = [
        context.Process(target=_work, args=(queued, results, settings, spool), daemon=True)
        for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    try:
        yield from _collect(results, workers, len(tasks))
    finally:
        _stop(workers)
        # tasks the stopped workers never took: not to be flushed into a pipe nobody reads
        # when the process exits (interrupted, it would never exit)
        queued.cancel_join_thread()


def _context() -> ForkContext | SpawnContext:
    """fork where there is one: workers start in milliseconds and never re-import the caller's
    main module; they touch neither DuckDB nor threads, only files, orjson and two queues."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _collect(results: Any, workers: Sequence[BaseProcess], expected: int) -> Iterator[Message]:
    finished = 0
    while finished < expected:
        try:
            index, item = results.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if any(w.exitcode not in (None, 0) for w in workers):
                raise IngestError("a parse worker died; batches stored so far are kept") from None
            continue
        finished += isinstance(item, FileReport)
        yield index, item


def _stop(workers: Sequence[BaseProcess]) -> None:
    for worker in workers:
        worker.join(timeout=1.0)
        if worker.is_alive():
            worker.terminate()
            worker.join()


__all__ = ["IngestError", "IngestSettings", "Progress", "StoreError", "ingest"]
