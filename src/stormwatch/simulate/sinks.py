"""Where records go: the on-disk layout of each log source and the buffered writer.

Records are buffered per file and hour, sorted by time, and written when their hour is done, so
memory stays bounded by one hour of traffic whatever the run length. Layouts mirror the real
delivery paths (Azure storage ``PT1H.json``, CloudTrail's S3 object names, Bedrock's
invocation-log prefix); sources without a standard layout get one file per day.
"""

from __future__ import annotations

import gzip
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from stormwatch.simulate.identifiers import HOUR_US, sha256_hex

AZURE_STORAGE = "azure_storage"
AZURE_EVENTHUB = "azure_eventhub"
APIM = "apim"
ACTIVITY = "activity"
CLOUDTRAIL_S3 = "cloudtrail_s3"
CLOUDTRAIL_SIEM = "cloudtrail_siem"
INVOCATION = "invocation"
LITELLM = "litellm"
OPENAI_AUDIT = "openai_audit"

KIND_FORMAT: dict[str, str] = {
    AZURE_STORAGE: "azure_openai",
    AZURE_EVENTHUB: "azure_openai",
    APIM: "apim",
    ACTIVITY: "azure_activity",
    CLOUDTRAIL_S3: "cloudtrail",
    CLOUDTRAIL_SIEM: "cloudtrail",
    INVOCATION: "bedrock_invocation",
    LITELLM: "litellm",
    OPENAI_AUDIT: "openai_audit",
}
EVENTHUB_BATCH = 50
EVENTHUB_NAME = "nwl-diag-ehns/aoai-diagnostics"

# (kind, entity, hour index since the epoch)
FileKey = tuple[str, str, int]
Bucket = list[tuple[int, str]]


def _ymdh(hour: int) -> time.struct_time:
    return time.gmtime(hour * 3600)


def _azure_partition(hour: int) -> str:
    t = _ymdh(hour)
    return f"y={t.tm_year}/m={t.tm_mon:02d}/d={t.tm_mday:02d}/h={t.tm_hour:02d}/m=00/PT1H.json"


def _day(hour: int) -> str:
    return time.strftime("%Y-%m-%d", _ymdh(hour))


def relative_path(key: FileKey, seed: int, first_hour: int) -> str:
    """Path, under the output directory, of the file that holds ``key``'s records.

    Day files are named after the first hour of the run's day (``first_hour`` + 24·n), so
    each is written by exactly one day of the run even when the run starts mid-day.
    """
    kind, entity, hour = key
    day_hour = first_hour + (hour - first_hour) // 24 * 24
    suffix = sha256_hex(f"{seed}|{kind}|{entity}|{hour}")
    if kind == AZURE_STORAGE:
        category, resource_id = entity.split("|", 1)
        container = f"insights-logs-{category.lower()}"
        return f"azure/{container}/resourceId={resource_id}/{_azure_partition(hour)}"
    if kind == APIM:
        return f"azure/insights-logs-gatewaylogs/resourceId={entity}/{_azure_partition(hour)}"
    if kind == ACTIVITY:
        return (
            f"azure/insights-activity-logs/resourceId=/SUBSCRIPTIONS/{entity.upper()}/"
            f"{_azure_partition(hour)}"
        )
    if kind == AZURE_EVENTHUB:
        return f"azure/eventhub/{entity}/{time.strftime('%Y/%m/%d/%H', _ymdh(hour))}.jsonl"
    if kind in (CLOUDTRAIL_S3, INVOCATION):
        account, region = entity.split("|")
        day = time.strftime("%Y/%m/%d", _ymdh(hour))
        stamp = time.strftime("%Y%m%dT%H", _ymdh(hour))
        if kind == CLOUDTRAIL_S3:
            name = f"{account}_CloudTrail_{region}_{stamp}55Z_{suffix[:16]}.json.gz"
            return f"aws/AWSLogs/{account}/CloudTrail/{region}/{day}/{name}"
        return (
            f"aws/AWSLogs/{account}/BedrockModelInvocationLogs/{region}/{day}/"
            f"{stamp[-2:]}/{stamp}5959Z_{suffix[:16]}.json.gz"
        )
    if kind == CLOUDTRAIL_SIEM:
        return f"siem/cloudtrail_export_{_day(day_hour)}.jsonl"
    if kind == LITELLM:
        return f"litellm/spend_logs_{_day(day_hour)}.jsonl"
    return f"openai/audit_logs_{_day(day_hour)}.jsonl"


def _jsonl(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _eventhub(lines: list[str]) -> bytes:
    batches = (
        '{"records": [' + ", ".join(lines[i : i + EVENTHUB_BATCH]) + "]}"
        for i in range(0, len(lines), EVENTHUB_BATCH)
    )
    return ("\n".join(batches) + "\n").encode()


def _records_gz(lines: list[str]) -> bytes:
    return gzip.compress(('{"Records": [' + ",".join(lines) + "]}").encode(), 1, mtime=0)


def _jsonl_gz(lines: list[str]) -> bytes:
    return gzip.compress(_jsonl(lines), 1, mtime=0)


_ENCODERS: dict[str, Callable[[list[str]], bytes]] = {
    AZURE_EVENTHUB: _eventhub,
    CLOUDTRAIL_S3: _records_gz,
    INVOCATION: _jsonl_gz,
}
# Day files get each hour appended; every other file holds exactly one hour.
_APPENDED = frozenset({CLOUDTRAIL_SIEM, LITELLM, OPENAI_AUDIT})


class Sink:
    """Buffers records per file and hour; writes a whole hour at once."""

    def __init__(self, out_dir: Path, formats: frozenset[str], seed: int, first_hour: int) -> None:
        self._out = out_dir
        self._formats = formats
        self._seed = seed
        self._first_hour = first_hour
        self._buckets: dict[FileKey, Bucket] = defaultdict(list)
        self._tags: dict[FileKey, set[str]] = defaultdict(set)
        self.counts: dict[str, int] = defaultdict(int)
        self.files: dict[str, set[str]] = {}

    def enabled(self, kind: str) -> bool:
        """Whether records of this kind are wanted at all."""
        return KIND_FORMAT[kind] in self._formats

    def add(self, key: FileKey, us: int, line: str, tag: str = "") -> None:
        """Buffer one record; ``tag`` names the playbook it belongs to (for labels)."""
        if KIND_FORMAT[key[0]] not in self._formats:
            return
        self._buckets[key].append((us, line))
        if tag:
            self._tags[key].add(tag)

    def flush_hour(self, hour: int) -> None:
        """Write every buffered file of ``hour``."""
        for key in sorted(k for k in self._buckets if k[2] == hour):
            self._write(key, self._buckets.pop(key))

    def flush_all(self) -> None:
        """Write whatever is still buffered (records outside the hours walked)."""
        for hour in sorted({k[2] for k in self._buckets}):
            self.flush_hour(hour)

    def _write(self, key: FileKey, bucket: Bucket) -> None:
        if not bucket:
            return
        bucket.sort()
        lines = [line for _, line in bucket]
        rel = relative_path(key, self._seed, self._first_hour)
        path = self._out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _ENCODERS.get(key[0], _jsonl)(lines)
        with path.open("ab" if key[0] in _APPENDED else "wb") as fh:
            fh.write(data)
        self.counts[KIND_FORMAT[key[0]]] += len(lines)
        self.files.setdefault(rel, set()).update(self._tags.pop(key, set()))


def hour_of(us: int) -> int:
    """Hour index since the epoch of a time in microseconds."""
    return us // HOUR_US
