"""Records carried as JSON text in envelopes. Logs that went through CloudWatch Logs:
subscription envelopes (as Firehose delivers them), the CLI's ``events`` output and export-task
lines all give the records their messages hold; so does ``aws cloudtrail lookup-events``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from stormwatch.cli.app import app
from stormwatch.events import EventStore, ingest_files
from stormwatch.events.files import walk
from stormwatch.events.reader import read_records
from stormwatch.simulate.render_delivery import cloudwatch_envelope

GROUP = "/aws/bedrock/modelinvocations"


def _envelope(messages: list[str], kind: str = "DATA_MESSAGE") -> dict[str, Any]:
    return cloudwatch_envelope(messages, GROUP, kind)


def _control() -> dict[str, Any]:
    return _envelope(
        ["CWL CONTROL MESSAGE: Checking health of destination Firehose."], "CONTROL_MESSAGE"
    )


def _firehose_object(path: Path, envelopes: list[dict[str, Any]]) -> Path:
    """What Firehose writes from a subscription: gzip members of documents back to back,
    no separator, in an object without an extension."""
    path.write_bytes(b"".join(gzip.compress(json.dumps(e).encode()) for e in envelopes))
    return path


def _stored(tmp_path: Path, *paths: Path) -> tuple[Any, list[tuple[Any, ...]]]:
    with EventStore.open(tmp_path / "events.duckdb") as store:
        report = ingest_files(list(paths), store)
        rows = store.connection.sql(
            "SELECT source, operation, raw_line FROM events ORDER BY raw_line"
        ).fetchall()
    return report, rows


def test_firehose_object_of_subscription_envelopes(tmp_path: Path, records: Any) -> None:
    first = [json.dumps(records.invocation(operation=op)) for op in ("Converse", "InvokeModel")]
    second = [json.dumps(records.invocation()), "plain text, not a log record"]
    folder = tmp_path / "firehose" / "2025" / "03" / "03" / "10"
    folder.mkdir(parents=True)
    path = _firehose_object(
        folder / "bedrock-logs-1-2025-03-03-10-15-00-5f0c",
        [_envelope(first), _control(), _envelope(second)],
    )
    assert list(walk([tmp_path])) == [path]  # no extension, but gzip content
    report, rows = _stored(tmp_path, path)
    file = report.files[0]
    assert (file.source, file.records, file.stored, file.rejected) == (
        "bedrock_invocation",
        5,
        3,
        1,
    )
    assert dict(file.ignored) == {"CloudWatch control message": 1}
    assert file.samples[0].location == f"{path}:record 5"
    assert [row[2] for row in rows] == [1, 2, 4]


def test_same_record_from_s3_and_cloudwatch_is_one_event(
    tmp_path: Path, records: Any, jsonl: Any
) -> None:
    trail = [records.cloudtrail(), records.cloudtrail()]
    s3 = tmp_path / "123_CloudTrail_us-east-1.json.gz"
    s3.write_bytes(gzip.compress(json.dumps({"Records": trail}).encode()))
    cli = tmp_path / "filter-log-events.json"
    cli.write_text(
        json.dumps(
            {
                "events": [
                    {
                        "logStreamName": "111122223333_CloudTrail_us-east-1",
                        "timestamp": 1741000000000,
                        "message": json.dumps(record),
                        "ingestionTime": 1741000000100,
                        "eventId": f"{i:056d}",
                    }
                    for i, record in enumerate(trail)
                ],
                "searchedLogStreams": [],
            },
            indent=2,
        )
    )
    report, rows = _stored(tmp_path, s3, cli)
    assert [f.stored for f in report.files] == [2, 0]
    assert report.files[1].duplicates == 2
    assert {row[0] for row in rows} == {"cloudtrail"}


def test_export_task_lines(tmp_path: Path, records: Any) -> None:
    lines = [f"2025-03-03T10:15:0{i}.000Z {json.dumps(records.invocation())}" for i in range(2)] + [
        "2025-03-03T10:15:09.000Z START RequestId: not json"
    ]
    path = tmp_path / "exportedlogs" / "000000.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    assert list(walk([tmp_path])) == [path]
    report, rows = _stored(tmp_path, path)
    file = report.files[0]
    assert (file.stored, file.rejected, dict(file.reasons)) == (2, 1, {"invalid JSON": 1})
    assert [row[2] for row in rows] == [1, 2]
    assert file.samples[0].location == f"{path}:3"


def test_braces_inside_a_message_do_not_split_documents(tmp_path: Path, records: Any) -> None:
    odd = json.dumps(records.invocation(requestId="a}{b"))
    path = tmp_path / "one-line.json"
    path.write_text(json.dumps(_envelope([odd])) + json.dumps(_envelope([odd, odd])) + "\n")
    items = list(read_records(path))
    assert [problem for _, _, problem in items] == [None, None, None]
    assert items[0][1]["requestId"] == "a}{b"


def test_truncated_concatenation_is_invalid_json(tmp_path: Path, records: Any) -> None:
    text = json.dumps(_envelope([json.dumps(records.invocation())]))
    path = tmp_path / "cut.json"
    path.write_text(text + text[:40] + "\n")
    ((where, record, problem),) = read_records(path)
    assert record is None and problem is not None and problem.reason == "invalid JSON"
    assert str(where) == f"{path}:1"


def test_cli_exit_code_for_control_messages_only(tmp_path: Path) -> None:
    path = _firehose_object(tmp_path / "health-check", [_control()])
    result = CliRunner().invoke(app, ["ingest", str(path), "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 0, result.output


def test_cloudtrail_lookup_events_output(tmp_path: Path, records: Any) -> None:
    trail = [records.cloudtrail(), records.cloudtrail(eventName="Converse")]
    items = [
        {
            "EventId": record["eventID"],
            "EventName": record["eventName"],
            "ReadOnly": "true",
            "AccessKeyId": record["userIdentity"]["accessKeyId"],
            "EventTime": record["eventTime"],
            "EventSource": record["eventSource"],
            "Username": "build-bot",
            "Resources": [],
            "CloudTrailEvent": json.dumps(record),
        }
        for record in trail
    ]
    items.append({"EventId": "e-3", "EventName": "InvokeModel", "Resources": []})
    path = tmp_path / "lookup-events.json"
    path.write_text(json.dumps({"Events": items, "NextToken": "t"}, indent=4))
    report, rows = _stored(tmp_path, path)
    file = report.files[0]
    assert (file.source, file.stored, file.rejected) == ("cloudtrail", 2, 1)
    assert {row[1] for row in rows} == {"InvokeModel", "Converse"}
    assert file.samples[0].location == f"{path}:record 3"
    assert "CloudTrailEvent" in file.samples[0].detail
