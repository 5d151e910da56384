"""`stormwatch ingest` reads archives (zip, tar, tar.gz, tgz) as their members and `-` as stdin.

Through the CLI only: the `--report` JSON, the exit code and, read-only, the store's rows. An
archive's events are located as `<archive as given>!<member>`, stdin's as `<stdin>`; a damaged
archive is reported (never a traceback), a zip through a pipe is read all the same.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.events.conftest import RecordFactory, write_jsonl
from typer.testing import CliRunner, Result

from stormwatch.cli.app import app
from stormwatch.simulate import render_delivery

runner = CliRunner()
ARCHIVE_NAMES = ["logs.zip", "logs.tar", "logs.tar.gz", "logs.tgz"]
# What macOS's Archive Utility adds: AppleDouble resource forks (binary), as `._name` files
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)
ENTRY = "from stormwatch.cli.app import main; main()"


@pytest.fixture
def records(request: pytest.FixtureRequest) -> RecordFactory:
    return RecordFactory(sum(map(ord, request.node.name)))


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """Where inputs go: apart from the store and the report, which a walk would pick up."""
    (tmp_path / "in").mkdir()
    return tmp_path / "in"


def _lines(records: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def _trail(records: RecordFactory, count: int) -> bytes:
    """JSON Lines of ``count`` distinct fictional CloudTrail Bedrock calls."""
    return _lines(records.cloudtrail() for _ in range(count))


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    """A zip (``.zip``) or tar (gzip-compressed for ``.tar.gz`` / ``.tgz``) of ``members``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        return path
    with tarfile.open(path, "w:gz" if path.name.endswith((".tar.gz", ".tgz")) else "w") as tar:
        for name, data in members.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return path


def _ingest(
    tmp_path: Path, *paths: Path | str, stdin: bytes = b""
) -> tuple[Result, dict[str, Any]]:
    """``ingest`` into ``tmp_path/s.duckdb``, in-process: the result and the ``--report`` JSON;
    whatever the exit, never an uncaught exception (a traceback)."""
    report = tmp_path / "report.json"
    report.unlink(missing_ok=True)
    args = ["ingest", *paths, "--db", tmp_path / "s.duckdb", "--report", report, "-q"]
    result = runner.invoke(app, [str(arg) for arg in args], input=stdin)
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    return result, json.loads(report.read_text()) if report.exists() else {}


def _stored(tmp_path: Path) -> dict[str, int]:
    """Events in the store by ``raw_file``."""
    query = "SELECT raw_file, count(*) FROM events GROUP BY raw_file"
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        return dict(con.execute(query).fetchall())


def _entries(report: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """The report's files for ``path``: itself or its members (``path!member``)."""
    return [
        f for f in report["files"] if f["path"] == str(path) or f["path"].startswith(f"{path}!")
    ]


def _problems(entries: list[dict[str, Any]]) -> str:
    """Every error, rejection reason and sample of ``entries``, as one text."""
    return json.dumps([[e["error"], e["reasons"], e["samples"]] for e in entries])


@pytest.mark.parametrize("name", ARCHIVE_NAMES)
def test_an_archive_on_the_command_line_is_read(
    tmp_path: Path, inbox: Path, records: RecordFactory, name: str
) -> None:
    archive = _archive(inbox / name, {"logs/a.jsonl": _trail(records, 3)})
    result, report = _ingest(tmp_path, archive)
    assert (result.exit_code, report.get("stored")) == (0, 3), result.output


@pytest.mark.parametrize("name", ARCHIVE_NAMES)
def test_an_archive_in_a_walked_folder_is_read(
    tmp_path: Path, inbox: Path, records: RecordFactory, name: str
) -> None:
    _archive(inbox / "downloads" / name, {"logs/a.jsonl": _trail(records, 3)})
    result, report = _ingest(tmp_path, inbox)
    assert (result.exit_code, report.get("stored")) == (0, 3), result.output


@pytest.mark.parametrize("name", ["logs.zip", "logs.tgz"])
def test_every_member_a_folder_walk_would_take_is_read(
    tmp_path: Path, inbox: Path, records: RecordFactory, name: str
) -> None:
    capture = io.BytesIO()
    body = json.dumps({"records": [records.azure_openai()]}).encode()
    render_delivery.write_capture(capture, [body])
    members = {  # one record each
        "logs/a.json": json.dumps({"Records": [records.cloudtrail()]}).encode(),
        "logs/b.jsonl": _trail(records, 1),
        "logs/c.ndjson": _trail(records, 1),
        "logs/d.log": _trail(records, 1),
        "logs/e.jsonl.gz": gzip.compress(_trail(records, 1)),
        "logs/f.avro": capture.getvalue(),
        "logs/object-starting-with-brace": _trail(records, 1),
        "logs/array-starting-with-bracket": json.dumps([records.cloudtrail()]).encode(),
        "logs/firehose-object-in-gzip": gzip.compress(_trail(records, 1)),
    }
    result, report = _ingest(tmp_path, _archive(inbox / name, members))
    assert (result.exit_code, report.get("stored")) == (0, len(members)), result.output


@pytest.mark.parametrize("name", ["logs.zip", "logs.tgz"])
def test_members_with_other_names_are_passed_over_silently(
    tmp_path: Path, inbox: Path, records: RecordFactory, name: str
) -> None:
    members = {  # README.txt and notes.md would each give an event, were they read
        "logs/a.jsonl": _trail(records, 1),
        "README.txt": _trail(records, 1),
        "docs/notes.md": _trail(records, 1),
    }
    result, report = _ingest(tmp_path, _archive(inbox / name, members))
    assert (result.exit_code, report.get("stored")) == (0, 1), result.output
    said = json.dumps(report) + result.output
    assert "README" not in said and "notes.md" not in said


def test_macos_junk_in_a_zip_is_passed_over(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    members = {
        "logs/a.jsonl": _trail(records, 2),
        "__MACOSX/logs/._a.jsonl": APPLEDOUBLE,
        "logs/._b.jsonl": APPLEDOUBLE,
    }
    result, report = _ingest(tmp_path, _archive(inbox / "from-a-mac.zip", members))
    assert (result.exit_code, report.get("stored")) == (0, 2), result.output
    assert "MACOSX" not in json.dumps(report) and "._b" not in json.dumps(report)


def test_events_are_located_as_the_archive_as_given_then_the_member(
    tmp_path: Path, inbox: Path, records: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    _archive(inbox / "logs.zip", {"logs/a.jsonl": _trail(records, 2)})
    monkeypatch.chdir(tmp_path)
    result, _ = _ingest(tmp_path, "in/logs.zip")
    assert result.exit_code == 0, result.output
    assert _stored(tmp_path) == {"in/logs.zip!logs/a.jsonl": 2}


def test_a_broken_line_in_a_member_is_located_by_member_and_line(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    lines = _trail(records, 1) + b"not json at all\n" + _trail(records, 1)
    archive = _archive(inbox / "logs.zip", {"logs/a.jsonl": lines})
    result, report = _ingest(tmp_path, archive)
    assert result.exit_code == 3, result.output
    samples = [(s["location"], s["reason"]) for f in report["files"] for s in f["samples"]]
    assert samples == [(f"{archive}!logs/a.jsonl:2", "invalid JSON")]


def test_a_gzip_member_of_a_zip_is_decompressed(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    """As CloudTrail downloads are: gzip objects of ``{"Records": [...]}``, zipped."""
    trail = json.dumps({"Records": [records.cloudtrail() for _ in range(3)]}).encode()
    key = "AWSLogs/123456789012/CloudTrail/us-east-1/2025/03/03/a_CloudTrail_us-east-1.json.gz"
    result, report = _ingest(tmp_path, _archive(inbox / "trail.zip", {key: gzip.compress(trail)}))
    assert (result.exit_code, report.get("stored")) == (0, 3), result.output


def test_an_archive_inside_an_archive_is_read(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    inner = _archive(tmp_path / "inner.tar.gz", {"logs/a.jsonl": _trail(records, 3)})
    outer = _archive(inbox / "bundle.zip", {"exports/inner.tar.gz": inner.read_bytes()})
    result, report = _ingest(tmp_path, outer)
    assert (result.exit_code, report.get("stored")) == (0, 3), result.output
    assert all(name.startswith(f"{outer}!exports/inner.tar.gz") for name in _stored(tmp_path))


def test_a_truncated_zip_is_an_unreadable_file(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    whole = _archive(
        tmp_path / "whole.zip", {f"logs/{i}.jsonl": _trail(records, 20) for i in range(5)}
    )
    cut = inbox / "cut.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result, report = _ingest(tmp_path, cut)
    assert result.exit_code == 3, result.output
    assert any(entry["error"] for entry in _entries(report, cut)), _problems(report["files"])


def test_a_truncated_tar_gz_keeps_the_records_read_before_the_damage(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    members = {"logs/first.jsonl": _trail(records, 3), "logs/second.jsonl": _trail(records, 2000)}
    whole = _archive(tmp_path / "whole.tar.gz", members).read_bytes()
    cut = inbox / "cut.tar.gz"
    cut.write_bytes(whole[: len(whole) * 3 // 5])  # within the second member
    result, report = _ingest(tmp_path, cut)
    assert result.exit_code == 3, result.output
    assert any(entry["error"] for entry in _entries(report, cut)), _problems(report["files"])
    assert _stored(tmp_path).get(f"{cut}!logs/first.jsonl") == 3


def test_the_same_archive_twice_adds_nothing(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    archive = _archive(inbox / "logs.zip", {"logs/a.jsonl": _trail(records, 3)})
    first, report = _ingest(tmp_path, archive)
    assert (first.exit_code, report.get("stored")) == (0, 3), first.output
    again, report = _ingest(tmp_path, archive)
    assert (again.exit_code, report.get("stored")) == (0, 0), again.output
    assert sum(_stored(tmp_path).values()) == 3


def test_the_extracted_files_after_their_archive_are_duplicates(
    tmp_path: Path, inbox: Path, records: RecordFactory
) -> None:
    members = {
        "logs/a.jsonl": _trail(records, 2),
        "logs/b.jsonl.gz": gzip.compress(_trail(records, 1)),
    }
    first, report = _ingest(tmp_path, _archive(inbox / "logs.tgz", members))
    assert (first.exit_code, report.get("stored")) == (0, 3), first.output
    for name, data in members.items():
        (inbox / "extracted" / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / "extracted" / name).write_bytes(data)
    again, report = _ingest(tmp_path, inbox / "extracted")
    outcome = (again.exit_code, report.get("stored"), report.get("duplicates"))
    assert outcome == (0, 0, 3), again.output


@pytest.mark.parametrize("compress", [False, True], ids=["jsonl", "gzip"])
def test_stdin_is_read(tmp_path: Path, records: RecordFactory, compress: bool) -> None:
    lines = _trail(records, 3)
    result, report = _ingest(tmp_path, "-", stdin=gzip.compress(lines) if compress else lines)
    assert (result.exit_code, report.get("stored")) == (0, 3), result.output


def test_stdin_events_are_located_as_stdin_by_line(tmp_path: Path, records: RecordFactory) -> None:
    result, _ = _ingest(tmp_path, "-", stdin=_trail(records, 3))
    assert result.exit_code == 0, result.output
    query = "SELECT raw_file, raw_line FROM events ORDER BY raw_line"
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute(query).fetchall() == [("<stdin>", line) for line in (1, 2, 3)]


def test_stdin_beside_paths(tmp_path: Path, inbox: Path, records: RecordFactory) -> None:
    path = write_jsonl(inbox / "a.jsonl", [records.cloudtrail() for _ in range(2)])
    result, report = _ingest(tmp_path, path, "-", stdin=_trail(records, 3))
    assert (result.exit_code, report.get("stored")) == (0, 5), result.output
    assert _stored(tmp_path) == {str(path): 2, "<stdin>": 3}


def test_the_same_stdin_twice_is_counted_as_duplicates(
    tmp_path: Path, records: RecordFactory
) -> None:
    lines = _trail(records, 3)
    first, report = _ingest(tmp_path, "-", stdin=lines)
    assert (first.exit_code, report.get("stored")) == (0, 3), first.output
    again, report = _ingest(tmp_path, "-", stdin=lines)
    outcome = (again.exit_code, report.get("stored"), report.get("duplicates"))
    assert outcome == (0, 0, 3), again.output


def test_an_empty_stdin_is_no_error(tmp_path: Path) -> None:
    result, report = _ingest(tmp_path, "-", stdin=b"")
    outcome = (result.exit_code, report.get("stored"), report.get("rejected"))
    assert outcome == (0, 0, 0), result.output


def test_a_zip_through_a_pipe_is_read(tmp_path: Path, inbox: Path, records: RecordFactory) -> None:
    """A zip's directory is at its end, which a FIFO cannot seek to: it is copied first. Run as
    its own process, so that a read waiting for a second writer cannot hang the tests."""
    zipped = _archive(tmp_path / "logs.zip", {"logs/a.jsonl": _trail(records, 3)}).read_bytes()
    plain = write_jsonl(inbox / "plain.jsonl", [records.cloudtrail()])
    fifo = inbox / "piped.zip"
    os.mkfifo(fifo)

    def feed() -> None:
        with contextlib.suppress(OSError):
            fifo.write_bytes(zipped)

    threading.Thread(target=feed, daemon=True).start()
    report_path = tmp_path / "report.json"
    args = [fifo, plain, "--db", tmp_path / "s.duckdb", "--report", report_path, "-q"]
    argv = [sys.executable, "-c", ENTRY, "ingest", *map(str, args)]
    try:
        ran = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    finally:  # free a writer still waiting for a reader
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    assert "Traceback" not in ran.stdout + ran.stderr, ran.stderr
    report = json.loads(report_path.read_text())
    outcome = (ran.returncode, report["stored"], report["rejected"])
    assert outcome == (0, 4, 0), ran.stdout + ran.stderr


def test_stdin_with_the_spark_engine_is_refused(tmp_path: Path) -> None:
    args = ["ingest", "-", "--engine", "spark", "--output", str(tmp_path / "out")]
    result = runner.invoke(app, args, input=b"")
    assert result.exit_code == 2 and "standard input" in result.output
    assert "Traceback" not in result.output
