"""Archives of logs (zip, tar, compressed tar) read in place: which members are logs, each
opened as a file is (``files.opened``), nothing ever extracted to disk. A zip is read from its
end, so one that cannot seek (a pipe, a member of another archive) is copied to an anonymous
temporary file first; a tar is read as a stream. The archive modules load with the first
archive: most runs meet none.
"""

from __future__ import annotations

import functools
import io
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from stormwatch.events.files import (
    DAMAGED_STREAM,
    ExpansionBudget,
    Readable,
    as_io,
    counted,
    opened,
    peekable,
    starts_like_log,
    wanted_by_name,
)

if TYPE_CHECKING:
    import tarfile

# What macOS's archiver leaves beside the members: resource forks, under this folder and prefix.
MACOS_FOLDER = "__MACOSX/"
MACOS_FORK = "._"


# Opens an archive member as a file is opened; ``None`` for a member that is no log after all.
MemberOpener = Callable[[], AbstractContextManager["Readable | None"]]


class ArchiveError(Exception):
    """An archive that cannot be read on (damaged, encrypted, compressed by an unknown method);
    the records of the members read before are kept."""


def zip_log_members(path: Path) -> list[tuple[str, int]]:
    """The members of the zip file at ``path`` that reading it takes (extension-less ones
    included: reading checks their first bytes), with their compressed sizes: the parts a zip
    can be parsed in by several processes. Raises ``OSError`` or ``ArchiveError``."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise ArchiveError(str(error)) from error
    sizes: dict[str, int] = {}  # a name may be in a zip twice: reading the name reads both
    for info in infos:
        if not info.filename.endswith("/") and _taken(info.filename) is not False:
            sizes[info.filename] = sizes.get(info.filename, 0) + info.compress_size
    return list(sizes.items())


def _taken(name: str) -> bool | None:
    """Whether an archive member is read: by its name (``None``: by its first bytes); macOS's
    resource forks never."""
    member = PurePosixPath(name)
    if name.startswith(MACOS_FOLDER) or member.name.startswith(MACOS_FORK):
        return False
    return wanted_by_name(member)


def archive_members(
    kind: str, stream: Readable, budget: ExpansionBudget
) -> Iterator[tuple[str, MemberOpener]]:
    """The logs in a zip or tar archive (``kind``): each member's name and how to open it like
    a file (``None``: an extension-less member that does not start like a log). Members are
    chosen as a folder walk chooses files (archives included); macOS's resource forks are
    passed over. Read each member before taking the next: a tar is read as a stream."""
    zipped = kind == "zip"
    members = _zip_members(stream) if zipped else _tar_members(stream)
    for name, open_raw in members:
        taken = _taken(name)
        if taken is not False:
            # a zip member is decompressed on its own; a tar's content was counted as a whole
            count = budget.expanded if zipped else None
            yield name, functools.partial(_member_content, open_raw, taken is True, budget, count)


@contextmanager
def _member_content(
    open_raw: Callable[[], IO[bytes]],
    named: bool,
    budget: ExpansionBudget,
    count: Callable[[int], None] | None,
) -> Iterator[Readable | None]:
    with open_raw() as raw:
        member = peekable(raw) if count is None else counted(raw, count, seeks=False)
        if not named and not starts_like_log(member.peek(2)):
            yield None
            return
        with opened(member, budget) as content:
            yield content


def _zip_members(stream: Readable) -> Iterator[tuple[str, Callable[[], IO[bytes]]]]:
    import zipfile

    with _seekable(stream) as whole, zipfile.ZipFile(whole) as archive:
        for info in archive.infolist():
            if not info.filename.endswith("/"):  # is_dir() fails on a name cut to nothing
                yield info.filename, functools.partial(archive.open, info)


@contextmanager
def _seekable(stream: Readable) -> Iterator[IO[bytes]]:
    """``stream`` when it is a file that can seek, else its copy in a temporary file: a zip is
    read from its end, which a pipe or a member of another archive cannot give cheaply."""
    if isinstance(stream, io.BufferedReader) and _can_seek(stream):
        yield stream
        return
    with tempfile.TemporaryFile(prefix="stormwatch-zip-") as copy:
        shutil.copyfileobj(as_io(stream), copy, 1 << 20)
        copy.seek(0)
        yield copy


def _can_seek(stream: io.BufferedReader) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, OSError, ValueError):  # a member of a tar read as a stream
        return False


def _tar_members(stream: Readable) -> Iterator[tuple[str, Callable[[], IO[bytes]]]]:
    import tarfile

    checked = _checked_tar_info()
    # names in another encoding than UTF-8 as \xNN, not as surrogates nothing else can take
    with tarfile.open(
        fileobj=as_io(stream), mode="r|", tarinfo=checked, errors="backslashreplace"
    ) as archive:
        for info in archive:
            if info.isfile():
                yield info.name, functools.partial(_tar_member, archive, info)


def _checked_tar_info() -> type[tarfile.TarInfo]:
    """Tar headers that fail loudly: after the first member, tarfile takes a damaged or cut
    header for the end of the archive, and the members after it would vanish unseen."""
    import tarfile

    # the zero blocks a tar ends with (typeshed does not declare the class)
    end_of_archive = getattr(tarfile, "EOFHeaderError")  # noqa: B009

    class CheckedTarInfo(tarfile.TarInfo):
        @classmethod
        def fromtarfile(cls, archive: tarfile.TarFile) -> CheckedTarInfo:
            try:
                return super().fromtarfile(archive)
            except tarfile.HeaderError as error:
                if archive.offset == 0 or isinstance(error, end_of_archive):
                    raise
                raise ArchiveError(f"damaged or cut header at byte {archive.offset}") from error

    return CheckedTarInfo


def _tar_member(archive: tarfile.TarFile, info: tarfile.TarInfo) -> IO[bytes]:
    member = archive.extractfile(info)
    assert member is not None  # a regular file always has content
    return member


def archive_errors() -> tuple[type[Exception], ...]:
    """What reading a damaged, encrypted or unsupported archive raises: zip's bad CRC, password
    needed or unknown compression method, a name flagged UTF-8 that is not, tar's bad header, a
    cut or damaged compressed stream (bzip2's and gzip's are ``OSError``)."""
    import tarfile
    import zipfile

    found = (zipfile.BadZipFile, tarfile.TarError, RuntimeError, NotImplementedError, OSError)
    return (*found, UnicodeDecodeError, *DAMAGED_STREAM)
