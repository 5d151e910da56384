"""Scans on every core: this process walks (or runs ``git log``), worker processes read and scan.

Workers are forked after the scanner is built, so each inherits the compiled Hyperscan database
instead of compiling its own; each batch comes back as a ``Tally`` that the parent merges, in
the order the batches were made, so results do not depend on timing (see ``workers``).
Directory batches carry paths; history batches are runs of blobs handed out while ``git log``
still walks, each read by the worker's own ``cat-file`` (blob bytes never cross a pipe twice).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from stormwatch.secrets.model import ScanResult, SkipNotice
from stormwatch.secrets.scanner import Progress, Scanner, Tally, scan_fragments
from stormwatch.secrets.sources.files import file_fragments, path_fragments, walk_paths
from stormwatch.secrets.workers import WorkerPool, worker_count

if TYPE_CHECKING:  # the git sources load with the first history scan
    from stormwatch.secrets.sources.git import Wanted
    from stormwatch.secrets.sources.walker import WalkProcess

BATCH_BYTES = 4 << 20
BATCH_FILES = 512
IN_FLIGHT = 3  # batches per worker submitted ahead: enough to keep it busy, bounded memory
HISTORY_BATCH = 512  # blobs per history batch: a few batches per worker, each one cat-file
FileEntry = tuple[str, str, int]  # path, label, size as walked


@dataclass(frozen=True)
class HistoryShare:
    """Consecutive blobs of one repository's walk for one worker to read and scan."""

    repo: Path
    blobs: tuple[Wanted, ...]


Batch = list[FileEntry] | HistoryShare


def _scan_batch(scanner: Scanner, batch: Batch) -> Tally:
    """One batch, on a worker (which inherited ``scanner`` when it was forked)."""
    tally = Tally()
    if isinstance(batch, HistoryShare):
        from stormwatch.secrets.sources.git_process import read_blobs

        for item in read_blobs(batch.repo, batch.blobs, scanner.settings):
            tally.add(item, scanner)
        return tally
    for path, label, size in batch:
        for item in file_fragments(path, label, scanner.settings, size):
            tally.add(item, scanner)
    return tally


def _file_batches(items: Iterable[FileEntry | SkipNotice], tally: Tally) -> Iterator[Batch]:
    """Walked files grouped by total size and count; notices go straight to ``tally``."""
    batch: list[FileEntry] = []
    size = 0
    for item in items:
        if isinstance(item, SkipNotice):
            _note(tally, (item,))
            continue
        batch.append(item)
        size += item[2]
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _run(
    batches: Callable[[Tally], Iterator[Batch]],
    scanner: Scanner,
    on_progress: Progress | None,
    workers: int,
) -> ScanResult:
    """Scan batches on ``workers`` processes, at most ``IN_FLIGHT`` per worker ahead."""
    started = time.perf_counter()
    tally = Tally()
    # Every worker forks now, before the batches start more processes. A history walk's git
    # log runs already (started early on purpose): the workers inherit only the read end of
    # its output, which cannot stall git, since the walk kills git if it stops early.
    with WorkerPool(workers, functools.partial(_scan_batch, scanner)) as pool:
        for part in pool.map(batches(tally), IN_FLIGHT):
            _merge(tally, part, on_progress)
    return tally.result(time.perf_counter() - started)


def _merge(tally: Tally, part: Tally, on_progress: Progress | None) -> None:
    tally.merge(part)
    if on_progress is not None:
        on_progress(part.units, part.size)


def scan_paths(
    roots: Sequence[Path],
    scanner: Scanner,
    on_progress: Progress | None = None,
    workers: int | None = None,
    walk: WalkProcess | None = None,
) -> ScanResult:
    """Scan files and directories with ``workers`` processes (default: one per core); the
    listing comes from ``walk`` when one was started early (see ``request.early_walk``)."""
    count = worker_count(workers)
    if not count:
        return scan_fragments(path_fragments(roots, scanner.settings), scanner, on_progress)
    listing = walk.items() if walk is not None else walk_paths(roots)
    return _run(lambda tally: _file_batches(listing, tally), scanner, on_progress, count)


def scan_history(
    repos: Sequence[Path],
    scanner: Scanner,
    on_progress: Progress | None = None,
    workers: int | None = None,
    batch: int = HISTORY_BATCH,
) -> ScanResult:
    """Scan every blob in the history of each repository, in batches of ``batch`` blobs read
    and scanned by ``workers`` processes. Raises ``GitSourceError`` when a repository cannot
    be read."""
    from stormwatch.secrets.sources import git

    count = worker_count(workers)
    if not count:
        plans = [git.plan_history(repo) for repo in repos]
        items = (item for plan in plans for item in git.read_history(plan, scanner.settings))
        result = scan_fragments(items, scanner, on_progress)
        walked = sum(plan.commits for plan in plans)
        return replace(result, stats=replace(result.stats, commits=walked))
    with ExitStack() as stack:
        walks = [stack.enter_context(git.history_walk(repo)) for repo in repos]

        def batches(tally: Tally) -> Iterator[Batch]:
            for plan, log in walks:
                tally.commits += plan.commits
                _note(tally, plan.notices)
                for item in git.history_batches(plan, log, batch):
                    if isinstance(item, SkipNotice):
                        _note(tally, (item,))
                    else:
                        yield HistoryShare(plan.repo, tuple(item))

        return _run(batches, scanner, on_progress, count)


def _note(tally: Tally, notices: Iterable[SkipNotice]) -> None:
    for notice in notices:
        tally.notices.append(notice)
        tally.skipped[notice.reason] += 1
