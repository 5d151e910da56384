"""Ingest by delivery format: the same records as plain JSON Lines and in their envelopes.

Bedrock invocation logs often reach a SIEM through CloudWatch Logs (a subscription filter to
Firehose: gzip members of back-to-back envelopes whose ``message`` strings are the records), and
Azure diagnostic logs through Event Hubs Capture (Avro files whose ``Body`` is the
``{"records": [...]}`` batch); and responders often get logs as a zip (a portal download, a
bundle of S3 objects). This bench takes the simulated records of one set, writes each source in
its plain form, in its envelope and as one zip of the plain files, and ingests each into a fresh
store, with the plain form as the floor (a zip is one file: one process parses it):

    python bench/formats_bench.py   # the 1M-event set of detect_bench (made if absent)
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from measure import Run, run
from stormwatch.simulate import simulate
from stormwatch.simulate.render_delivery import cloudwatch_envelope, write_capture

EVENTS_PER_ENVELOPE = 100  # CloudWatch batches a subscription's log events
LINES_PER_FILE = 20_000


def _lines(files: list[Path]) -> Iterator[bytes]:
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as stream:
            yield from (line.rstrip(b"\n") for line in stream if line.strip())


def _chunks(lines: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _forms(out: Path) -> tuple[Path, Path]:
    """The folders of the plain and the enveloped form of one source's records."""
    plain, envelope = out / "plain", out / "envelope"
    plain.mkdir(parents=True)
    envelope.mkdir()
    return plain, envelope


def write_bedrock(logs: Path, out: Path) -> int:
    """Bedrock invocation records: gzip JSON Lines, and Firehose objects of subscription data."""
    files = sorted(logs.glob("aws/AWSLogs/*/BedrockModelInvocationLogs/**/*.json.gz"))
    plain, enveloped = _forms(out)
    count = 0
    for index, chunk in enumerate(_chunks(_lines(files), LINES_PER_FILE)):
        count += len(chunk)
        (plain / f"{index:04d}.jsonl.gz").write_bytes(gzip.compress(b"\n".join(chunk)))
        members = []
        for start in range(0, len(chunk), EVENTS_PER_ENVELOPE):
            batch = [line.decode() for line in chunk[start : start + EVENTS_PER_ENVELOPE]]
            envelope = cloudwatch_envelope(batch, "/aws/bedrock/modelinvocations")
            members.append(gzip.compress(json.dumps(envelope).encode()))
        (enveloped / f"firehose-{index:04d}").write_bytes(b"".join(members))
    return count


def write_azure(logs: Path, out: Path) -> int:
    """Azure OpenAI Event Hub batches: JSON Lines of ``{"records": [...]}``, and Capture Avro."""
    files = sorted(logs.glob("azure/eventhub/**/*.jsonl"))
    plain, enveloped = _forms(out)
    count = 0
    for index, path in enumerate(files):
        batches = path.read_bytes().splitlines()
        count += sum(len(json.loads(batch)["records"]) for batch in batches)
        (plain / f"{index:04d}.jsonl").write_bytes(b"\n".join(batches))
        with (enveloped / f"{index:04d}.avro").open("wb") as stream:
            write_capture(stream, batches, codec="deflate")
    return count


def write_zip(plain: Path, out: Path) -> None:
    """The plain form's files in one zip (gzip members stored as they are, as S3 objects are)."""
    out.mkdir()
    with zipfile.ZipFile(out / "logs.zip", "w") as archive:
        for path in sorted(plain.iterdir()):
            method = zipfile.ZIP_STORED if path.suffix == ".gz" else zipfile.ZIP_DEFLATED
            archive.write(path, f"logs/{path.name}", compress_type=method)


def _ingest(folder: Path, work: Path) -> tuple[Run, int]:
    db = work / f"{folder.parent.name}-{folder.name}.duckdb"
    measured = run(["stormwatch", "ingest", str(folder), "--db", str(db), "-q"])
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM events").fetchone()
    return measured, int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--logs",
        type=Path,
        default=Path(__file__).parent / "_work" / "detect" / "logs-1000000-seed7",
    )
    args = parser.parse_args()
    if not (args.logs / "labels.json").exists():
        simulate(args.logs, days=7, scale=1_000_000 / 238_000, seed=7)
    with tempfile.TemporaryDirectory(prefix="formats-") as scratch:
        work = Path(scratch)
        header = ("source", "form", "records", "stored", "seconds", "events/s", "ratio")
        print("{:<9} {:<9} {:>9} {:>9} {:>8} {:>9} {:>6}".format(*header))
        for name, write in (("bedrock", write_bedrock), ("azure", write_azure)):
            records = write(args.logs, work / name)
            write_zip(work / name / "plain", work / name / "zip")
            floor = 0.0
            for form in ("plain", "envelope", "zip"):
                measured, stored = _ingest(work / name / form, work)
                floor = floor or measured.seconds
                rate = stored / measured.seconds
                print(
                    f"{name:<9} {form:<9} {records:>9,} {stored:>9,} {measured.seconds:>8.2f} "
                    f"{rate:>9,.0f} {measured.seconds / floor:>5.2f}×"
                )


if __name__ == "__main__":
    main()
