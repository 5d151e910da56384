"""`stormwatch ingest` through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from stormwatch.cli.app import app

runner = CliRunner()


def _ingest(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ingest", *args])
    return result.exit_code, result.output


def test_clean_ingest_exits_zero_and_prints_summary(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    path = jsonl(tmp_path / "ct.jsonl", [records.cloudtrail(), records.cloudtrail()])
    db = str(tmp_path / "s.duckdb")
    code, out = _ingest(str(path), "--db", db)
    assert code == 0, out
    assert "cloudtrail" in out and "duplicates skipped" in out
    code, out = _ingest(str(path), "--db", db, "--quiet")
    assert code == 0 and "1 files unchanged" in out


def test_rejected_records_exit_three_with_location(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    path = jsonl(tmp_path / "ct.jsonl", [records.cloudtrail()])
    with path.open("a") as handle:
        handle.write("not json at all\n")
    code, out = _ingest(str(path), "--db", str(tmp_path / "s.duckdb"))
    assert code == 3
    # Rich wraps at the terminal's width, where the temporary path's length puts it
    assert f"{path}:2:invalidJSON" in "".join(out.split())


def test_usage_errors_exit_two(tmp_path: Path) -> None:
    assert _ingest(str(tmp_path / "missing.jsonl"))[0] == 2
    assert _ingest(str(tmp_path), "--source", "splunk")[0] == 2
    bad_db = tmp_path / "not-a-db.duckdb"
    bad_db.write_text("this is not a database file, just text " * 100)
    assert _ingest(str(tmp_path), "--db", str(bad_db))[0] == 2


def test_export_parquet(tmp_path: Path, records: Any, jsonl: Any) -> None:
    path = jsonl(tmp_path / "a.jsonl", [records.openai_audit()])
    out = tmp_path / "pq"
    code, _ = _ingest(
        str(path), "--db", str(tmp_path / "s.duckdb"), "--export", "parquet", str(out)
    )
    assert code == 0
    assert list(out.glob("source=openai_audit/day=*/*.parquet"))
    code, _ = _ingest(str(path), "--db", str(tmp_path / "s.duckdb"), "--export", "csv", str(out))
    assert code == 2


def test_export_alone_writes_the_store_as_it_is(tmp_path: Path, records: Any, jsonl: Any) -> None:
    """`stormwatch ingest --export parquet DIR` with no logs exports what is stored."""
    db = tmp_path / "s.duckdb"
    path = jsonl(tmp_path / "a.jsonl", [records.openai_audit(), records.cloudtrail()])
    assert _ingest(str(path), "--db", str(db))[0] == 0
    out = tmp_path / "pq"
    code, printed = _ingest("--export", "parquet", str(out), "--db", str(db))
    assert code == 0, printed
    assert "exported 2 events" in printed
    assert {p.parent.parent.name for p in out.glob("source=*/day=*/*.parquet")} == {
        "source=openai_audit",
        "source=cloudtrail",
    }


def test_no_logs_and_no_export_or_no_store_is_a_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "absent.duckdb"
    code, printed = _ingest("--db", str(db))
    assert code == 2 and "name the logs" in printed
    code, printed = _ingest("--export", "parquet", str(tmp_path / "pq"), "--db", str(db))
    assert code == 2 and "nothing to export" in printed
    assert not db.exists() and not (tmp_path / "pq").exists()
    # DIR forgotten: the next option is not taken for it
    code, printed = _ingest("--export", "parquet", "--db", str(db))
    assert code == 2 and "--export takes FORMAT DIR" in printed
    assert not db.exists() and not Path("--db").exists()


def test_odd_values_kept_are_counted_and_located(tmp_path: Path, records: Any) -> None:
    """A padded address is read, a service name in the IP field left empty: both events are
    stored, and the report counts the values and says where the first ones are."""
    path = tmp_path / "ct.jsonl"
    rows = [
        records.cloudtrail(sourceIPAddress="198.51.100.7"),
        records.cloudtrail(sourceIPAddress="035.249.253.232"),
        records.cloudtrail(sourceIPAddress="bedrock.amazonaws.com"),
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    report = tmp_path / "r.json"
    code, out = _ingest(str(path), "--db", str(tmp_path / "s.duckdb"), "--report", str(report))
    assert code == 0, out
    assert "padded ip: 1, service name as ip: 1" in out
    assert "first at" in out and "035.249.253.232 read as 35.249.253.232" in "".join(
        out.split("\n")
    )
    (file,) = json.loads(report.read_text())["files"]
    assert file["stored"] == 3 and file["rejected"] == 0
    assert file["notes"] == {"padded ip": 1, "service name as ip": 1}
    assert [(s["location"], s["reason"]) for s in file["note_samples"]] == [
        (f"{path}:2", "padded ip"),
        (f"{path}:3", "service name as ip"),
    ]


def test_explicit_source_option(tmp_path: Path, records: Any) -> None:
    path = tmp_path / "spend.json"
    path.write_text(json.dumps([records.litellm(), records.litellm()]))
    code, out = _ingest(str(path), "--db", str(tmp_path / "s.duckdb"), "--source", "litellm")
    assert code == 0 and "litellm" in out


def test_cloudtrail_digests_are_skipped_a_few_by_name(tmp_path: Path, records: Any) -> None:
    trail = tmp_path / "AWSLogs" / "111122223333"
    logs = trail / "CloudTrail" / "us-east-1" / "2025" / "03" / "03"
    digests = trail / "CloudTrail-Digest" / "us-east-1" / "2025" / "03" / "03"
    logs.mkdir(parents=True)
    digests.mkdir(parents=True)
    (logs / "a.json").write_text(json.dumps({"Records": [records.cloudtrail()]}))
    for hour in range(5):
        digest = {
            "awsAccountId": "111122223333",
            "digestStartTime": f"2025-03-03T{hour:02d}:00:00Z",
            "digestEndTime": f"2025-03-03T{hour + 1:02d}:00:00Z",
            "logFiles": [],
        }
        (digests / f"digest-{hour}.json").write_text(json.dumps(digest))
    code, out = _ingest(str(tmp_path), "--db", str(tmp_path / "s.duckdb"), "-q")
    assert code == 0, out
    text = "".join(out.split())  # Rich wraps the long temporary paths
    assert text.count("CloudTraildigest(anintegrityfile") == 4
    assert "skipped2morefiles:CloudTraildigest" in text


def test_json_report_lists_every_file(tmp_path: Path, records: Any, jsonl: Any) -> None:
    path = jsonl(tmp_path / "ct.jsonl", [records.cloudtrail()])
    with path.open("a") as handle:
        handle.write("not json at all\n")
    report = tmp_path / "report.json"
    code, out = _ingest(str(path), "--db", str(tmp_path / "s.duckdb"), "--report", str(report))
    assert code == 3, out
    document = json.loads(report.read_text())
    assert (document["clean"], document["stored"], document["rejected"]) == (False, 1, 1)
    (file,) = document["files"]
    assert (file["path"], file["source"], file["reasons"]) == (
        str(path),
        "cloudtrail",
        {"invalid JSON": 1},
    )
    assert file["samples"][0]["location"] == f"{path}:2"


def test_unwritable_report_fails_before_ingesting(tmp_path: Path, records: Any, jsonl: Any) -> None:
    path = jsonl(tmp_path / "ct.jsonl", [records.cloudtrail()])
    db = tmp_path / "s.duckdb"
    code, out = _ingest(str(path), "--db", str(db), "--report", str(tmp_path / "no" / "r.json"))
    assert code == 2 and "cannot write" in out and not db.exists()
