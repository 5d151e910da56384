"""Hostile and messy archives and compressed logs through `stormwatch ingest`: member names that
climb out, carry terminal escapes or are no valid text; links, devices and damage inside a tar;
encrypted zips, bombs, nesting, misnamed and cut streams. Through the CLI (`--report` JSON, the
exit code, the store read-only), never a traceback.

An adversarial check: each case asserts the right behaviour. Its first run found 19 cases
wrong (names printed raw or as markup, names that are no valid text raising, a large zip's
repeated names read twice, empty archives rejected, damage after a tar's first member ending it
silently, "ustar" in a log making it a tar, damaged members unnamed); all hold now.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import struct
import tarfile
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.cli import test_ingest_archives_stdin as archives_cli
from tests.cli.test_ingest_archives_stdin import (
    _archive,
    _entries,
    _ingest,
    _problems,
    _stored,
    _trail,
)
from tests.events.conftest import RecordFactory, write_jsonl
from typer.testing import Result

from stormwatch.events import files
from stormwatch.events import ingest as ingest_module

ESC = "\x1b"
LOCAL_HEADER, CENTRAL_HEADER = b"PK\x03\x04", b"PK\x01\x02"
ENCRYPTED, UTF8_NAMES = 0x1, 0x800  # zip's general purpose flags
DEFLATE64, AES = 9, 99  # compression methods zipfile cannot read
# A generous bound for inputs that take a fraction of a second: a bomb would take minutes.
QUICK_SECONDS = 5.0
BINARY, REPEATED = "binary content", "one line repeated"

Members = list[tuple[str, bytes]]


# the fixtures of the archive CLI tests: a record factory per test, inputs apart in tmp_path/in
records, inbox = archives_cli.records, archives_cli.inbox


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal wide enough that Rich wraps no line: the output is compared line by line."""
    monkeypatch.setenv("COLUMNS", "2000")


def _zip(members: Members, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``members`` in order, repeated names included."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name, and writes it
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return buffer.getvalue()


def _patched(data: bytes, name: bytes, flags: int = 0, method: int | None = None) -> bytes:
    """A zip with the general purpose ``flags`` added and the compression ``method`` replaced
    in the local header and the central directory entry of member ``name``: what zipfile cannot
    write (encryption, other methods). The name stands 30 bytes after a local header's start and
    46 after a central entry's; the method field follows the flags in both."""
    patched = bytearray(data)
    at = patched.find(name)
    while at >= 0:
        for signature, offset, flags_at in ((LOCAL_HEADER, 30, 6), (CENTRAL_HEADER, 46, 8)):
            start = at - offset
            if start >= 0 and patched[start : start + 4] == signature:
                (old,) = struct.unpack_from("<H", patched, start + flags_at)
                struct.pack_into("<H", patched, start + flags_at, old | flags)
                if method is not None:
                    struct.pack_into("<H", patched, start + flags_at + 2, method)
        at = patched.find(name, at + 1)
    return bytes(patched)


def _zip_named(raw_name: bytes, data: bytes, flags: int = 0) -> bytes:
    """A zip of one member ``data`` named by the bytes ``raw_name``, with the general purpose
    ``flags`` added: names zipfile does not write (a placeholder of the same length, replaced)."""
    placeholder = b"Q" * len(raw_name)
    zipped = _zip([(placeholder.decode(), data)])
    return _patched(zipped, placeholder, flags).replace(placeholder, raw_name)


def _regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _special(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info, None


def _tar(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A plain tar of ``entries`` (a member and its content; ``None`` for one without)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for info, data in entries:
            archive.addfile(info, None if data is None else io.BytesIO(data))
    return buffer.getvalue()


def _end_of_first_member(data: bytes) -> int:
    """Where a plain tar's second header starts: after the first header and its data blocks."""
    size = tarfile.TarInfo.frombuf(data[:512], "utf-8", "strict").size
    return 512 + -(-size // 512) * 512


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _outcome(result: Result, report: dict[str, Any]) -> tuple[int, int | None, int | None]:
    """(exit code, events stored, records rejected plus files unreadable)."""
    return result.exit_code, report.get("stored"), report.get("rejected")


def _error(report: dict[str, Any], path: Path) -> str:
    """The errors reported for ``path`` (its members' too), as one text."""
    return " ".join(entry["error"] or "" for entry in _entries(report, path))


# --- member names -------------------------------------------------------------------------


def test_member_names_that_climb_out_write_nothing_anywhere(
    tmp_path: Path, inbox: Path, records: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is extracted: a zip inside a tar (copied to an anonymous temporary file to be
    read) with names climbing out, absolute or with backslashes leaves no file behind."""
    scratch, cwd = tmp_path / "tmp", tmp_path / "cwd" / "a" / "b"
    for folder in (scratch, cwd):
        folder.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.chdir(cwd)
    climbing = [
        "../../escaped-1.jsonl",
        str(tmp_path / "escaped-2.jsonl"),
        "..\\..\\escaped-3.jsonl",
        "logs/../../../../escaped-4.jsonl",
    ]
    inner = _zip([(name, _trail(records, 1)) for name in climbing])
    bundle = _write(inbox / "bundle.tar", _tar([_regular("../../../inner.zip", inner)]))
    before = {path for path in tmp_path.rglob("*") if path != tmp_path / "report.json"}

    result, report = _ingest(tmp_path, bundle)

    assert _outcome(result, report) == (0, len(climbing), 0), result.output
    after = set(tmp_path.rglob("*")) - {tmp_path / "report.json"}
    assert after - before == {tmp_path / "s.duckdb"}
    assert not list(scratch.iterdir())


def test_the_report_holds_member_names_escaped(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    """JSON escapes control characters: the report file has no raw escape byte, and the store
    keeps each name as it is in the archive."""
    name = f"logs/{ESC}[2J{ESC}]0;pwned\a.jsonl"
    archive = _archive(inbox / "logs.zip", {name: _trail(records, 1) + b"not json\n"})

    result, report = _ingest(tmp_path, archive)

    assert _outcome(result, report) == (3, 1, 1), result.output
    assert ESC.encode() not in (tmp_path / "report.json").read_bytes()
    assert _stored(tmp_path) == {f"{archive}!{name}": 1}


CONTROL_NAMES = {
    "escape-in-a-sample": ("zip", f"logs/{ESC}[31mred{ESC}[0m.jsonl", b"not json\n"),
    "escape-in-a-tar": ("tar", f"logs/{ESC}]0;title{ESC}\\.jsonl", b"not json\n"),
    "escape-in-an-error": ("zip", f"logs/{ESC}[2J.jsonl.xz", lzma.compress(b"{}\n" * 9)[:20]),
}


@pytest.mark.parametrize(("kind", "name", "data"), CONTROL_NAMES.values(), ids=list(CONTROL_NAMES))
def test_no_terminal_escape_from_a_member_name_reaches_the_output(
    tmp_path: Path, inbox: Path, kind: str, name: str, data: bytes
) -> None:
    archive = _archive(inbox / f"logs.{kind}", {name: data})
    result, _ = _ingest(tmp_path, archive)
    assert result.exit_code == 3, result.output
    assert ESC not in result.output


@pytest.mark.usefixtures("wide")
def test_a_newline_in_a_member_name_forges_no_line_of_output(tmp_path: Path, inbox: Path) -> None:
    name = "a.jsonl\nunreadable /srv/forged.jsonl: all records lost\nb.jsonl"
    result, _ = _ingest(tmp_path, _archive(inbox / "logs.zip", {name: b"not json\n"}))
    assert result.exit_code == 3, result.output
    assert not any(line.startswith("unreadable") for line in result.output.splitlines())


@pytest.mark.usefixtures("wide")
@pytest.mark.parametrize("name", ["logs/[bold]a.jsonl", "logs/[/]a.jsonl"], ids=["tag", "close"])
def test_a_member_name_like_markup_is_printed_as_it_is(
    tmp_path: Path, inbox: Path, name: str
) -> None:
    """``[/]`` raises Rich's MarkupError (the traceback and no report); ``[bold]`` vanishes."""
    archive = _archive(inbox / "logs.zip", {name: b"not json\n"})
    result, report = _ingest(tmp_path, archive)
    assert (result.exit_code, report.get("rejected")) == (3, 1), result.output
    assert f"{archive}!{name}:1" in result.output


def test_zip_names_without_the_utf8_flag_are_read_as_cp437(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    """As old Windows zip tools write them: bytes that are no UTF-8, read as code page 437."""
    data = _zip_named(b"r\x82sum\xe9-\xff\x81.jsonl", _trail(records, 2))
    result, report = _ingest(tmp_path, _write(inbox / "legacy.zip", data))
    assert _outcome(result, report) == (0, 2, 0), result.output
    assert [name.split("!")[1] for name in _stored(tmp_path)] == ["résumΘ-\xa0ü.jsonl"]


NOT_DECODABLE: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    # the UTF-8 flag set over bytes that are no UTF-8: zipfile's UnicodeDecodeError
    "zip-utf8-flag": (
        "names.zip",
        lambda trail: _zip_named(b"logs/\xff\xfe.jsonl", trail, UTF8_NAMES),
    ),
    # a NUL first: zipfile cuts the name there, and an empty name's is_dir() raises IndexError
    "zip-nul-first": (
        "names.zip",
        lambda trail: _zip_named(b"\x00logs/a.jsonl", trail),
    ),
    # tarfile decodes names with surrogateescape: such a name can be neither stored nor printed
    "tar-latin1": (
        "names.tar",
        lambda trail: _tar(
            [_regular("logs/caf\udce9.jsonl", trail), _regular("logs/r\udce9.jsonl", b"x\n")]
        ),
    ),
}


# as a zip of 8 MiB or more is read: listing its parts lets the error out before
IN_PARTS = pytest.param("zip-utf8-flag", True, id="zip-utf8-flag-in-parts")


@pytest.mark.parametrize(
    ("case", "in_parts"), [*(pytest.param(c, False, id=c) for c in NOT_DECODABLE), IN_PARTS]
)
def test_a_member_name_that_is_no_valid_text_is_reported_not_raised(
    tmp_path: Path,
    inbox: Path,
    records: RecordFactory,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    in_parts: bool,
) -> None:
    """Its records stored under a readable name, or the archive's error; read whole or, as a
    zip of 8 MiB or more is, in parts."""
    if in_parts:
        monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr(ingest_module, "SPLIT_MIN_BYTES", 0)
    name, build = NOT_DECODABLE[case]
    result, report = _ingest(tmp_path, _write(inbox / name, build(_trail(records, 2))))
    assert result.exit_code in (0, 3), result.output
    stored = sum(_stored(tmp_path).values())
    assert stored == 2 or report["files"][0]["error"], _problems(report["files"])


# --- odd but valid archives ------------------------------------------------------------------


def test_members_of_the_same_name_are_each_read(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    data = _zip([("a.jsonl", _trail(records, 1)), ("a.jsonl", _trail(records, 2))])
    result, report = _ingest(tmp_path, _write(inbox / "twice-named.zip", data))
    assert _outcome(result, report) == (0, 3, 0), result.output
    assert report["files"][0]["records"] == 3


def test_a_zip_read_in_parts_counts_members_of_the_same_name_once(
    tmp_path: Path, inbox: Path, records: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = [("a.jsonl", _trail(records, 1)), ("a.jsonl", _trail(records, 2))]
    path = _write(inbox / "twice-named.zip", _zip([*members, ("b.jsonl", _trail(records, 1))]))
    for run in ("whole", "parts"):
        (tmp_path / run).mkdir()
    _, whole = _ingest(tmp_path / "whole", path)
    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_module, "SPLIT_MIN_BYTES", 0)
    result, parts = _ingest(tmp_path / "parts", path)
    assert result.exit_code == 0, result.output
    assert [f["records"] for f in parts["files"]] == [f["records"] for f in whole["files"]] == [4]
    assert parts["duplicates"] == whole["duplicates"] == 0


def _zip64(trail: bytes) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", allowZip64=True) as archive,
        archive.open("logs/a.jsonl", "w", force_zip64=True) as member,
    ):
        member.write(trail)
    return buffer.getvalue()


VALID_ZIPS: dict[str, tuple[Callable[[bytes], bytes], int]] = {
    "zip64": (_zip64, 2),
    "bzip2-method": (lambda trail: _zip([("a.jsonl", trail)], zipfile.ZIP_BZIP2), 2),
    "lzma-method": (lambda trail: _zip([("a.jsonl", trail)], zipfile.ZIP_LZMA), 2),
    "stored-method": (lambda trail: _zip([("a.jsonl", trail)], zipfile.ZIP_STORED), 2),
    "only-directories": (lambda _: _zip([("logs/", b""), ("logs/2025.jsonl/", b"")]), 0),
}


@pytest.mark.parametrize(("build", "stored"), VALID_ZIPS.values(), ids=list(VALID_ZIPS))
def test_odd_but_valid_zips_are_read(
    tmp_path: Path,
    inbox: Path,
    records: RecordFactory,
    build: Callable[[bytes], bytes],
    stored: int,
) -> None:
    path = _write(inbox / "odd.zip", build(_trail(records, 2)))
    result, report = _ingest(tmp_path, path)
    assert _outcome(result, report) == (0, stored, 0), result.output


EMPTY_ARCHIVES: dict[str, Callable[[Path], None]] = {
    "empty.zip": lambda path: zipfile.ZipFile(path, "w").close(),
    "empty.tar": lambda path: tarfile.open(path, "w").close(),
    "empty.tar.gz": lambda path: tarfile.open(path, "w:gz").close(),
}


@pytest.mark.parametrize("name", list(EMPTY_ARCHIVES))
def test_an_empty_archive_holds_no_records(tmp_path: Path, inbox: Path, name: str) -> None:
    """As an empty folder: nothing to read, nothing rejected (an export of a quiet day)."""
    EMPTY_ARCHIVES[name](inbox / name)
    result, report = _ingest(tmp_path, inbox / name)
    assert _outcome(result, report) == (0, 0, 0), _problems(report["files"])


def test_content_not_name_says_what_a_file_is(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    """A zip named .tar.gz, a tar.gz named .zip, plain JSON Lines named .xz or .bz2."""
    tgz = _archive(tmp_path / "really.tgz", {"logs/b.jsonl": _trail(records, 1)}).read_bytes()
    _write(inbox / "a.tar.gz", _zip([("logs/a.jsonl", _trail(records, 1))]))
    _write(inbox / "b.zip", tgz)
    _write(inbox / "c.jsonl.xz", _trail(records, 1))
    _write(inbox / "d.JSONL.BZ2", _trail(records, 1))
    result, report = _ingest(tmp_path, inbox)
    assert _outcome(result, report) == (0, 4, 0), _problems(report["files"])


# --- tar members that are no regular files, and damaged tars ---------------------------------


def test_links_and_devices_in_a_tar_are_passed_over_not_followed(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    outside = write_jsonl(tmp_path / "outside.jsonl", [records.cloudtrail() for _ in range(5)])
    entries = [
        _regular("logs/a.jsonl", _trail(records, 1)),
        _special("logs/symlink.jsonl", tarfile.SYMTYPE, str(outside)),
        _special("logs/relative-symlink.jsonl", tarfile.SYMTYPE, "../../outside.jsonl"),
        _special("logs/hardlink.jsonl", tarfile.LNKTYPE, "logs/a.jsonl"),
        _special("logs/fifo.jsonl", tarfile.FIFOTYPE),
        _special("logs/zero.jsonl", tarfile.CHRTYPE),
        _special("logs/disk.jsonl", tarfile.BLKTYPE),
        _special("logs/folder.jsonl", tarfile.DIRTYPE),
        _regular("logs/z.jsonl", _trail(records, 1)),
    ]
    path = _write(inbox / "links.tar", _tar(entries))
    started = time.monotonic()
    result, report = _ingest(tmp_path, path)
    assert time.monotonic() - started < QUICK_SECONDS
    assert _outcome(result, report) == (0, 2, 0), result.output
    assert sorted(_stored(tmp_path)) == [f"{path}!logs/a.jsonl", f"{path}!logs/z.jsonl"]


def test_a_symlink_member_of_a_zip_is_its_target_text_not_followed(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    outside = write_jsonl(tmp_path / "outside.jsonl", [records.cloudtrail() for _ in range(5)])
    link = zipfile.ZipInfo("logs/link.jsonl")
    link.create_system, link.external_attr = 3, 0o120777 << 16  # a Unix symlink
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(link, str(outside))
    result, report = _ingest(tmp_path, _write(inbox / "link.zip", buffer.getvalue()))
    assert _outcome(result, report) == (3, 0, 1), result.output
    assert report["files"][0]["reasons"] == {"invalid JSON": 1}


def test_a_tar_member_longer_than_what_follows_is_an_error(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    """A header declaring 1 GB over a few blocks: the cut is found at once, not read for."""
    first, second = _trail(records, 2), _trail(records, 1)
    data = bytearray(_tar([_regular("logs/a.jsonl", first), _regular("logs/b.jsonl", second)]))
    start = _end_of_first_member(bytes(data))
    liar, _ = _regular("logs/b.jsonl", second)
    liar.size = 10**9
    data[start : start + 512] = liar.tobuf(tarfile.GNU_FORMAT)
    path = _write(inbox / "liar.tar", bytes(data))
    result, report = _ingest(tmp_path, path)
    assert result.exit_code == 3, result.output
    assert "unexpected end of data" in _error(report, path)
    assert _stored(tmp_path).get(f"{path}!logs/a.jsonl") == 2


def _with_data_past_the_declared_size(data: bytes) -> bytes:
    """A member holding more than its header says: the rest is read as the next header."""
    end, extra = _end_of_first_member(data), b'{"one more line": "the header did not count"}\n'
    return data[:end] + extra + bytes(-len(extra) % 512) + data[end:]


def _cut_in_the_second_header(data: bytes) -> bytes:
    return data[: _end_of_first_member(data) + 200]


DAMAGED_TARS = {
    "data-past-the-declared-size": _with_data_past_the_declared_size,
    "cut-in-a-header": _cut_in_the_second_header,
}


@pytest.mark.parametrize("build", DAMAGED_TARS.values(), ids=list(DAMAGED_TARS))
def test_a_tar_damaged_after_its_first_member_is_an_error(
    tmp_path: Path, inbox: Path, records: RecordFactory, build: Callable[[bytes], bytes]
) -> None:
    """The members after the damage are lost: that must show (exit 3), not pass as clean."""
    members = [
        _regular("logs/a.jsonl", _trail(records, 2)),
        _regular("logs/b.jsonl", _trail(records, 3)),
    ]
    path = _write(inbox / "damaged.tar", build(_tar(members)))
    result, report = _ingest(tmp_path, path)
    assert _stored(tmp_path).get(f"{path}!logs/a.jsonl") == 2
    assert result.exit_code == 3 and _error(report, path), result.output


def test_a_log_with_ustar_at_byte_257_is_no_tar(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    """Tar's magic is in a header that also holds a checksum; a log line can hold the word
    (``mustard``, ``custard``) where tar's magic would be, and lose the whole file."""
    probe = json.dumps(records.litellm(request_id="@"))
    at = probe.index('"@"') + 1
    request_id = "chatcmpl-" + "x" * (257 - at - len("chatcmpl-m")) + "mustard"
    first = json.dumps(records.litellm(request_id=request_id)).encode() + b"\n"
    assert first[257:262] == b"ustar"
    path = _write(inbox / "spend.jsonl", first + _trail(records, 2))
    result, report = _ingest(tmp_path, path)
    assert _outcome(result, report) == (0, 3, 0), _problems(report["files"])


# --- bombs, nesting, encryption, damaged streams ---------------------------------------------


def _tgz_of_zeros(size: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info, _ = _regular("logs/zeros.jsonl", b"")
        info.size = size
        archive.addfile(info, io.BytesIO(bytes(size)))
    return buffer.getvalue()


BOMBS: dict[str, tuple[str, Callable[[bytes], bytes], str]] = {
    "20MB-zeros-in-a-zip": ("zip", lambda _: _zip([("logs/zeros.jsonl", bytes(20 << 20))]), BINARY),
    "20MB-zeros-in-a-tgz": ("tgz", lambda _: _tgz_of_zeros(20 << 20), BINARY),
    "20MB-zeros-bz2": ("jsonl.bz2", lambda _: bz2.compress(bytes(20 << 20)), BINARY),
    "5MB-of-one-line-xz": (
        "jsonl.xz",
        lambda line: lzma.compress(line * ((5 << 20) // len(line)), preset=0),
        REPEATED,
    ),
    "5MB-of-one-line-zip": (
        "zip",
        lambda line: _zip([("logs/same.jsonl", line * ((5 << 20) // len(line)))]),
        REPEATED,
    ),
}


@pytest.mark.parametrize(("suffix", "build", "kind"), BOMBS.values(), ids=list(BOMBS))
def test_a_highly_compressible_input_finishes_quickly(
    tmp_path: Path,
    inbox: Path,
    records: RecordFactory,
    suffix: str,
    build: Callable[[bytes], bytes],
    kind: str,
) -> None:
    """Zeros stop at the first 8 KiB (``binary content``); one line repeated is one event and
    its duplicates, at parsing speed."""
    line = _trail(records, 1)
    path = _write(inbox / f"bomb.{suffix}", build(line))
    assert path.stat().st_size < 200_000
    started = time.monotonic()
    result, report = _ingest(tmp_path, path)
    assert time.monotonic() - started < QUICK_SECONDS
    if kind == BINARY:
        assert _outcome(result, report) == (3, 0, 1), result.output
        assert report["files"][0]["reasons"] == {"binary content": 1}
    else:
        assert _outcome(result, report) == (0, 1, 0), result.output
        assert report["duplicates"] == report["records"] - 1 > 1000


def test_nested_archives_expanding_past_the_budget_stop_with_an_error(
    tmp_path: Path, inbox: Path, records: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gzip of one line repeated, in a zip in a zip: each layer shrinks the one below, so the
    file is a few KB and its content unbounded (42.zip's trick). Reading stops once the content
    passes ``MAX_EXPANSION`` times the file (after a floor, here 1 MiB instead of 64), as an
    error of the file; what was read before is kept."""
    monkeypatch.setattr(files, "EXPANSION_FLOOR", 1 << 20)
    line = _trail(records, 1)
    logs = gzip.compress(line * ((24 << 20) // len(line)), compresslevel=9)
    inner = _zip([("logs/same.jsonl.gz", logs)])
    path = _write(inbox / "nested.zip", _zip([("inner.zip", inner)]))
    assert path.stat().st_size * files.MAX_EXPANSION + (1 << 20) < 24 << 20
    started = time.monotonic()
    result, report = _ingest(tmp_path, path)
    assert time.monotonic() - started < QUICK_SECONDS
    assert _outcome(result, report) == (3, 1, 1), result.output
    assert "decompression bomb" in _error(report, path)
    assert report["duplicates"] > 1000


def test_an_ordinary_compressed_log_is_read_whole_under_a_small_floor(
    tmp_path: Path, inbox: Path, records: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Distinct records compress tens of times, far inside the budget: every one is stored."""
    monkeypatch.setattr(files, "EXPANSION_FLOOR", 0)
    path = _write(inbox / "trail.jsonl.gz", gzip.compress(_trail(records, 3000)))
    result, report = _ingest(
        tmp_path, _write(inbox / "in.zip", _zip([("a.gz", path.read_bytes())]))
    )
    assert _outcome(result, report) == (0, 3000, 0), result.output


def test_archives_of_mixed_kinds_nested_past_the_limit_are_one_rejection(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    """zip in tar.gz in tar in zip: four deep, one past the limit; the location names each."""
    leaf = _archive(tmp_path / "n" / "l3.zip", {"logs/a.jsonl": _trail(records, 1)})
    level2 = _archive(tmp_path / "n" / "l2.tar.gz", {"l3.zip": leaf.read_bytes()})
    level1 = _archive(tmp_path / "n" / "l1.tar", {"l2.tar.gz": level2.read_bytes()})
    outer = _archive(inbox / "deep.zip", {"l1.tar": level1.read_bytes()})
    result, report = _ingest(tmp_path, outer)
    assert _outcome(result, report) == (3, 0, 1), result.output
    (sample,) = report["files"][0]["samples"]
    assert (sample["location"], sample["reason"]) == (
        f"{outer}!l1.tar!l2.tar.gz!l3.zip:1",
        "archive",
    )


UNREADABLE_MEMBERS = {
    "encrypted": (ENCRYPTED, None, "password required"),
    "deflate64": (0, DEFLATE64, "compression method is not supported"),
    "aes": (ENCRYPTED, AES, "password required"),
}


@pytest.mark.parametrize(
    ("flags", "method", "said"), UNREADABLE_MEMBERS.values(), ids=list(UNREADABLE_MEMBERS)
)
def test_an_encrypted_or_unknown_method_member_is_the_archive_error(
    tmp_path: Path,
    inbox: Path,
    records: RecordFactory,
    flags: int,
    method: int | None,
    said: str,
) -> None:
    data = _zip([("logs/a.jsonl", _trail(records, 2)), ("logs/b.jsonl", _trail(records, 3))])
    path = _write(inbox / "locked.zip", _patched(data, b"logs/b.jsonl", flags, method))
    result, report = _ingest(tmp_path, path)
    assert _outcome(result, report) == (3, 2, 1), result.output
    assert "member logs/b.jsonl" in _error(report, path) and said in _error(report, path)


DAMAGED_STREAMS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "cut-bz2": ("a.jsonl.bz2", lambda lines: bz2.compress(lines)[:200]),
    "xz-magic-then-garbage": ("a.jsonl.xz", lambda _: b"\xfd7zXZ\x00" + bytes(range(256))),
    "bz2-magic-then-garbage": ("a.jsonl.bz2", lambda _: b"BZh91AY&SY" + bytes(range(256))),
    "gzip-magic-then-garbage": ("a.jsonl.gz", lambda _: b"\x1f\x8b\x08\x00" + bytes(range(256))),
    "gzip-of-an-unknown-method": ("a.jsonl.gz", lambda lines: b"\x1f\x8b\x07" + lines),
}


@pytest.mark.parametrize(("name", "build"), DAMAGED_STREAMS.values(), ids=list(DAMAGED_STREAMS))
def test_a_damaged_compressed_log_is_an_unreadable_file(
    tmp_path: Path, inbox: Path, records: RecordFactory, name: str, build: Callable[[bytes], bytes]
) -> None:
    path = _write(inbox / name, build(_trail(records, 20)))
    result, report = _ingest(tmp_path, path)
    assert _outcome(result, report) == (3, 0, 1), result.output
    assert _error(report, path)


@pytest.mark.parametrize(
    "damage",
    [
        "xz-magic-then-garbage",
        "gzip-magic-then-garbage",
        pytest.param("bz2-magic-then-garbage"),
        pytest.param("gzip-of-an-unknown-method"),
    ],
)
def test_a_damaged_compressed_member_is_named_in_the_error(
    tmp_path: Path, inbox: Path, records: RecordFactory, damage: str
) -> None:
    """As a cut xz or deflate stream is (``zip archive, member logs/b.jsonl.xz: ...``)."""
    file_name, build = DAMAGED_STREAMS[damage]
    name = f"logs/b{file_name.removeprefix('a')}"
    members = {"logs/a.jsonl": _trail(records, 2), name: build(_trail(records, 5))}
    path = _archive(inbox / "logs.zip", members)
    result, report = _ingest(tmp_path, path)
    assert _outcome(result, report) == (3, 2, 1), result.output
    assert f"member {name}" in _error(report, path)


# --- the same archive by two ways --------------------------------------------------------------


def test_an_archive_given_and_walked_is_stored_once(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    archive = _archive(inbox / "logs.zip", {"logs/a.jsonl": _trail(records, 3)})
    result, report = _ingest(tmp_path, archive, inbox)
    assert _outcome(result, report) == (0, 3, 0), result.output
    assert _stored(tmp_path) == {f"{archive}!logs/a.jsonl": 3}
    assert [file["path"] for file in report["files"]] == [str(archive)]  # read once


def test_an_archive_under_a_folder_linked_in_a_loop_is_read_once(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    archive = _archive(inbox / "sub" / "logs.tgz", {"logs/a.jsonl": _trail(records, 3)})
    os.symlink(inbox, inbox / "sub" / "up")  # back to the top: a loop
    os.symlink("itself", inbox / "itself")  # a link to itself
    result, report = _ingest(tmp_path, inbox)
    assert _outcome(result, report) == (0, 3, 0), result.output
    assert [entry["path"] for entry in report["files"]] == [str(archive)]
