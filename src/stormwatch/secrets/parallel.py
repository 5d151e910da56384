"""Directory scans on every core: the walk stays in this process, workers read and scan files.

Workers are forked after the scanner is built, so each inherits the compiled Hyperscan database
instead of compiling its own; each batch comes back as a ``Tally`` that the parent merges.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from stormwatch.secrets.model import ScanResult, SkipNotice
from stormwatch.secrets.scanner import Progress, Scanner, Tally, scan_fragments
from stormwatch.secrets.sources.files import file_fragments, path_fragments, walk_paths

BATCH_BYTES = 4 << 20
BATCH_FILES = 512
# The scanner each worker process inherits at fork; set once by the pool initializer.
_worker_scanner: list[Scanner] = []


def _init_worker(scanner: Scanner) -> None:
    _worker_scanner.append(scanner)


def _scan_batch(batch: list[tuple[str, str, int]]) -> Tally:
    scanner = _worker_scanner[0]
    tally = Tally()
    for path, label, size in batch:
        for item in file_fragments(path, label, scanner.settings, size):
            tally.add(item, scanner)
    return tally


def _batches(roots: Sequence[Path], tally: Tally) -> Iterator[list[tuple[str, str, int]]]:
    batch: list[tuple[str, str, int]] = []
    size = 0
    for item in walk_paths(roots):
        if isinstance(item, SkipNotice):
            tally.notices.append(item)
            tally.skipped[item.reason] += 1
            continue
        batch.append(item)
        size += item[2]
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def scan_paths(
    roots: Sequence[Path],
    scanner: Scanner,
    on_progress: Progress | None = None,
    workers: int | None = None,
) -> ScanResult:
    """Scan files and directories with ``workers`` processes (default: one per core)."""
    workers = workers or os.cpu_count() or 1
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return scan_fragments(path_fragments(roots, scanner.settings), scanner, on_progress)
    started = time.perf_counter()
    tally = Tally()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, context, _init_worker, (scanner,)) as pool:
        for part in pool.map(_scan_batch, _batches(roots, tally), chunksize=1):
            tally.merge(part)
            if on_progress is not None:
                on_progress(part.units, part.size)
    return tally.result(time.perf_counter() - started)
