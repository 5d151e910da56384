"""An ingest stopped from outside (`kill`, a service manager, an OOM killer) leaves no parse
worker behind, and the store stays whole.

Linux-only: processes are found through ``/proc``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

ACCOUNT = "111122223333"
COMMAND = "from stormwatch.cli.app import main; main()"


def _logs(folder: Path, files: int = 4, records: int = 60_000) -> Path:
    """A few tens of MB of fictional CloudTrail lines: seconds of parsing for two workers."""
    folder.mkdir()
    for number in range(files):
        lines = (
            json.dumps(
                {
                    "eventVersion": "1.09",
                    "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/ci"},
                    "eventTime": f"2025-03-0{1 + number}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:"
                    f"{i % 60:02d}Z",
                    "eventSource": "bedrock.amazonaws.com",
                    "eventName": "InvokeModel",
                    "awsRegion": "us-east-1",
                    "sourceIPAddress": "198.51.100.23",
                    "userAgent": "Boto3/1.34.0",
                    "eventID": f"evt-{number}-{i}",
                    "recipientAccountId": ACCOUNT,
                }
            )
            + "\n"
            for i in range(records)
        )
        (folder / f"trail-{number}.jsonl").write_text("".join(lines))
    return folder


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def _started(logs: Path, db: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    """The ingest, once its parse workers are running."""
    process = subprocess.Popen(
        [sys.executable, "-c", COMMAND, "ingest", str(logs), "--db", str(db), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = _children(process.pid)
        if len(workers) >= 2:
            return process, workers
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    pytest.fail("the ingest never ran two parse workers")


def _gone(pids: set[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pids)


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_a_stopped_ingest_leaves_no_worker_and_a_whole_store(
    tmp_path: Path, sent: signal.Signals
) -> None:
    logs = _logs(tmp_path / "logs")
    db = tmp_path / "s.duckdb"
    process, workers = _started(logs, db)
    time.sleep(0.5)
    os.kill(process.pid, sent)
    code = process.wait(timeout=30)
    assert code in (128 + sent, -sent), code
    # killed outright, the workers notice their parent is gone within a poll
    assert _gone(workers, 10), f"workers left: {_alive(workers)}"
    with duckdb.connect(str(db), read_only=True) as con:
        (stored,) = con.execute("SELECT count(*) FROM events").fetchone() or (0,)
    assert 0 <= stored <= 4 * 60_000  # whole batches only: the store opens and counts
