"""A directory walk in a process of its own, forked before the scanner is built.

Start-up (imports, rules, the Hyperscan database) runs on one core while the other waits, and
listing a large tree is CPU work that would later compete with the scanning workers. Forked
first, the walk runs on the idle core; its listing waits in a pipe, in walk order, for the
batches that go to the workers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stormwatch.secrets.messages import read_message, write_message

if TYPE_CHECKING:  # the walk's own modules load in the walking process
    from stormwatch.secrets.model import SkipNotice

CHUNK = 256  # entries per message
PIPE_SIZE = 1 << 20  # room for a whole listing of a few thousand files, where Linux allows it


class WalkError(RuntimeError):
    """The walking process ended before its listing did."""


class WalkProcess:
    """``walk_paths(roots)`` run by a forked process; a context manager (it ends on exit)."""

    def __init__(self, roots: Sequence[Path]) -> None:
        read, write = os.pipe()
        _widen(write)
        self.pid = os.fork()
        if self.pid == 0:  # the walker: it never returns from here
            status = 1
            try:
                os.close(read)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                _walk_into(roots, write)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self.fd = read

    def items(self) -> Iterator[tuple[str, str, int] | SkipNotice]:
        """The walk's entries, as ``walk_paths`` yields them. Raises ``WalkError`` when the
        walking process ended early."""
        while (message := read_message(self.fd)) is not None:
            chunk = pickle.loads(message)
            if chunk is None:
                return
            yield from chunk
        raise WalkError("the directory walk ended unexpectedly")

    def close(self) -> None:
        """Stop the walk if it still runs, and reap it."""
        if self.fd < 0:
            return
        os.kill(self.pid, signal.SIGTERM)  # done or not: the pid is ours until reaped
        os.close(self.fd)
        os.waitpid(self.pid, 0)
        self.fd = -1

    def __enter__(self) -> WalkProcess:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self.close()


def _walk_into(roots: Sequence[Path], fd: int) -> None:
    from stormwatch.secrets.sources.files import walk_paths

    chunk: list[object] = []
    for item in walk_paths(roots):
        chunk.append(item)
        if len(chunk) >= CHUNK:
            write_message(fd, pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
            chunk = []
    if chunk:
        write_message(fd, pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
    write_message(fd, pickle.dumps(None))


def _widen(fd: int) -> None:
    """A larger pipe buffer lets the walk run ahead of a reader still starting up."""
    # Not Linux, or above the system's limit: the walk then just waits for its reader.
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
