"""Delivery envelopes around raw records: Event Hubs Capture (Avro) files and CloudWatch Logs
subscription data, as the services write them. Tests and benchmarks build inputs with them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO

import fastavro

# The schema Event Hubs Capture writes (Microsoft's "Capture events" documentation).
_SCALARS = ["long", "double", "string", "bytes"]
CAPTURE_SCHEMA = fastavro.parse_schema(
    {
        "type": "record",
        "name": "EventData",
        "namespace": "Microsoft.ServiceBus.Messaging",
        "fields": [
            {"name": "SequenceNumber", "type": "long"},
            {"name": "Offset", "type": "string"},
            {"name": "EnqueuedTimeUtc", "type": "string"},
            {"name": "SystemProperties", "type": {"type": "map", "values": _SCALARS}},
            {"name": "Properties", "type": {"type": "map", "values": _SCALARS}},
            {"name": "Body", "type": ["null", "bytes"]},
        ],
    }
)


def write_capture(
    out: BinaryIO, bodies: Iterable[bytes | None], sync_interval: int = 16000, codec: str = "null"
) -> None:
    """An Event Hubs Capture file with one event per body (a ``{"records": [...]}`` batch)."""
    events = (
        {
            "SequenceNumber": number,
            "Offset": str(4096 * number),
            "EnqueuedTimeUtc": "3/3/2025 10:15:00 AM",
            "SystemProperties": {"x-opt-enqueued-time": 1741000000000},
            "Properties": {},
            "Body": body,
        }
        for number, body in enumerate(bodies)
    )
    fastavro.writer(out, CAPTURE_SCHEMA, events, sync_interval=sync_interval, codec=codec)


def cloudwatch_envelope(
    messages: Sequence[str], group: str, kind: str = "DATA_MESSAGE"
) -> dict[str, Any]:
    """The subscription data CloudWatch Logs hands a destination: the log events of one batch."""
    return {
        "messageType": kind,
        "owner": "111122223333",
        "logGroup": group,
        "logStream": group.strip("/").replace("/", "-"),
        "subscriptionFilters": ["to-firehose"],
        "logEvents": [
            {"id": f"{3795 + i:056d}", "timestamp": 1741000000000 + i, "message": message}
            for i, message in enumerate(messages)
        ],
    }
