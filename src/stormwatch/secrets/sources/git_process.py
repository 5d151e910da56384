"""Running git for the git sources: commands under safe settings, and blob contents streamed
from one ``git cat-file --batch`` process (a new one after an object that breaks it).

Blobs go through the same reader as files (``stream_fragments``), so binaries are skipped, large
blobs chunked and archives opened exactly as on disk; only the origin changes.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, cast

from stormwatch.secrets.model import Fragment, Origin, SkipNotice
from stormwatch.secrets.settings import ScanSettings
from stormwatch.secrets.sources import GitSourceError
from stormwatch.secrets.sources.files import stream_fragments

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

Item = Fragment | SkipNotice
Wanted = tuple[str, Origin]  # a blob id, and the origin its fragments carry
PIPE_BUFFER = 1 << 20
_FEED_BATCH = 256
# A scanned repository's config must not start programs or colour what we parse.
_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "color.ui=false", "-c", "log.showRoot=true")


def git_argv(repo: Path, *args: str) -> list[str]:
    """The command line of ``git args`` run in ``repo``."""
    return ["git", "-C", str(repo), *_SAFE_CONFIG, *args]


def run_git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """A short git command's output, for small answers only (it is held in memory)."""
    try:
        return subprocess.run(git_argv(repo, *args), capture_output=True, check=False)
    except OSError as exc:
        raise GitSourceError(f"cannot run git: {exc.strerror or exc}") from exc


def last_line(text: bytes, fallback: str) -> str:
    """The last non-empty line git wrote to stderr: its ``fatal:`` message when it failed."""
    lines = text.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else fallback


class GitProcess:
    """A running git command whose stdout is streamed. Stderr goes to a temporary file, so it
    can never fill a pipe and stall git."""

    def __init__(self, repo: Path, *args: str, stdin: bool = False) -> None:
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        try:
            self._proc = subprocess.Popen(
                git_argv(repo, *args),
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                bufsize=PIPE_BUFFER,
            )
        except OSError as exc:
            self._errors.close()
            raise GitSourceError(f"cannot run git: {exc.strerror or exc}") from exc
        self.stdout = cast(io.BufferedReader, self._proc.stdout)
        self.stdin = self._proc.stdin

    def __enter__(self) -> GitProcess:
        return self

    def __exit__(self, *_: object) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self.stdout.close()
        self._errors.close()

    def complaint(self, timeout: float | None = None) -> str | None:
        """What git said on failing; None once it has exited cleanly, or if it has not exited
        within ``timeout`` seconds (it is then killed: it was alive and had nothing to say)."""
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            return None
        if code == 0:
            return None
        self._errors.seek(0)
        return last_line(self._errors.read(), f"git exited with status {code}")


class _Feeder(threading.Thread):
    """Moves wanted blobs from ``source`` to ``pending`` and their ids to cat-file's stdin, in
    batches, while the main thread reads cat-file's output: ``source`` may be slow to produce
    (parsed from a running ``git log``) and neither pipe can fill and block the other.

    If cat-file goes away, the rest of ``source`` still lands in ``pending``, for the next one;
    ``abandon`` stops the thread altogether."""

    def __init__(self, source: Iterable[Wanted], pipe: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self.source, self.pipe, self.pipe_open = source, pipe, True
        self.pending: deque[Wanted] = deque()
        self.error: Exception | None = None
        self._abandoned = threading.Event()

    def abandon(self) -> None:
        self._abandoned.set()

    def run(self) -> None:
        ids: list[str] = []
        try:
            for wanted in self.source:
                if self._abandoned.is_set():
                    return
                self.pending.append(wanted)
                ids.append(wanted[0])
                if len(ids) >= _FEED_BATCH:
                    self._send(ids)
            self._send(ids)
        except Exception as exc:  # handed to the reading thread, which raises it
            self.error = exc
        finally:
            with contextlib.suppress(OSError):
                self.pipe.close()

    def _send(self, ids: list[str]) -> None:
        if ids and self.pipe_open:
            try:
                self.pipe.write("".join(f"{blob}\n" for blob in ids).encode())
                self.pipe.flush()
            except OSError:  # cat-file is gone; what follows is kept for the next one
                self.pipe_open = False
        ids.clear()


def read_blobs(repo: Path, blobs: Iterable[Wanted], settings: ScanSettings) -> Iterator[Item]:
    """Fragments of each (blob id, origin), in order; ``blobs`` is consumed as cat-file reads,
    so it may come from a git process still running. A missing or corrupt object becomes a
    ``corrupt-object`` notice; if it breaks cat-file, a new one carries on after it."""
    source = blobs
    while True:
        unread = yield from _read_until_broken(repo, source, settings)
        if not unread:
            return
        source = list(unread)


def _read_until_broken(
    repo: Path, source: Iterable[Wanted], settings: ScanSettings
) -> Generator[Item, None, deque[Wanted]]:
    """Items of ``source`` through one cat-file, until the end or until its output breaks off
    or stops making sense (the blob being read then gets a notice); returns the blobs it did
    not reach."""
    with GitProcess(repo, "cat-file", "--batch", "--buffer", stdin=True) as git:
        feeder = _Feeder(source, cast(IO[bytes], git.stdin))
        feeder.start()
        try:
            broken = yield from _read_fed(git.stdout, feeder.pending, settings)
        except GeneratorExit:
            feeder.abandon()
            raise
        said = git.complaint(timeout=0.5)  # at the end of its output, git has exited
        feeder.join()
        if feeder.error is not None:
            raise feeder.error
        if broken is None and feeder.pending:
            broken = feeder.pending.popleft(), "cat-file output broke off"
    if broken is not None:
        (blob, origin), trouble = broken
        detail = f"blob {blob}: {said or trouble}"
        yield SkipNotice(_location(origin, origin.path), "corrupt-object", detail)
    return feeder.pending


def _read_fed(
    pipe: IO[bytes], pending: deque[Wanted], settings: ScanSettings
) -> Generator[Item, None, tuple[Wanted, str] | None]:
    """Items of each blob cat-file answers for, until its output ends; returns the blob whose
    output made no sense, and why, if one did."""
    while (header := pipe.readline()) and pending:
        wanted = pending.popleft()
        trouble = yield from _read_blob(pipe, header.split(), wanted, settings)
        if trouble is not None:
            return wanted, trouble
    return None


def _read_blob(
    pipe: IO[bytes], header: list[bytes], wanted: Wanted, settings: ScanSettings
) -> Generator[Item, None, str | None]:
    """Items of one blob from cat-file's output; returns what broke, if that output broke."""
    blob, origin = wanted
    answer = header[1:] if header[:1] == [blob.encode()] else []
    if answer == [b"missing"]:
        yield SkipNotice(_location(origin, origin.path), "corrupt-object", f"blob {blob} missing")
        return None
    if len(answer) != 2 or answer[0] != b"blob" or not answer[1].isdigit():
        return "cat-file answered out of turn"
    size = int(answer[1])
    if size < settings.chunk_bytes:
        # Read whole and checked before use: a corrupt object can come out shorter than its
        # header says, and its bytes must not be taken for the next object's.
        data = pipe.read(size)
        if len(data) < size or pipe.read(1) != b"\n":
            return f"content does not match its size ({size} bytes)"
        yield from _with_origin(stream_fragments(origin.path, io.BytesIO(data), settings), origin)
        return None
    stream = _BlobStream(pipe, size)
    yield from _with_origin(stream_fragments(origin.path, cast(BinaryIO, stream), settings), origin)
    stream.drain()
    if stream.left or pipe.read(1) != b"\n":
        return f"content does not match its size ({size} bytes)"
    return None


def _with_origin(items: Iterable[Item], origin: Origin) -> Iterator[Item]:
    """Items labelled by path only, given the blob's attribution (members of archives keep
    their ``archive!member`` path)."""
    for item in items:
        if isinstance(item, SkipNotice):
            yield replace(item, location=_location(origin, item.location))
        else:
            path = item.origin.path
            where = origin if path == origin.path else replace(origin, path=path)
            yield Fragment(where, item.data, item.line_offset, item.unit)


def _location(origin: Origin, label: str) -> str:
    return f"{origin.commit}:{label}" if origin.commit else label


class _BlobStream(io.RawIOBase):
    """One blob inside cat-file's output: reads end where the blob ends."""

    def __init__(self, pipe: IO[bytes], size: int) -> None:
        self.pipe, self.left = pipe, size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        want = self.left if size < 0 else min(size, self.left)
        data = self.pipe.read(want) if want > 0 else b""
        self.left -= len(data)  # short only when cat-file's output broke off: left stays > 0
        return data

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Skip what the reader of this blob left unread (archives stop at their end)."""
        while self.left and self.read(PIPE_BUFFER):
            pass
