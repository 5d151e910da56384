"""Files and directories as fragments: walk, skip binaries, stream large files, open archives."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from stormwatch.secrets.model import Fragment, Origin, SkipNotice
from stormwatch.secrets.settings import ScanSettings
from stormwatch.secrets.sources.archives import archive_fragments
from stormwatch.secrets.sources.chunks import chunked
from stormwatch.sniffing import UTF16_BOMS, archive_kind, utf16_as_utf8

SNIFF = 8192
SKIP_DIRS = frozenset({".git", ".hg", ".svn"})

Item = Fragment | SkipNotice


def stream_fragments(
    label: str, stream: BinaryIO, settings: ScanSettings, depth: int = 0, size: int | None = None
) -> Iterator[Item]:
    """Fragments of one open stream: archives are opened, binaries skipped, text chunked.

    ``size`` (when known) sizes the first read: a read of a whole chunk allocates a chunk-sized
    buffer, and doing that for every small file costs more than scanning it."""
    first = stream.read(_first_read(settings, size))
    yield from _fragments_after(label, first, stream, settings, depth)


def _first_read(settings: ScanSettings, size: int | None) -> int:
    return settings.chunk_bytes if size is None else min(settings.chunk_bytes, size + 1)


def _fragments_after(
    label: str, first: bytes, stream: BinaryIO, settings: ScanSettings, depth: int
) -> Iterator[Item]:
    """Fragments of a stream whose first read gave ``first``."""
    kind = archive_kind(label, first)
    if kind is not None:
        yield from archive_fragments(label, kind, first, stream, settings, depth)
        return
    if first[:2] in UTF16_BOMS:  # Windows PowerShell 5.1's Out-File and '>'
        read = utf16_as_utf8(stream.read, first)
        yield from chunked(Origin(label), read(len(first)), read, settings.chunk_bytes)
        return
    if b"\0" in first[:SNIFF]:
        yield SkipNotice(label, "binary")
        return
    yield from chunked(Origin(label), first, stream.read, settings.chunk_bytes)


def file_fragments(
    path: str, label: str, settings: ScanSettings, size: int | None = None
) -> Iterator[Item]:
    """Fragments of one file (``label`` is the path reported in findings; ``size`` is what
    the walk saw, a hint only: a file that grew since is still read to its end).

    Most files are read whole by one ``os.read`` (a short read of a regular file is its end);
    only a file that fills the first read gets a file object for the rest."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        yield SkipNotice(label, "unreadable", exc.strerror or str(exc))
        return
    try:
        wanted = _first_read(settings, size)
        first = os.read(fd, wanted)
        if len(first) < wanted:  # the whole file: nothing more to read
            yield from _fragments_after(label, first, io.BytesIO(), settings, 0)
            return
        with open(fd, "rb", buffering=0, closefd=False) as stream:
            yield from _fragments_after(label, first, stream, settings, 0)
    except OSError as exc:
        yield SkipNotice(label, "unreadable", exc.strerror or str(exc))
    finally:
        os.close(fd)


def _walk(root: str, prefix: str) -> Iterator[tuple[str, str, int] | SkipNotice]:
    """(path, label, size) of every regular file under ``root``, in a stable order."""
    try:
        with os.scandir(root) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        yield SkipNotice(prefix or root, "unreadable", exc.strerror or str(exc))
        return
    for entry in entries:
        label = prefix + entry.name
        try:
            if entry.is_file(follow_symlinks=False):
                yield entry.path, label, entry.stat(follow_symlinks=False).st_size
            elif entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    yield from _walk(entry.path, label + "/")
            elif entry.is_symlink() and not os.path.exists(entry.path):
                yield SkipNotice(label, "broken-symlink", os.readlink(entry.path))
        except OSError as exc:
            yield SkipNotice(label, "unreadable", exc.strerror or str(exc))


def walk_paths(roots: Sequence[Path]) -> Iterator[tuple[str, str, int] | SkipNotice]:
    """(path, label, size) of every file named or under a directory named; labels are
    relative to each directory root."""
    for root in roots:
        if root.is_dir():
            yield from _walk(str(root), "")
        elif root.is_file():
            yield str(root), root.as_posix(), root.stat().st_size
        elif root.is_symlink():
            yield SkipNotice(str(root), "broken-symlink")
        else:
            yield SkipNotice(str(root), "missing", "no such file or directory")


def path_fragments(roots: Sequence[Path], settings: ScanSettings) -> Iterator[Item]:
    """Fragments of every file named or under a directory named."""
    for item in walk_paths(roots):
        if isinstance(item, SkipNotice):
            yield item
        else:
            yield from file_fragments(item[0], item[1], settings, item[2])
