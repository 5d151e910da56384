"""Fields shared by Azure Monitor resource logs: ``properties`` and ``resourceId``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from stormwatch.events.parsers.protocol import (
    Fields,
    Location,
    Record,
    as_mapping,
    record_event_id,
)
from stormwatch.events.values import Problem, text

AZURE_CATEGORIES = frozenset({"RequestResponse", "Audit", "Trace", "AzureOpenAIRequestUsage"})


def properties_of(record: Record) -> tuple[Mapping[str, Any] | None, Problem | None]:
    """``properties`` as a mapping: Azure writes it as an object or as JSON-encoded text."""
    props = record.get("properties")
    if props is None or isinstance(props, Mapping):
        return as_mapping(props), None
    if isinstance(props, str):
        try:
            decoded = orjson.loads(props)
        except orjson.JSONDecodeError:
            return None, Problem("invalid properties", props[:80])
        if isinstance(decoded, Mapping):
            return decoded, None
    return None, Problem("invalid properties", repr(props)[:80])


def resource_log_fields(
    source: str, record: Record, resource: str, moment: datetime, where: Location
) -> Fields:
    """The event fields every resource log gives alike: id, time, the (lower-case) resource,
    its subscription and location, and where the record is."""
    return dict(
        event_id=record_event_id(source, record),
        time=moment,
        source=source,
        provider="azure",
        account=subscription_of(resource),
        resource=resource,
        region=azure_region(record.get("location")),
        raw_file=where.file,
        raw_line=where.line,
    )


def azure_region(location: Any) -> str | None:
    """A location as Azure's region name: ``East US`` (API Management) is ``eastus`` (AI
    Services); ``global`` (where an Activity event was processed) is no region."""
    found = text(location)
    if found is None:
        return None
    region = found.replace(" ", "").lower()
    return None if region == "global" else region


def subscription_of(resource_id: str) -> str | None:
    """The subscription id in ``/subscriptions/{id}/...`` (lower case), else ``None``."""
    parts = resource_id.split("/")
    if len(parts) > 2 and parts[1] == "subscriptions":
        return parts[2]
    return None


def account_resource(resource_id: str) -> str:
    """The Cognitive Services account a (lower-case) resource id belongs to.

    Activity records name sub-resources (``.../accounts/x/raiPolicies/y``); the account is the
    credential boundary that diagnostic logs report, so events of both sources join on it.
    """
    marker = "/providers/microsoft.cognitiveservices/accounts/"
    start = resource_id.find(marker)
    if start < 0:
        return resource_id
    end = resource_id.find("/", start + len(marker))
    return resource_id if end < 0 else resource_id[:end]


def header(headers: Any, name: str) -> str | None:
    """A request header, case-insensitively, from a header mapping."""
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value if isinstance(value, str) else str(value)
    return None
