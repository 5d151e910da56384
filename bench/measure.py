"""Run a command and measure it: wall-clock time, peak RSS of its largest process, and the peak
memory of its whole process tree (stormwatch forks one worker per core, so the largest single
process understates what the scan costs)."""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Run:
    """One measured command. ``peak_rss_mb``: largest single process (``wait4``); ``tree_mb``:
    peak of the summed proportional set size (PSS) of the process tree, sampled; ``cpu_seconds``:
    user + system time of the whole tree (``wait4``); ``load``: the machine's one-minute load
    average when the command started (on a shared machine, wall-clock times need it)."""

    command: tuple[str, ...]
    seconds: float
    peak_rss_mb: float
    tree_mb: float
    returncode: int
    stderr: str
    cpu_seconds: float = 0.0
    load: float = 0.0

    @property
    def shell(self) -> str:
        return shlex.join(self.command)


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                kids.extend(int(k) for k in handle.read().split())
    except OSError:
        pass
    return kids


def _memory_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return 0


def tree_kb(pid: int) -> int:
    """Summed memory of a process and all its descendants, in KiB."""
    pids, total = [pid], 0
    while pids:
        current = pids.pop()
        total += _memory_kb(current)
        pids.extend(_children(current))
    return total


def _sample(pid: int, done: threading.Event, peak: list[int]) -> None:
    while not done.wait(SAMPLE_SECONDS):
        peak[0] = max(peak[0], tree_kb(pid))


def run(command: Sequence[str], stdout: Path | None = None, cwd: Path | None = None) -> Run:
    """Run ``command`` to completion (its stdout to ``stdout`` or nowhere) and measure it."""
    sink = stdout.open("wb") if stdout else subprocess.DEVNULL
    load = os.getloadavg()[0]
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE, cwd=cwd)
    finally:
        if stdout:
            sink.close()  # type: ignore[union-attr]
    done, peak = threading.Event(), [0]
    sampler = threading.Thread(target=_sample, args=(proc.pid, done, peak), daemon=True)
    sampler.start()
    assert proc.stderr is not None
    stderr = proc.stderr.read()  # drained before waiting, so a chatty child never blocks
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss_mb = usage.ru_maxrss / 1024
    text = stderr.decode(errors="replace")[-4000:]
    # A run shorter than one sampling period has no tree sample: the largest process stands in.
    tree_mb = max(peak[0] / 1024, rss_mb)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(tuple(command), seconds, rss_mb, tree_mb, proc.returncode, text, cpu, load)


def repeated(command: Sequence[str], times: int, **kwargs: Path | None) -> Run:
    """Run ``times`` times; the median time and CPU time, the largest memory figures, the last
    exit code, the highest load seen."""
    runs = [run(command, **kwargs) for _ in range(max(1, times))]
    last = runs[-1]
    return Run(
        last.command,
        statistics.median(r.seconds for r in runs),
        max(r.peak_rss_mb for r in runs),
        max(r.tree_mb for r in runs),
        last.returncode,
        last.stderr,
        statistics.median(r.cpu_seconds for r in runs),
        max(r.load for r in runs),
    )
