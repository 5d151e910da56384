"""Messy inputs as users produce them (Windows exports, other tools, odd files and stores),
through the CLI: never a traceback, bad input counted and located, the documented exit code.

Each case asserts the right behaviour. Written as an adversarial check: its first version found
UTF-8 BOMs and UTF-16 (Windows PowerShell) files losing records, archives in a folder passed over
silently (they are read now: test_ingest_archives_stdin.py), pipes read empty and FIFOs hanging,
one oversized field failing a whole commit, and tracebacks on mistaken arguments;
docs/events.md says how each is handled now.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner, Result

from stormwatch.cli.app import app

runner = CliRunner()
ACCOUNT = "123456789012"
BOM = b"\xef\xbb\xbf"
# chmod does not stop root's reads and writes
needs_non_root = pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")


def _event(index: int, **overrides: Any) -> dict[str, Any]:
    """A fictional CloudTrail Bedrock call."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/build-bot"},
        "eventTime": f"2025-03-03T10:{index % 60:02d}:00Z",
        "eventSource": "bedrock.amazonaws.com",
        "eventName": "InvokeModel",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "Boto3/1.34.0",
        "requestParameters": {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
        "eventID": f"evt-{index:04d}",
        "recipientAccountId": ACCOUNT,
    } | overrides


THREE = [_event(i) for i in range(3)]


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _array(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, indent=2)


def _cli(*args: str | Path) -> Result:
    """Run the CLI in-process; whatever the exit, never an uncaught exception (a traceback)."""
    result = runner.invoke(app, [str(arg) for arg in args])
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    return result


def _flat(text: str) -> str:
    """Output without whitespace: Rich wraps long paths at the terminal's width."""
    return "".join(text.split())


def _ingest(tmp_path: Path, *paths: Path | str) -> tuple[Result, dict[str, Any]]:
    """``ingest`` into ``tmp_path/s.duckdb``: the result and the ``--report`` JSON."""
    report = tmp_path / "report.json"
    result = _cli("ingest", *paths, "--db", tmp_path / "s.duckdb", "--report", report, "-q")
    text = report.read_text() if report.exists() else ""
    return result, json.loads(text) if text else {}


def _why(report: dict[str, Any]) -> str:
    """Every reason, sample and error of a report, without the paths (test names in them)."""
    parts = [json.dumps([f["reasons"], f["samples"], f["error"]]) for f in report["files"]]
    return " ".join(p.replace(f["path"], "") for p, f in zip(parts, report["files"], strict=True))


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """Where inputs go: apart from the store and the report, which a walk would pick up."""
    (tmp_path / "in").mkdir()
    return tmp_path / "in"


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def _utf16(text: str, order: str) -> bytes:
    """As Windows PowerShell 5.1's Out-File and '>' write: UTF-16 with its byte order mark."""
    return (b"\xff\xfe" if order == "le" else b"\xfe\xff") + text.encode(f"utf-16-{order}")


DEEP = "[" * 100_000 + "]" * 100_000 + "\n"
NAN = [_event(5, additionalEventData={"inputTokens": float(v)}) for v in ("nan", "inf")]
ALL = (0, 3, 0)  # (exit code, stored, rejected) when every one of three records is stored
# id: (the file's content, the right (exit code, stored, rejected))
FILES: dict[str, tuple[Callable[[], bytes], tuple[int, int, int]]] = {
    "crlf-jsonl": (lambda: _crlf(_jsonl(THREE)), ALL),
    "crlf-array": (lambda: _crlf(_array(THREE)), ALL),
    "utf8-bom-jsonl": (lambda: BOM + _jsonl(THREE).encode(), ALL),
    "utf8-bom-array": (lambda: BOM + _array(THREE).encode(), ALL),
    "utf16le-jsonl": (lambda: _utf16(_jsonl(THREE), "le"), ALL),
    "utf16be-jsonl": (lambda: _utf16(_jsonl(THREE), "be"), ALL),
    "utf16le-array": (lambda: _utf16(_array(THREE), "le"), ALL),
    "utf16be-array": (lambda: _utf16(_array(THREE), "be"), ALL),
    "nan-infinity": (lambda: _jsonl(THREE[:1] + NAN).encode(), (3, 1, 2)),
    "deep-alone": (DEEP.encode, (3, 0, 1)),
    "deep-after-a-record": (lambda: (_jsonl(THREE[:1]) + DEEP).encode(), (3, 1, 1)),
    "duplicate-keys": (
        lambda: (json.dumps(THREE[0])[:-1] + ', "eventName": "x"}').encode(),
        (0, 1, 0),
    ),
    "0-byte": (lambda: b"", (0, 0, 0)),
    "whitespace-only": (lambda: b"\n\n   \r\n\t\n", (0, 0, 0)),
    "gz-named-plain": (lambda: _jsonl(THREE).encode(), ALL),
    "gzip-of-gzip": (lambda: gzip.compress(gzip.compress(_jsonl(THREE).encode())), (3, 0, 1)),
    "lines-of-arrays": (lambda: f"{json.dumps(THREE[:2])}\n{json.dumps(THREE[2:])}".encode(), ALL),
    "50MB-line": (lambda: _jsonl([*THREE[:2], _event(2, bulk="x" * 50_000_000)]).encode(), ALL),
}


@pytest.mark.parametrize(
    ("content", "expected"), [pytest.param(*v, id=k) for k, v in FILES.items()]
)
def test_a_messy_file(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    inbox: Path,
    content: Callable[[], bytes],
    expected: tuple[int, int, int],
) -> None:
    path = inbox / ("export.jsonl.gz" if "gz" in request.node.callspec.id else "export.json")
    path.write_bytes(content())
    result, report = _ingest(tmp_path, path)
    assert (result.exit_code, report["stored"], report["rejected"]) == expected, result.output
    assert all(s["location"].startswith(f"{path}:") for s in report["files"][0]["samples"])


def test_latin1_bytes_are_kept_or_rejected_saying_why(tmp_path: Path, inbox: Path) -> None:
    odd = json.dumps(_event(9, userAgent="caf\u00e9-client"), ensure_ascii=False)
    (inbox / "latin1.jsonl").write_bytes(_jsonl(THREE[:2]).encode() + odd.encode("latin-1"))
    result, report = _ingest(tmp_path, inbox / "latin1.jsonl")
    assert report["stored"] == 3 or (result.exit_code == 3 and "UTF-8" in _why(report))


def test_a_truncated_gzip_is_an_unreadable_file(tmp_path: Path, inbox: Path) -> None:
    data = gzip.compress(_jsonl([_event(i) for i in range(40)]).encode())
    (inbox / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    result, report = _ingest(tmp_path, inbox / "cut.jsonl.gz")
    assert result.exit_code == 3 and "ended before" in report["files"][0]["error"]


def test_a_symlink_loop_and_a_fifo_in_a_directory(tmp_path: Path, inbox: Path) -> None:
    (inbox / "a.jsonl").write_text(_jsonl(THREE))
    (inbox / "self").symlink_to(inbox, target_is_directory=True)
    os.mkfifo(inbox / "pipe.jsonl")  # no writer: opening it would block for ever
    result, report = _ingest(tmp_path, inbox)
    assert (result.exit_code, report["stored"]) == (0, 3)


def test_a_pipe_is_read_once(tmp_path: Path) -> None:
    reading, writing = os.pipe()
    os.write(writing, _jsonl(THREE).encode())
    os.close(writing)
    try:
        result, report = _ingest(tmp_path, f"/dev/fd/{reading}")
    finally:
        os.close(reading)
    assert (result.exit_code, report["stored"]) == (0, 3), result.output


def test_a_named_fifo_does_not_hang(tmp_path: Path, inbox: Path) -> None:
    fifo = inbox / "live.jsonl"
    os.mkfifo(fifo)

    def feed() -> None:
        with contextlib.suppress(OSError):
            fifo.write_text(_jsonl(THREE))

    threading.Thread(target=feed, daemon=True).start()
    entry = "from stormwatch.cli.app import main; main()"
    argv = [sys.executable, "-c", entry, "ingest", str(fifo), "--db", str(tmp_path / "s.duckdb")]
    try:  # the entry point, in a process of its own: a hang must not hang the tests
        ran = subprocess.run(argv, capture_output=True, text=True, timeout=6, check=False)
    finally:  # free a writer still waiting for a reader
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    assert ran.returncode == 0 and "Traceback" not in ran.stderr


@needs_non_root
def test_an_unreadable_file_is_reported(tmp_path: Path, inbox: Path) -> None:
    (inbox / "locked.jsonl").write_text(_jsonl(THREE))
    (inbox / "locked.jsonl").chmod(0)
    result, report = _ingest(tmp_path, inbox / "locked.jsonl")
    assert result.exit_code == 3 and "Permission" in report["files"][0]["error"]


@needs_non_root
def test_an_unreadable_directory_is_reported(tmp_path: Path, inbox: Path) -> None:
    (inbox / "a.jsonl").write_text(_jsonl(THREE))
    inbox.chmod(0)
    try:
        result, _ = _ingest(tmp_path, inbox)
    finally:
        inbox.chmod(0o700)
    assert result.exit_code == 3 and str(inbox) in _flat(result.output)


def _bad_store(tmp_path: Path, kind: str) -> Path:
    store = tmp_path / "store"
    if kind == "directory":
        store.mkdir()
    elif kind == "text":
        store.write_text("not a database\n" * 50)
    elif kind == "sqlite":
        with contextlib.closing(sqlite3.connect(store)) as con:
            con.execute("CREATE TABLE notes (body TEXT)")
    return store if kind != "missing-dir" else tmp_path / "no" / "such" / "s.duckdb"


STORE_COMMANDS = {
    "ingest": ("ingest", "{log}", "-q"),
    "detect": ("detect",),
    "investigate": ("investigate",),
    "canary": ("canary", "add", "canary-key-1", "--label", "test"),
}


@pytest.mark.parametrize("command", STORE_COMMANDS)
@pytest.mark.parametrize("kind", ["directory", "text", "missing-dir"])
def test_a_bad_store_is_a_clean_error(tmp_path: Path, inbox: Path, command: str, kind: str) -> None:
    (inbox / "a.jsonl").write_text(_jsonl(THREE))
    args = [arg.format(log=inbox / "a.jsonl") for arg in STORE_COMMANDS[command]]
    store = _bad_store(tmp_path, kind)
    result = _cli(*args, "--db", store)
    assert result.exit_code == 2 and "error" in result.output, result.output
    assert str(store) in _flat(result.output)


def test_a_sqlite_file_is_refused_offline(
    tmp_path: Path, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # any extension download stays in tmp_path
    (inbox / "a.jsonl").write_text(_jsonl(THREE))
    result = _cli("ingest", inbox / "a.jsonl", "-q", "--db", _bad_store(tmp_path, "sqlite"))
    assert result.exit_code == 2 and "extension" not in result.output, result.output


@needs_non_root
def test_a_read_only_location_is_a_clean_error(tmp_path: Path, inbox: Path) -> None:
    (inbox / "a.jsonl").write_text(_jsonl(THREE))
    inbox.chmod(0o500)
    try:
        result = _cli("ingest", inbox / "a.jsonl", "--db", inbox / "s.duckdb", "-q")
    finally:
        inbox.chmod(0o700)
    assert result.exit_code == 2 and "cannot open database" in result.output


@pytest.fixture
def locked_store(tmp_path: Path) -> Iterator[Path]:
    """A store another process holds open read-write (until its stdin closes)."""
    hold = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
    argv = [sys.executable, "-c", hold + "sys.stdin.read()", str(tmp_path / "held.duckdb")]
    holder = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    yield tmp_path / "held.duckdb"
    holder.communicate(timeout=10)


def test_a_store_locked_by_another_process(locked_store: Path, inbox: Path) -> None:
    (inbox / "a.jsonl").write_text(_jsonl(THREE))
    for args in (["ingest", inbox / "a.jsonl", "-q"], ["detect"], ["investigate"]):
        result = _cli(*args, "--db", locked_store)
        assert result.exit_code == 2 and "lock" in result.output, result.output


def test_detect_and_investigate_on_empty_stores(tmp_path: Path, inbox: Path) -> None:
    duckdb.connect(str(tmp_path / "bare.duckdb")).close()
    for store in ("never.duckdb", "bare.duckdb"):
        for command in ("detect", "investigate"):
            result = _cli(command, "--db", tmp_path / store)
            assert result.exit_code == 2 and "ingest" in result.output
    (inbox / "empty.jsonl").write_text("")
    _ingest(tmp_path, inbox / "empty.jsonl")
    assert _cli("detect", "--db", tmp_path / "s.duckdb").exit_code == 0
    assert _cli("investigate", "--db", tmp_path / "s.duckdb").exit_code == 0


def test_strings_for_numbers_offsets_and_minutes_only(tmp_path: Path, inbox: Path) -> None:
    tokens = {"inputTokens": "12", "outputTokens": "34"}
    times = [
        _event(1, eventTime="2025-03-03T12:15:00+02:00"),
        _event(2, eventTime="2025-03-03T10:15Z"),
    ]
    (inbox / "values.jsonl").write_text(_jsonl([*times, _event(3, additionalEventData=tokens)]))
    result, report = _ingest(tmp_path, inbox / "values.jsonl")
    assert (result.exit_code, report["stored"]) == (0, 3)
    query = "SELECT strftime(time, '%H:%M'), tokens_in FROM events ORDER BY raw_line"
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute(query).fetchall() == [("10:15", None), ("10:15", None), ("10:03", 12)]


def test_epoch_milliseconds_are_stored_or_called_invalid(tmp_path: Path, inbox: Path) -> None:
    (inbox / "epoch.jsonl").write_text(_jsonl([_event(1, eventTime=1741000000000)]))
    result, report = _ingest(tmp_path, inbox / "epoch.jsonl")
    assert report["stored"] == 1 or (result.exit_code == 3 and "missing" not in _why(report))


def test_a_huge_field_costs_only_its_record(tmp_path: Path, inbox: Path) -> None:
    (inbox / "good.jsonl").write_text(_jsonl(THREE))
    (inbox / "huge.jsonl").write_text(_jsonl([_event(9, userAgent="x" * 20_000_000)]))
    result, report = _ingest(tmp_path, inbox)
    assert result.exit_code in (0, 3) and report["stored"] >= 3, result.output


def test_a_truncated_pretty_array_is_not_one_problem_a_line(tmp_path: Path, inbox: Path) -> None:
    text = _array(THREE)
    (inbox / "cut.json").write_text(text[: len(text) * 2 // 3])
    result, report = _ingest(tmp_path, inbox / "cut.json")
    assert result.exit_code == 3 and report["records"] <= 3, result.output


# {tmp} is the test's folder: 'taken' is a file, 's.duckdb' a store of three events, 'in' holds
# them, a broken 'allow.yaml' and a 'tor.txt' IP list saved with a BOM and CRLF.
ARGUMENTS: dict[str, tuple[str, tuple[int, ...]]] = {
    "missing-path": ("ingest {tmp}/nowhere.jsonl --db {tmp}/s.duckdb", (2,)),
    "bad-since": ("detect --db {tmp}/s.duckdb --since last-tuesday", (2,)),
    "simulate-out-a-file": ("simulate --out {tmp}/taken --days 1 --scale 0", (2,)),
    "demo-out-a-file": ("demo --out {tmp}/taken --days 1 --scale 0", (2,)),
    "export-onto-a-file": (
        "ingest {tmp}/in --db {tmp}/s.duckdb --export parquet {tmp}/taken",
        (2,),
    ),
    "broken-allowlist": ("detect --db {tmp}/s.duckdb --allowlist {tmp}/in/allow.yaml", (2,)),
    "ip-list-with-bom": ("detect --db {tmp}/s.duckdb --ip-list {tmp}/in/tor.txt", (0, 1)),
    "absurd-window": ("investigate --db {tmp}/s.duckdb --window-hours 99999999999", (0, 1, 2)),
}


@pytest.mark.parametrize(("argv", "codes"), [pytest.param(*v, id=k) for k, v in ARGUMENTS.items()])
def test_a_mistaken_argument(
    tmp_path: Path, inbox: Path, argv: str, codes: tuple[int, ...]
) -> None:
    (tmp_path / "taken").write_text("a file, not a folder\n")
    (inbox / "a.jsonl").write_text(_jsonl(THREE))
    _ingest(tmp_path, inbox)
    (inbox / "allow.yaml").write_text("principals: [\n")
    (inbox / "tor.txt").write_bytes(BOM + b"198.51.100.0/24 tor\r\n203.0.113.5\r\n")
    result = runner.invoke(app, argv.format(tmp=tmp_path).split())
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert result.exit_code in codes, result.output
    assert result.exit_code != 2 or "error" in result.output.lower()


def test_scan_finds_a_key_in_a_utf16_file(tmp_path: Path, make_key: Callable[[], str]) -> None:
    env = tmp_path / ".env"
    env.write_bytes(b"\xff\xfe" + f"OPENAI_API_KEY={make_key()}\r\n".encode("utf-16-le"))
    result = _cli("scan", env, "--quiet", "--format", "json")
    assert result.exit_code == 1, result.output
