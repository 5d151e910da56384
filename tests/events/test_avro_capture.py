"""Event Hubs Capture files (Apache Avro): the records in each event's Body, located."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stormwatch.cli.app import app
from stormwatch.events import EventStore, ingest_files
from stormwatch.events.files import walk
from stormwatch.events.reader import read_records
from stormwatch.simulate import render_delivery

# Where Capture puts a file: {namespace}/{eventhub}/{partition}/{yyyy}/{MM}/{dd}/{HH}/{mm}/{ss}
CAPTURE_PATH = "contoso-ns/diagnostics/0/2025/03/03/10/15/00.avro"


def write_capture(path: Path, bodies: list[bytes | None], sync_interval: int = 16000) -> Path:
    """An Avro capture file holding one event per body (a small ``sync_interval``: many blocks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        render_delivery.write_capture(out, bodies, sync_interval)
    return path


def wrapped(*items: Any) -> bytes:
    """A diagnostic-settings Body: ``{"records": [...]}`` as UTF-8 JSON."""
    return json.dumps({"records": list(items)}).encode()


def _store(tmp_path: Path) -> EventStore:
    return EventStore.open(tmp_path / "events.duckdb")


def test_capture_records_are_events_numbered_by_position(tmp_path: Path, records: Any) -> None:
    bodies = [
        wrapped(records.azure_openai(), records.azure_openai()),
        json.dumps(records.azure_openai()).encode(),  # a Body of one bare record
        wrapped(records.azure_openai(), records.apim("{}")),
    ]
    path = write_capture(tmp_path / CAPTURE_PATH, bodies)
    with _store(tmp_path) as store:
        report = ingest_files([path], store)
        rows = store.connection.sql(
            "SELECT raw_file, raw_line, source FROM events ORDER BY raw_line"
        ).fetchall()
    assert report.clean and report.files[0].source == "azure_openai"
    assert rows == [(str(path), line, "azure_openai") for line in range(1, 5)] + [
        (str(path), 5, "azure_apim")
    ]


def test_body_that_is_not_json_is_rejected_at_its_record(tmp_path: Path, records: Any) -> None:
    bodies = [wrapped(records.azure_openai()), b"\x1b[1mnot json", None]
    bodies.append(wrapped(records.apim("{}")))
    path = write_capture(tmp_path / "hub.avro", bodies)
    with _store(tmp_path) as store:
        (file,) = ingest_files([path], store).files
    assert (file.records, file.stored, file.rejected, file.error) == (4, 2, 2, None)
    assert dict(file.reasons) == {"invalid JSON": 2}
    located = [(s.location, s.reason, s.detail) for s in file.samples]
    assert located == [
        (f"{path}:record 2", "invalid JSON", "\\x1b[1mnot json"),
        (f"{path}:record 3", "invalid JSON", ""),
    ]


def test_empty_capture_file_has_no_records_and_no_error(tmp_path: Path) -> None:
    path = write_capture(tmp_path / CAPTURE_PATH, [])
    assert list(read_records(path)) == []
    with _store(tmp_path) as store:
        (file,) = ingest_files([path], store).files
    assert (file.records, file.error, file.skipped, file.bad) == (0, None, None, 0)


@pytest.mark.parametrize(
    ("keep", "stored"),
    [
        (lambda size: 40, range(0, 1)),
        (lambda size: size // 2, range(1, 40)),
        (lambda size: size - 10, range(40, 41)),  # every block whole, the last sync cut
    ],
    ids=["in-header", "in-a-block", "in-last-sync"],
)
def test_cut_capture_file_is_a_file_error_keeping_earlier_records(
    tmp_path: Path, records: Any, keep: Callable[[int], int], stored: range
) -> None:
    bodies = [wrapped(records.azure_openai()) for _ in range(40)]
    data = write_capture(tmp_path / "whole.avro", bodies, sync_interval=2000).read_bytes()
    cut = tmp_path / "cut" / "00.avro"
    cut.parent.mkdir()
    cut.write_bytes(data[: keep(len(data))])
    with _store(tmp_path) as store:
        (file,) = ingest_files([cut], store).files
    assert file.error is not None and file.error.startswith("CorruptAvroError: ")
    assert file.stored in stored and (file.rejected, file.bad) == (0, 1)


def test_directory_walk_takes_avro_and_content_decides_the_format(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    capture = write_capture(tmp_path / "in" / CAPTURE_PATH, [wrapped(records.azure_openai())])
    (tmp_path / "in" / "notes.txt").write_text("not a log")
    assert list(walk([tmp_path / "in"])) == [capture]
    # named explicitly, an Avro file is read as Avro whatever its name; a JSON file named .avro
    # is read as JSON
    renamed = tmp_path / "capture.bin"
    renamed.write_bytes(capture.read_bytes())
    misnamed = jsonl(tmp_path / "lines.avro", [records.azure_openai()])
    with _store(tmp_path) as store:
        report = ingest_files([renamed, misnamed], store)
    assert [(f.stored, f.source) for f in report.files] == [(1, "azure_openai")] * 2


def test_same_records_from_json_line_and_capture_are_the_same_events(
    tmp_path: Path, records: Any
) -> None:
    batch = [records.azure_openai(), records.azure_openai(properties_as_string=True)]
    batch.append(records.apim("{}"))
    lines = tmp_path / "hub.json"
    lines.write_text(json.dumps({"records": batch}) + "\n")
    capture = write_capture(tmp_path / CAPTURE_PATH, [wrapped(*batch[:2]), wrapped(batch[2])])
    with _store(tmp_path) as store:
        first = ingest_files([lines], store)
        second = ingest_files([capture], store)
        assert store.count() == 3
    assert (first.stored, second.stored, second.duplicates) == (3, 0, 3)


def test_cli_ingest_of_capture_directory_exit_codes(tmp_path: Path, records: Any) -> None:
    runner = CliRunner()
    folder = tmp_path / "capture"
    write_capture(folder / CAPTURE_PATH, [wrapped(records.azure_openai()) for _ in range(3)])
    db = str(tmp_path / "s.duckdb")
    result = runner.invoke(app, ["ingest", str(folder), "--db", db, "--quiet"])
    assert result.exit_code == 0, result.output
    assert "azure_openai" in result.output
    cut = folder / "contoso-ns/diagnostics/1/2025/03/03/10/15/00.avro"
    cut.parent.mkdir(parents=True)
    cut.write_bytes((folder / CAPTURE_PATH).read_bytes()[:-20])
    result = runner.invoke(app, ["ingest", str(folder), "--db", db, "--quiet"])
    assert result.exit_code == 3, result.output
    assert "unreadable" in result.output and "CorruptAvroError" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
