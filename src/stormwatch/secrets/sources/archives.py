"""Archives (zip, tar, gzip, bzip2, xz) as fragments, with bounded depth, size and ratio.

The archive modules load with the first archive: most scans meet none, and every scan's
start-up would pay for them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from functools import partial
from typing import BinaryIO

from stormwatch.secrets.model import Fragment, SkipNotice
from stormwatch.secrets.settings import ScanSettings

MAX_ENTRIES = 10_000


def _gzip(raw: BinaryIO) -> io.BufferedIOBase:
    import gzip

    return gzip.GzipFile(fileobj=raw)


def _bzip2(raw: BinaryIO) -> io.BufferedIOBase:
    import bz2

    return bz2.BZ2File(raw)


def _xz(raw: BinaryIO) -> io.BufferedIOBase:
    import lzma

    return lzma.LZMAFile(raw)


_STREAM_OPENERS: dict[str, Callable[[BinaryIO], io.BufferedIOBase]] = {
    "gzip": _gzip,
    "bzip2": _bzip2,
    "xz": _xz,
}


class _Budget(io.RawIOBase):
    """A reader that stops an archive from expanding past its byte budget."""

    def __init__(self, inner: BinaryIO | io.BufferedIOBase, limit: int) -> None:
        self.inner, self.left = inner, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            raise _BudgetExceeded
        data = self.inner.read(min(len(buffer), self.left))
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


class _BudgetExceeded(Exception):
    pass


def archive_fragments(
    label: str, kind: str, head: bytes, rest: BinaryIO, settings: ScanSettings, depth: int
) -> Iterator[Fragment | SkipNotice]:
    """Fragments of every member of an archive (members that are archives: up to the depth)."""
    import lzma
    import tarfile
    import zipfile

    if depth >= settings.max_archive_depth:
        yield SkipNotice(label, "archive-depth", f"nested deeper than {depth} archives")
        return
    whole = io.BufferedReader(_Joined(head, rest))
    try:
        yield from _MEMBER_READERS[kind](label, whole, settings, depth)
    except _BudgetExceeded:
        yield SkipNotice(label, "archive-bomb", f"expands past {settings.max_archive_bytes} bytes")
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, lzma.LZMAError) as exc:
        yield SkipNotice(label, "corrupt-archive", str(exc))


def _zip_members(
    label: str, whole: BinaryIO, settings: ScanSettings, depth: int
) -> Iterator[Fragment | SkipNotice]:
    import zipfile

    from stormwatch.secrets.sources.files import stream_fragments

    content = whole.read(settings.max_archive_bytes + 1)
    if len(content) > settings.max_archive_bytes:
        yield SkipNotice(label, "archive-size", f"larger than {settings.max_archive_bytes} bytes")
        return
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        for member in members[:MAX_ENTRIES]:
            inner = f"{label}!{member.filename}"
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > settings.max_archive_ratio or member.file_size > settings.max_archive_bytes:
                yield SkipNotice(inner, "archive-bomb", f"expansion ratio {ratio:.0f}")
                continue
            with archive.open(member) as stream:
                budget = _Budget(stream, settings.max_archive_bytes)  # type: ignore[arg-type]
                yield from stream_fragments(inner, io.BufferedReader(budget), settings, depth + 1)
        if len(members) > MAX_ENTRIES:
            yield SkipNotice(label, "archive-entries", f"{len(members) - MAX_ENTRIES} not read")


def _tar_members(
    label: str, whole: BinaryIO, settings: ScanSettings, depth: int
) -> Iterator[Fragment | SkipNotice]:
    import tarfile

    from stormwatch.secrets.sources.files import stream_fragments

    budget = io.BufferedReader(_Budget(whole, settings.max_archive_bytes))
    with tarfile.open(fileobj=budget, mode="r|*") as archive:
        for count, member in enumerate(archive):
            if count >= MAX_ENTRIES:
                yield SkipNotice(label, "archive-entries", f"more than {MAX_ENTRIES} members")
                return
            stream = archive.extractfile(member) if member.isfile() else None
            if stream is not None:
                inner = f"{label}!{member.name}"
                yield from stream_fragments(inner, stream, settings, depth + 1)  # type: ignore[arg-type]


def _compressed_stream(
    label: str, whole: BinaryIO, settings: ScanSettings, depth: int, *, kind: str
) -> Iterator[Fragment | SkipNotice]:
    from stormwatch.secrets.sources.files import stream_fragments

    opened = _STREAM_OPENERS[kind](whole)
    budget = io.BufferedReader(_Budget(opened, settings.max_archive_bytes))
    name = label.rsplit("/", 1)[-1]
    inner = label.rsplit(".", 1)[0] if "." in name else f"{label}!data"
    yield from stream_fragments(inner, budget, settings, depth + 1)


class _Joined(io.RawIOBase):
    """The bytes already read (``head``) followed by the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
            return size
        data = self.rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


MemberReader = Callable[[str, BinaryIO, ScanSettings, int], Iterator[Fragment | SkipNotice]]
_MEMBER_READERS: dict[str, MemberReader] = {
    "zip": _zip_members,
    "tar": _tar_members,
    **{kind: partial(_compressed_stream, kind=kind) for kind in _STREAM_OPENERS},
}
