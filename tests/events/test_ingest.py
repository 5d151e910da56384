"""Reading files, bad records, idempotency, atomicity, export."""

from __future__ import annotations

import gzip
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from stormwatch.events import (
    SCHEMA_VERSION,
    EventBatch,
    EventStore,
    IngestSettings,
    StoreError,
    ingest_files,
)
from stormwatch.events.batch import SpooledBatch
from stormwatch.events.reader import read_records
from stormwatch.events.report import FileReport, Rejection, merged_report


def _store(tmp_path: Path) -> EventStore:
    return EventStore.open(tmp_path / "events.duckdb")


def test_records_file_gz_is_one_event_per_record(tmp_path: Path, records: Any) -> None:
    path = tmp_path / "123_CloudTrail_us-east-1.json.gz"
    batch = {"Records": [records.cloudtrail() for _ in range(3)]}
    path.write_bytes(gzip.compress(json.dumps(batch).encode()))
    with _store(tmp_path) as store:
        report = ingest_files([path], store)
        assert (report.stored, report.rejected) == (3, 0)
        lines = store.connection.sql("SELECT raw_line FROM events ORDER BY 1").fetchall()
    assert [line for (line,) in lines] == [1, 2, 3]
    assert report.files[0].source == "cloudtrail"


def test_pretty_printed_document_and_eventhub_lines(tmp_path: Path, records: Any) -> None:
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps({"Records": [records.cloudtrail()]}, indent=2))
    hub = tmp_path / "hub.jsonl"
    hub.write_text(
        "\n".join(json.dumps({"records": [records.azure_openai() for _ in range(2)]}) for _ in "ab")
    )
    with _store(tmp_path) as store:
        report = ingest_files([pretty, hub], store)
    assert [f.stored for f in report.files] == [1, 4]
    assert [f.source for f in report.files] == ["cloudtrail", "azure_openai"]


def test_bad_lines_are_counted_with_line_numbers(tmp_path: Path, records: Any, jsonl: Any) -> None:
    path = jsonl(tmp_path / "ct.jsonl", [records.cloudtrail(), records.cloudtrail()])
    with path.open("a") as handle:
        handle.write("{truncated\n\n")
        handle.write(json.dumps(records.cloudtrail(eventTime="2999-01-01T00:00:00Z")) + "\n")
        handle.write("[1, 2]\n")
    with _store(tmp_path) as store:
        report = ingest_files([path], store)
    file = report.files[0]
    assert (file.records, file.stored, file.rejected) == (6, 2, 4)
    assert dict(file.reasons) == {
        "invalid JSON": 1,
        "timestamp out of range": 1,
        "unknown record shape": 2,
    }
    located = [(sample.location, sample.reason) for sample in file.samples]
    assert located[0] == (f"{path}:3", "invalid JSON")
    assert located[1] == (f"{path}:5", "timestamp out of range")
    assert not report.clean


def test_mixed_azure_event_hub_file_uses_each_records_parser(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    path = jsonl(tmp_path / "mixed.jsonl", [records.azure_openai(), records.apim("{}")])
    with _store(tmp_path) as store:
        report = ingest_files([path], store)
        sources = store.connection.sql("SELECT source FROM events ORDER BY 1").fetchall()
    assert report.clean and sources == [("azure_apim",), ("azure_openai",)]


def test_unrecognised_file_in_directory_is_skipped_not_rejected(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    jsonl(tmp_path / "logs" / "a.jsonl", [records.litellm()])
    (tmp_path / "logs" / "labels.json").write_text(json.dumps({"scenarios": ["x"]}))
    (tmp_path / "logs" / "README.md").write_text("not a log")
    with _store(tmp_path) as store:
        report = ingest_files([tmp_path / "logs"], store)
    assert len(report.files) == 2 and report.clean
    assert [f.skipped for f in report.files] == [None, "no known log source"]


def test_ingesting_twice_adds_nothing(tmp_path: Path, records: Any, jsonl: Any) -> None:
    path = jsonl(tmp_path / "a.jsonl", [records.invocation() for _ in range(5)], compress=True)
    copy = tmp_path / "copy" / "b.jsonl.gz"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    with _store(tmp_path) as store:
        first = ingest_files([path], store)
        second = ingest_files([path, copy], store)
        os.utime(path, (1_700_000_000, 1_700_000_000))  # changed: read again
        third = ingest_files([path], store)
        assert store.count() == 5
        files = store.connection.execute("SELECT count(*) FROM ingested_files").fetchone()
    assert first.stored == 5 and second.stored == 0 and second.duplicates == 5
    assert [f.unchanged for f in second.files] == [True, False]
    assert third.stored == 0 and third.duplicates == 5 and not third.files[0].unchanged
    assert files == (2,)


def test_same_record_twice_in_one_batch_is_stored_once(tmp_path: Path, records: Any) -> None:
    record = records.litellm()
    path = tmp_path / "dup.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(record, indent=None) + "\n")
    with _store(tmp_path) as store:
        report = ingest_files([path], store)
        assert store.count() == 1
    assert report.files[0].duplicates == 1 and report.clean


def test_failed_batch_leaves_no_partial_rows(tmp_path: Path, records: Any) -> None:
    good = [records.cloudtrail() for _ in range(3)]
    with _store(tmp_path) as store:
        ingest_files([_write(tmp_path / "ok.jsonl", good[:1])], store)
        before = store.count()
        batch = EventBatch.of(store_events(tmp_path, records, good[1:]))
        written = io.BytesIO()
        batch.write(written)
        lines = written.getvalue().split(b"\n")
        broken = (
            lines[0]
            + b"\n"
            + lines[1]
            .replace(b'"cloudtrail"', b'"x"')
            .replace(b"]", b',"extra"]')
            .replace(b'"2025', b'"not-a-time')
        )
        spooled = tmp_path / "broken.ndjson"
        spooled.write_bytes(broken)
        with pytest.raises(StoreError):
            store.commit(SpooledBatch((spooled,), 2, 0, batch.first, batch.last))
        assert store.count() == before
        assert store.insert(batch) == 2


def store_events(tmp_path: Path, records: Any, raw: list[dict[str, Any]]) -> list[Any]:
    from stormwatch.events import PARSERS, Location

    events = [PARSERS["cloudtrail"].parse(r, Location("x", i))[0] for i, r in enumerate(raw)]
    return [event for event in events if event is not None]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_export_parquet_partitions_by_source_and_day(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    path = jsonl(tmp_path / "a.jsonl", [records.cloudtrail(), records.invocation()])
    out = tmp_path / "parquet"
    with _store(tmp_path) as store:
        ingest_files([path], store)
        assert store.export_parquet(out) == 2
        back = store.connection.sql(
            f"SELECT source, day FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true)"
            " ORDER BY 1"
        ).fetchall()
    assert [source for source, _ in back] == ["bedrock_invocation", "cloudtrail"]
    assert (out / "source=cloudtrail" / "day=2025-03-03").is_dir()


def test_an_export_replaces_the_earlier_one_and_spares_other_folders(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    """The folder holds exactly the store exported last: no partition of an earlier export (of
    another store) lingers; a folder with anything else in it is refused, and left as it was."""
    both = jsonl(tmp_path / "a.jsonl", [records.cloudtrail(), records.invocation()])
    one = jsonl(tmp_path / "b.jsonl", [records.openai_audit()])
    out = tmp_path / "parquet"
    with EventStore.open(tmp_path / "a.duckdb") as first:
        ingest_files([both], first)
        assert first.export_parquet(out) == 2
    with EventStore.open(tmp_path / "b.duckdb") as second:
        ingest_files([one], second)
        assert second.export_parquet(out) == 1
        mine = tmp_path / "mine"
        mine.mkdir()
        (mine / "notes.txt").write_text("keep me")
        with pytest.raises(StoreError, match="not a stormwatch export"):
            second.export_parquet(mine)
    assert [p.name for p in out.iterdir()] == ["source=openai_audit"]
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_explicit_source_and_unknown_source(tmp_path: Path, records: Any, jsonl: Any) -> None:
    path = jsonl(tmp_path / "a.jsonl", [records.litellm(), records.cloudtrail()])
    with _store(tmp_path) as store:
        report = ingest_files([path], store, IngestSettings(source="litellm"))
    assert (report.stored, report.rejected) == (1, 1)
    with pytest.raises(ValueError):
        IngestSettings(source="splunk")


def test_parallel_workers_match_serial(tmp_path: Path, records: Any, jsonl: Any) -> None:
    for index in range(3):
        jsonl(tmp_path / "in" / f"{index}.jsonl", [records.cloudtrail() for _ in range(40)])
    settings = IngestSettings(workers=2, batch_size=16)
    with _store(tmp_path) as store:
        from stormwatch.events import ingest as module

        original = module.PARALLEL_MIN_BYTES
        module.PARALLEL_MIN_BYTES = 0
        try:
            report = ingest_files([tmp_path / "in"], store, settings)
        finally:
            module.PARALLEL_MIN_BYTES = original
        assert store.count() == 120
    assert report.stored == 120 and [f.records for f in report.files] == [40, 40, 40]


def test_one_record_in_two_files_of_one_run_is_stored_once(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    """Copies in two files, or in two batches of one file, meet in one transaction: the first
    (by file and line) is kept, and the other files count theirs as duplicates."""
    shared = [records.cloudtrail() for _ in range(3)]
    first = jsonl(tmp_path / "a.jsonl", [*shared, records.cloudtrail()])
    second = jsonl(tmp_path / "b.jsonl", [records.cloudtrail(), shared[0], shared[1], shared[0]])
    with _store(tmp_path) as store:
        report = ingest_files([first, second], store, IngestSettings(batch_size=1))
        rows = store.connection.sql(
            "SELECT count(*), count(DISTINCT event_id), count(*) FILTER (raw_file LIKE '%a.jsonl')"
            " FROM events"
        ).fetchall()
    assert rows == [(5, 5, 4)]
    assert [(f.stored, f.duplicates) for f in report.files] == [(4, 0), (1, 3)]


def test_oversized_lines_and_documents_are_rejected_not_loaded(
    tmp_path: Path, records: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stormwatch.events import reader

    monkeypatch.setattr(reader, "MAX_RECORD_BYTES", 4000)
    lines = tmp_path / "lines.jsonl"
    huge = {**records.cloudtrail(), "requestParameters": {"blob": "x" * 9000}}
    lines.write_text("".join(json.dumps(r) + "\n" for r in (records.cloudtrail(), huge)))
    with lines.open("a") as handle:
        handle.write(json.dumps(records.cloudtrail()))  # last line, no newline
    document = tmp_path / "export.json"
    document.write_text(json.dumps([records.cloudtrail() for _ in range(20)], indent=2))
    items = [(str(where), problem and problem.reason) for where, _, problem in read_records(lines)]
    assert items == [
        (f"{lines}:1", None),
        (f"{lines}:2", "record too large"),
        (f"{lines}:3", None),
    ]
    ((where, record, problem),) = read_records(document)
    assert str(where) == f"{document}:1" and record is None
    assert problem is not None and problem.reason == "record too large"


def test_truncated_gzip_is_reported(tmp_path: Path, records: Any) -> None:
    path = tmp_path / "broken.json.gz"
    data = "".join(json.dumps(records.litellm()) + "\n" for _ in range(50)).encode()
    path.write_bytes(gzip.compress(data)[:-300])
    assert any(problem is None for _, _, problem in read_records(path))
    with _store(tmp_path) as store:
        report = ingest_files([path], store)
    assert report.files[0].error is not None and not report.clean


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.connection.execute("UPDATE schema_version SET value = 99")
    with pytest.raises(StoreError):
        _store(tmp_path)


def test_version_1_store_loses_its_repeated_ids(tmp_path: Path, records: Any, jsonl: Any) -> None:
    path = jsonl(tmp_path / "ct.jsonl", [records.cloudtrail(), records.cloudtrail()])
    with _store(tmp_path) as store:
        ingest_files([path], store)
        store.connection.execute(
            "INSERT INTO events SELECT * REPLACE (raw_line + 10 AS raw_line) FROM events"
        )
        store.connection.execute("UPDATE schema_version SET value = 1")
    with _store(tmp_path) as store:
        rows = store.connection.sql("SELECT raw_line FROM events ORDER BY 1").fetchall()
        version = store.connection.sql("SELECT value FROM schema_version").fetchall()
    assert (rows, version) == ([(1,), (2,)], [(SCHEMA_VERSION,)])


def test_callers_get_the_country_of_their_address_block(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    """1.0.16.1 is registered in Japan (APNIC); documentation space has no country. A version 2
    store gains the column and its values when opened."""
    path = jsonl(
        tmp_path / "ct.jsonl",
        [
            records.cloudtrail(sourceIPAddress="1.0.16.1"),
            records.cloudtrail(sourceIPAddress="198.51.100.23"),
            records.cloudtrail(sourceIPAddress="bedrock.amazonaws.com"),
        ],
    )
    query = "SELECT src_ip, src_country FROM events ORDER BY src_ip NULLS LAST"
    expected = [("1.0.16.1", "JP"), ("198.51.100.23", None), (None, None)]
    older = "ALTER TABLE events DROP COLUMN src_country"
    _assert_migrated(tmp_path, path, query, expected, older, version=2)


def _assert_migrated(
    tmp_path: Path, path: Path, query: str, expected: list[Any], older: str, version: int
) -> None:
    """``query`` gives ``expected`` after ingesting ``path``, and again once the store, made
    as a store of ``version`` would be (by the ``older`` statement), is opened."""
    with _store(tmp_path) as store:
        ingest_files([path], store)
        assert store.connection.sql(query).fetchall() == expected
        store.connection.execute(older)
        store.connection.execute("UPDATE schema_version SET value = ?", [version])
    with _store(tmp_path) as store:
        assert store.connection.sql(query).fetchall() == expected


def test_aws_resources_name_the_account_and_older_stores_follow(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    """Two accounts' Bedrock are two resources; a version 3 store (the service alone) gains
    the account when opened, so later events continue the same histories."""
    other = records.cloudtrail(recipientAccountId="210987654321")
    path = jsonl(tmp_path / "ct.jsonl", [records.cloudtrail(), other])
    query = "SELECT DISTINCT resource FROM events ORDER BY 1"
    expected = [("bedrock.amazonaws.com/123456789012",), ("bedrock.amazonaws.com/210987654321",)]
    older = "UPDATE events SET resource = 'bedrock.amazonaws.com'"
    _assert_migrated(tmp_path, path, query, expected, older, version=3)


def test_small_commits_overlapping_parsing_give_the_same_store(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    """Commits run beside parsing; one commit per batch must store and report the same."""
    for index in range(3):
        rows = [records.cloudtrail() for _ in range(30)]
        jsonl(tmp_path / "in" / f"{index}.jsonl", rows + rows[:5])  # 5 repeated records
    results = []
    for name, settings in (("one", IngestSettings()), ("many", IngestSettings(commit_size=1))):
        progress: list[Any] = []
        with EventStore.open(tmp_path / f"{name}.duckdb") as store:
            report = ingest_files([tmp_path / "in"], store, settings, on_progress=progress.append)
            ids = store.connection.sql("SELECT event_id FROM events ORDER BY 1").fetchall()
        results.append((ids, [(f.stored, f.duplicates) for f in report.files]))
        assert [p.stored for p in progress] == sorted(p.stored for p in progress)
        assert progress[-1].files_done == 3
    assert results[0] == results[1]
    assert results[0][1] == [(30, 5)] * 3


class _RefusingStore(EventStore):
    """A store whose second commit fails, as a full disk would make it."""

    commits = 0

    def commit(self, *args: Any, **kwargs: Any) -> Any:
        self.commits += 1
        if self.commits == 2:
            raise StoreError("disk full")
        return super().commit(*args, **kwargs)


def test_a_commit_failing_beside_parsing_stops_the_run(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    for index in range(3):
        jsonl(tmp_path / "in" / f"{index}.jsonl", [records.cloudtrail() for _ in range(10)])
    opened = EventStore.open(tmp_path / "events.duckdb")
    with _RefusingStore(opened.connection, opened.scratch) as store:
        with pytest.raises(StoreError, match="disk full"):
            ingest_files([tmp_path / "in"], store, IngestSettings(commit_size=5))
        assert store.count() == 10  # the first commit's events, nothing of the failed one


def test_a_binary_file_is_one_rejection_not_thousands(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(b"\x7fELF\x02\x01" + b"\x00\x01\n" * 5000)
    gz = tmp_path / "image.json.gz"
    gz.write_bytes(gzip.compress(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n" * 100))
    with _store(tmp_path) as store:
        report = ingest_files([path, gz], store)
    assert [(f.records, f.rejected, dict(f.reasons)) for f in report.files] == [
        (1, 1, {"binary content": 1})
    ] * 2
    assert report.files[0].samples[0].location == f"{path}:1"


def test_samples_of_invalid_lines_escape_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\x1b[31mred\x07\tbell\n")
    with _store(tmp_path) as store:
        (file,) = ingest_files([path], store).files
    assert file.samples[0].detail.endswith(": \\x1b[31mred\\x07\\tbell")


def test_records_that_are_no_event_are_ignored_not_rejected(tmp_path: Path, records: Any) -> None:
    """APIM LLM logs split long messages into text-only records: counted, never an error."""
    chunk = records.apim_llm(deploymentName="", modelName="", sequenceNumber=1)
    path = _write(tmp_path / "llm.jsonl", [records.apim_llm(), chunk])
    with _store(tmp_path) as store:
        report = ingest_files([path], store)
        assert store.count() == 1
    (file,) = report.files
    assert (file.events, file.rejected, file.ignored) == (1, 0, (("LLM message record", 1),))
    assert report.clean


def test_parts_reports_add_up_with_their_located_samples() -> None:
    """A zip parsed in parts: counts added, rejected and noted samples each in location order."""
    first = FileReport(
        "a.zip",
        "cloudtrail",
        records=2,
        notes=(("padded ip", 1),),
        note_samples=(Rejection("a.zip!b.json:2", "padded ip", "01.2.3.4 read as 1.2.3.4"),),
    )
    other = FileReport(
        "a.zip",
        "cloudtrail",
        records=3,
        rejected=1,
        reasons=(("invalid JSON", 1),),
        samples=(Rejection("a.zip!a.json:1", "invalid JSON"),),
        notes=(("invalid ip", 1), ("padded ip", 1)),
        note_samples=(
            Rejection("a.zip!a.json:4", "invalid ip", "AWS Internal"),
            Rejection("a.zip!a.json:5", "padded ip", "01.2.3.5 read as 1.2.3.5"),
        ),
    )
    both = merged_report(first, other)
    assert (both.records, both.rejected) == (5, 1)
    assert both.notes == (("invalid ip", 1), ("padded ip", 2))
    assert [s.location for s in both.note_samples] == [
        "a.zip!a.json:4",
        "a.zip!a.json:5",
        "a.zip!b.json:2",
    ]
    assert [s.location for s in both.samples] == ["a.zip!a.json:1"]


def test_a_skipped_file_is_no_rejection_in_the_totals(tmp_path: Path, records: Any) -> None:
    """A file no record of which is a log (a simulator's labels) is listed, not rejected: the
    per-source totals agree with the exit code."""
    (tmp_path / "ct.jsonl").write_text(json.dumps(records.cloudtrail()) + "\n")
    (tmp_path / "labels.json").write_text(json.dumps({"playbooks": []}))
    with _store(tmp_path) as store:
        report = ingest_files([tmp_path / "ct.jsonl", tmp_path / "labels.json"], store)
    assert report.clean
    assert {row.source: row.rejected for row in report.by_source} == {"?": 0, "cloudtrail": 0}
