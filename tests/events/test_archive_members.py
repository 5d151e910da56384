"""Archives read in place, standard input, and the scratch directories of killed runs: the
cases the CLI tests do not reach (nesting depth, a ``!`` in a path, a damaged member)."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any, Literal

import pytest

from stormwatch.events import EventStore, IngestSettings, ingest_files
from stormwatch.events import ingest as ingest_module
from stormwatch.events.reader import MAX_ARCHIVE_DEPTH, TOO_DEEP, read_records
from stormwatch.events.store import SCRATCH_PREFIX


def _lines(records: list[Any]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar(members: dict[str, bytes], mode: Literal["w:gz", "w:bz2", "w:xz"] = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_archives_nested_to_the_limit_are_read_deeper_is_one_rejection(
    tmp_path: Path, records: Any
) -> None:
    data = _lines([records.litellm()])
    nested = {"spend.jsonl": data}
    for level in range(MAX_ARCHIVE_DEPTH):
        nested = {f"level{level}.zip": _zip(nested)}
    readable = tmp_path / "readable.zip"
    readable.write_bytes(next(iter(nested.values())))  # MAX_ARCHIVE_DEPTH archives deep
    too_deep = tmp_path / "too-deep.zip"
    too_deep.write_bytes(_zip(nested))

    (where, record, problem), *_ = read_records(readable)
    assert problem is None and record["request_id"]
    assert where.file.count("!") == MAX_ARCHIVE_DEPTH
    assert [problem for _, _, problem in read_records(too_deep)] == [TOO_DEEP]


def test_a_zip_inside_a_tar_stream_is_read(tmp_path: Path, records: Any) -> None:
    inner = _zip({"logs/spend.jsonl": _lines([records.litellm(), records.litellm()])})
    path = tmp_path / "bundle.tgz"
    path.write_bytes(_tar({"bundle/inner.zip": inner, "bundle/README.txt": b"notes"}))

    found = list(read_records(path))

    assert [problem for _, _, problem in found] == [None, None]
    assert {where.file for where, _, _ in found} == {f"{path}!bundle/inner.zip!logs/spend.jsonl"}


def test_events_of_an_archive_whose_path_holds_a_mark_count_for_it(
    tmp_path: Path, records: Any
) -> None:
    folder = tmp_path / "exports!2025"
    folder.mkdir()
    archive = folder / "logs.zip"
    archive.write_bytes(_zip({"a!b.jsonl": _lines([records.litellm(), records.litellm()])}))
    copy = tmp_path / "z-copy.zip"  # sorts after the archive: the archive keeps the rows
    copy.write_bytes(archive.read_bytes())
    with EventStore.open(tmp_path / "events.duckdb") as store:
        report = ingest_files([folder, copy], store)
        raw_files = store.connection.sql("SELECT DISTINCT raw_file FROM events").fetchall()
    assert [(f.path, f.stored, f.duplicates) for f in report.files] == [
        (str(archive), 2, 0),
        (str(copy), 0, 2),
    ]
    assert raw_files == [(f"{archive}!a!b.jsonl",)]


def test_a_damaged_zip_member_keeps_the_members_before_it(tmp_path: Path, records: Any) -> None:
    good = _lines([records.litellm()])
    bad = _lines([records.litellm() for _ in range(20)])
    data = bytearray(_zip({"1-good.jsonl": good, "2-bad.jsonl": bad}))
    start = data.index(b"2-bad.jsonl") + len("2-bad.jsonl") + 40
    data[start : start + 8] = bytes(8)  # inside the second member's deflate stream
    path = tmp_path / "damaged.zip"
    path.write_bytes(bytes(data))
    with EventStore.open(tmp_path / "events.duckdb") as store:
        (file,) = ingest_files([path], store).files
    assert file.stored == 1
    assert file.error is not None
    assert file.error.startswith("ArchiveError: zip archive, member 2-bad.jsonl: Error -3")


def test_stale_scratch_directories_of_killed_runs_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = tmp_path / f"{SCRATCH_PREFIX}{gone.stdout.strip()}-abc123"
    live = tmp_path / f"{SCRATCH_PREFIX}{os.getpid()}-def456"
    older_layout = tmp_path / f"{SCRATCH_PREFIX}k5k7l3qu"
    for folder in (dead, live, older_layout):
        folder.mkdir()
        (folder / "0-0.ndjson").write_text("[]\n")

    with EventStore.open(":memory:") as store:
        assert store.scratch.parent == tmp_path
        assert store.scratch.name.startswith(f"{SCRATCH_PREFIX}{os.getpid()}-")
        assert not dead.exists()
        assert live.exists() and older_layout.exists()
    assert not store.scratch.exists()


def _split_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_module, "SPLIT_MIN_BYTES", 0)


def _zip_of_six(tmp_path: Path, records: Any) -> Path:
    members = {}
    for letter in "abcdef":
        good = _lines([records.litellm() for _ in range(3)])
        members[f"logs/{letter}.jsonl"] = good + b'{"cut": \n'
    members["README.txt"] = b"not a log"
    path = tmp_path / "bundle.zip"
    path.write_bytes(_zip(members))
    return path


def test_a_large_zip_is_split_into_parts_covering_each_log_member_once(
    tmp_path: Path, records: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _split_everything(monkeypatch)
    path = _zip_of_six(tmp_path, records)

    tasks = ingest_module._tasks([path], workers=2)

    assert len(tasks) == 6 and {task.index for task in tasks} == {0}
    members = [name for task in tasks for name in task.members or ()]
    assert sorted(members) == [f"logs/{letter}.jsonl" for letter in "abcdef"]


def test_a_zip_parsed_in_parts_is_reported_as_parsed_whole(
    tmp_path: Path, records: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _zip_of_six(tmp_path, records)
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(_lines([records.litellm()]))
    with EventStore.open(tmp_path / "whole.duckdb") as store:
        whole = ingest_files([path, plain], store, IngestSettings(workers=1)).files
    _split_everything(monkeypatch)
    with EventStore.open(tmp_path / "parts.duckdb") as store:
        parts = ingest_files([path, plain], store, IngestSettings(workers=2)).files
        stored = store.connection.sql("SELECT count(*) FROM events").fetchall()

    assert [f.to_dict() for f in parts] == [f.to_dict() for f in whole]
    assert (parts[0].stored, parts[0].rejected, stored) == (18, 6, [(19,)])
    assert [sample.location for sample in parts[0].samples][:2] == [
        f"{path}!logs/a.jsonl:4",
        f"{path}!logs/b.jsonl:4",
    ]


def test_bzip2_and_xz_logs_and_tars_in_a_folder_are_read(tmp_path: Path, records: Any) -> None:
    data = _lines([records.litellm()])
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.jsonl.bz2").write_bytes(bz2.compress(_lines([records.litellm()])))
    (folder / "b.JSONL.XZ").write_bytes(lzma.compress(_lines([records.litellm()])))
    (folder / "c.tar.xz").write_bytes(_tar({"logs/c.jsonl": data}, "w:xz"))
    (folder / "d.tar.bz2").write_bytes(_tar({"logs/d.jsonl.gz": gzip.compress(data)}, "w:bz2"))
    (folder / "notes.txt.xz").write_bytes(lzma.compress(b"not a log"))
    with EventStore.open(tmp_path / "events.duckdb") as store:
        report = ingest_files([folder], store)
        names = store.connection.sql("SELECT raw_file FROM events ORDER BY 1").fetchall()
    assert (report.stored, report.rejected) == (3, 0)  # c and d hold the same record
    assert [name.removeprefix(f"{folder}/") for (name,) in names] == [
        "a.jsonl.bz2",
        "b.JSONL.XZ",
        "c.tar.xz!logs/c.jsonl",
    ]
    assert report.files[-1].duplicates == 1


def test_a_cut_xz_log_keeps_the_records_before_the_cut(tmp_path: Path, records: Any) -> None:
    data = lzma.compress(_lines([records.litellm() for _ in range(2000)]))
    path = tmp_path / "spend.jsonl.xz"
    path.write_bytes(data[: len(data) // 2])
    with EventStore.open(tmp_path / "events.duckdb") as store:
        (file,) = ingest_files([path], store).files
    assert 0 < file.stored < 2000
    assert file.error is not None and file.error.startswith("EOFError: ")
