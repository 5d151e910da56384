"""Log files: which files a folder holds, and each one opened as bytes to read records from.

A folder is walked through linked folders, each folder once; a log is known by its name (``.json``,
``.jsonl``, ``.ndjson``, ``.log``, ``.avro``, optionally ``.gz``) or, without an extension, by its
first bytes (Firehose and CloudWatch export tasks name their objects so). Archives are walked
too, so that reading reports them rather than passing them over. A file is opened once (a pipe
cannot be read twice) and its bytes are what the log says: gzip decompressed, UTF-16 (Windows
PowerShell 5.1's ``Out-File`` and ``>``) recoded to UTF-8, a UTF-8 byte order mark dropped.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from io import BufferedReader
from pathlib import Path
from typing import Any

from stormwatch.sniffing import UTF8_BOM, UTF16_BOMS, utf16_as_utf8

GZIP_MAGIC = b"\x1f\x8b"
ARCHIVE_SUFFIXES = frozenset({".zip", ".tar", ".tgz"})
LOG_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".log", ".avro"})

# A byte stream that can be peeked at: a file, a gzip member, recoded UTF-16.
Readable = BufferedReader | gzip.GzipFile


def walk(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named by ``paths``; directories are walked recursively, taking log-like names and
    files with no extension whose content starts like a log (gzip or JSON): Firehose and
    CloudWatch export tasks name their objects so."""
    for path in paths:
        if not path.is_dir():
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
    """A log by its name or first bytes, or an archive that must not pass silently."""
    archive = path.suffix.lower() in ARCHIVE_SUFFIXES or path.name.lower().endswith(".tar.gz")
    return archive or looks_like_log(path) or _unnamed_log(path)


def looks_like_log(path: Path) -> bool:
    """A log file's name: ``.json``, ``.jsonl``, ``.ndjson``, ``.log`` or ``.avro``, optionally
    ``.gz``."""
    suffixes = path.suffixes
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1].lower() in LOG_SUFFIXES


def _unnamed_log(path: Path) -> bool:
    """A file without an extension (``.gz`` aside) whose first bytes are gzip's or JSON's."""
    suffixes = path.suffixes
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    if suffixes:
        return False
    try:
        with path.open("rb") as stream:
            head = stream.read(2)
    except OSError:
        return True  # let reading report why it cannot be read
    return head == GZIP_MAGIC or head.lstrip()[:1] in (b"{", b"[")


@contextmanager
def open_binary(path: Path) -> Iterator[Readable]:
    """``path`` opened once for reading bytes (a pipe cannot be read twice); gzip content is
    decompressed, UTF-16 recoded and a UTF-8 byte order mark dropped, transparently."""
    if path.is_dir():
        os.listdir(path)  # raises why the walk could not enter it
        raise IsADirectoryError(21, "Is a directory", str(path))
    with path.open("rb") as raw:
        if raw.peek(2)[:2] == GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield _decoded(unzipped)
        else:
            yield _decoded(raw)


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
