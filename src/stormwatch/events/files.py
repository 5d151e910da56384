"""Log files: which files a folder holds, and each one opened as bytes to read records from.

A folder is walked through linked folders, each folder once; a log is known by its name (``.json``,
``.jsonl``, ``.ndjson``, ``.log``, ``.avro``, optionally ``.gz``, ``.bz2`` or ``.xz``) or, without
an extension, by its first bytes (Firehose and CloudWatch export tasks name their objects so).
Archives (zip, tar, compressed tar) are walked too: the logs they hold are read as members,
chosen by the same rules as a folder's files. ``-`` is standard input. A file is opened once (a
pipe cannot be read twice) and its bytes are what the log says: gzip, bzip2 or xz decompressed
(known by their magic bytes), UTF-16 (Windows PowerShell 5.1's ``Out-File`` and ``>``) recoded to
UTF-8, a UTF-8 byte order mark dropped.
"""

from __future__ import annotations

import gzip
import io
import lzma
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePath
from typing import IO, Any, Protocol, cast

from stormwatch.sniffing import (
    GZIP_MAGIC,
    TAR_NAMES,
    UTF8_BOM,
    UTF16_BOMS,
    compression_of,
    utf16_as_utf8,
)

# What a cut or damaged compressed stream raises as it is read (bzip2 raises OSError too).
DAMAGED_STREAM: tuple[type[Exception], ...] = (EOFError, zlib.error, lzma.LZMAError)
COMPRESSED_SUFFIXES = frozenset({".gz", ".bz2", ".xz"})
ARCHIVE_NAMES = (".zip", *TAR_NAMES)
LOG_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".log", ".avro"})
STDIN = "-"
STDIN_NAME = "<stdin>"
# Logs are read line by line through this buffer: at the default 8 KiB, the read calls cost
# 0.5 CPU-µs per 2 KB record of a gateway log; 64 KiB takes most of that off.
READ_BUFFER = 1 << 16
# Logs compress 10 to 50 times (CloudTrail's gzip about 15, the simulator's JSON Lines 46), and
# deflate cannot pass 1,032: content over this many times the bytes read from disk (all layers
# of an input together, past a floor) is a decompression bomb, such as nested zips.
MAX_EXPANSION = 1100
EXPANSION_FLOOR = 64 << 20


class ExpansionError(Exception):
    """An input decompressing to far more than logs ever do (a decompression bomb); the
    records read before are kept."""


class ExpansionBudget:
    """The bytes one input has read from disk and the bytes its decompressors have produced
    (every layer: gzip in a zip in a tar). Reading fails with ``ExpansionError`` once the
    content passes ``MAX_EXPANSION`` times the input plus ``EXPANSION_FLOOR``."""

    def __init__(self) -> None:
        self.consumed = 0
        self.produced = 0

    def read(self, count: int) -> None:
        """``count`` more bytes read from the input itself."""
        self.consumed += count

    def expanded(self, count: int) -> None:
        """``count`` more bytes out of a decompressor; raises past the budget."""
        self.produced += count
        if self.produced > MAX_EXPANSION * self.consumed + EXPANSION_FLOOR:
            raise ExpansionError(
                f"decompressed to {self.produced >> 20:,} MiB from {self.consumed >> 20:,} MiB "
                f"read, over {MAX_EXPANSION}x: a decompression bomb? stopped (extract it "
                "yourself if it holds logs)"
            )


class _CountedSource(io.RawIOBase):
    """A stream's bytes as they are read, in chunks, each chunk counted (``count``). Seeks pass
    through to an input (a zip is read from its end), never to a decompressor: gzip seeks
    backwards by decompressing again from the start."""

    def __init__(self, stream: IO[bytes], count: Callable[[int], None], seeks: bool) -> None:
        self._stream = stream
        self._count = count
        self._seeks = seeks

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # one read of what the stream has: asking a cut gzip for a whole buffer raises and
        # loses the records decompressed before the cut
        read1 = getattr(self._stream, "read1", None)
        if read1 is None:
            size = int(self._stream.readinto(buffer) or 0)  # type: ignore[attr-defined]
        else:
            data = read1(len(buffer))
            size = len(data)
            buffer[:size] = data
        if size:
            self._count(size)
        return size

    def seekable(self) -> bool:
        return self._seeks and self._stream.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()


def counted(stream: IO[bytes], count: Callable[[int], None], seeks: bool) -> io.BufferedReader:
    """``stream`` read through a buffer whose every refill is counted by ``count``; it can seek
    when ``seeks`` and the stream can."""
    return io.BufferedReader(_CountedSource(stream, count, seeks), READ_BUFFER)


class Readable(Protocol):
    """A byte stream that can be peeked at: a file, an archive member, gzip, recoded UTF-16."""

    def read(self, size: int = -1, /) -> bytes: ...
    def readline(self, size: int = -1, /) -> bytes: ...
    def peek(self, size: int, /) -> bytes: ...


def is_stdin(path: PurePath) -> bool:
    """``-``: standard input, as on every Unix command line."""
    return str(path) == STDIN


def log_name(path: PurePath) -> str:
    """How records of ``path`` are located (``raw_file``): its path, or ``<stdin>``."""
    return STDIN_NAME if is_stdin(path) else path_text(path)


def path_text(path: PurePath) -> str:
    """A path as text any UTF-8 consumer (DuckDB, JSON) takes: bytes of a name that are not UTF-8
    (written on a system with another encoding) as ``\\xNN``."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


def walk(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named by ``paths``; directories are walked recursively, taking log-like names and
    files with no extension whose content starts like a log (gzip or JSON): Firehose and
    CloudWatch export tasks name their objects so."""
    for path in paths:
        if is_stdin(path) or not path.is_dir():
            yield path
            continue
        unreadable: list[OSError] = []
        found = _files_under(path, unreadable.append)
        for child in sorted(found + [Path(e.filename) for e in unreadable]):
            if child.is_dir() or (child.is_file() and _wanted(child)):
                yield child  # an unreadable directory: reading it reports why


def _files_under(folder: Path, on_error: Callable[[OSError], object]) -> list[Path]:
    """Every file below ``folder``, through linked folders too, each folder once (a link back
    up the tree is no loop); folders that cannot be listed go to ``on_error``."""
    seen: set[str] = set()
    files = []
    for root, folders, names in os.walk(folder, onerror=on_error, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            folders.clear()
            continue
        seen.add(real)
        files += [Path(root, name) for name in names]
    return files


def _wanted(path: Path) -> bool:
    """A log or an archive by its name, or a log by its first bytes."""
    named = wanted_by_name(path)
    return named if named is not None else _unnamed_log(path)


def wanted_by_name(path: PurePath) -> bool | None:
    """Whether a file is wanted by its name alone: a log or an archive (``True``), something
    else (``False``), or, with no extension (a compression's aside), ``None``: its first bytes
    tell."""
    if is_log_or_archive(path):
        return True
    return None if not _uncompressed_suffixes(path) else False


def is_log_or_archive(path: PurePath) -> bool:
    """A log's or an archive's name (a file the walk takes without looking at its bytes)."""
    return _looks_like_log(path) or _is_archive_name(path)


def _is_archive_name(path: PurePath) -> bool:
    """A zip or tar archive's name (``.zip``, ``.tar``, ``.tgz``, ``.tar.gz``, ``.tar.xz`` ...)."""
    return path.name.lower().endswith(ARCHIVE_NAMES)


def _looks_like_log(path: PurePath) -> bool:
    """A log file's name: ``.json``, ``.jsonl``, ``.ndjson``, ``.log`` or ``.avro``, optionally
    compressed (``.gz``, ``.bz2``, ``.xz``)."""
    suffixes = _uncompressed_suffixes(path)
    return bool(suffixes) and suffixes[-1] in LOG_SUFFIXES


def _uncompressed_suffixes(path: PurePath) -> list[str]:
    """The name's suffixes (lower case) without a last one that names a compression."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    return suffixes[:-1] if suffixes[-1:] and suffixes[-1] in COMPRESSED_SUFFIXES else suffixes


def _unnamed_log(path: Path) -> bool:
    """A file without an extension whose first bytes are gzip's or JSON's."""
    try:
        with path.open("rb") as stream:
            return starts_like_log(stream.read(2))
    except OSError:
        return True  # let reading report why it cannot be read


def starts_like_log(head: bytes) -> bool:
    """First bytes of a log without a name that says so: gzip's, or JSON's ``{`` or ``[``."""
    return head.startswith(GZIP_MAGIC) or head.lstrip()[:1] in (b"{", b"[")


@contextmanager
def open_binary(path: Path, budget: ExpansionBudget) -> Iterator[Readable]:
    """``path`` opened once for reading bytes (a pipe cannot be read twice); gzip content is
    decompressed, UTF-16 recoded and a UTF-8 byte order mark dropped, transparently. The
    bytes read and decompressed are counted against ``budget``."""
    if is_stdin(path):
        # left open: it is the process's (not closed with the buffer read through it)
        stdin = counted(cast(IO[bytes], sys.stdin.buffer), budget.read, seeks=True)
        with opened(stdin, budget) as stream:
            yield stream
        return
    if path.is_dir():
        os.listdir(path)  # raises why the walk could not enter it
        raise IsADirectoryError(21, "Is a directory", str(path))
    with (
        io.FileIO(path) as file,
        counted(file, budget.read, seeks=True) as raw,
        opened(raw, budget) as stream,
    ):
        yield stream


@contextmanager
def opened(raw: Readable, budget: ExpansionBudget) -> Iterator[Readable]:
    """``raw``'s content: gzip, bzip2 or xz decompressed (counted against ``budget``), UTF-16
    recoded, a UTF-8 byte order mark dropped."""
    compression = compression_of(raw.peek(10)[:10])
    if compression is None:
        yield _decoded(raw)
        return
    with _DECOMPRESSORS[compression](as_io(raw)) as unzipped:
        yield _decoded(counted(as_io(unzipped), budget.expanded, seeks=False))


def _bzip2(raw: IO[bytes]) -> AbstractContextManager[Readable]:
    import bz2  # rare in logs: loaded with the first bzip2 file

    return bz2.BZ2File(raw)


# by compression (``sniffing.compression_of``): the content, decompressed as it is read
_DECOMPRESSORS: dict[str, Callable[[IO[bytes]], AbstractContextManager[Readable]]] = {
    "gzip": lambda raw: gzip.GzipFile(fileobj=raw),
    "bzip2": _bzip2,
    "xz": lzma.LZMAFile,
}


def as_io(stream: Readable) -> IO[bytes]:
    """A readable stream as the binary file the standard library's readers take (it is one)."""
    return cast(IO[bytes], stream)


def peekable(member: IO[bytes]) -> Readable:
    """A binary file that can peek as a ``Readable``: stdin, a zip member (``ZipExtFile``), a
    tar member (buffered)."""
    return cast(Readable, member)


def _decoded(stream: Readable) -> Readable:
    head = stream.peek(3)[:3]
    if head.startswith(UTF8_BOM):
        stream.read(len(UTF8_BOM))
    elif head[:2] in UTF16_BOMS:
        return io.BufferedReader(_Utf16Source(stream), 1 << 16)
    return stream


class _Utf16Source(io.RawIOBase):
    """UTF-16 text as UTF-8 bytes, decoded as it is read (memory stays constant)."""

    def __init__(self, stream: Readable) -> None:
        self._read = utf16_as_utf8(stream.read)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending:
            self._pending = self._read(1 << 16)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count
