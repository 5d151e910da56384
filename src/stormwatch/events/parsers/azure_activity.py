"""Azure Activity Log (control plane), as exported to storage or Event Hubs.

Operations such as ``MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION``,
``.../RAIPOLICIES/WRITE`` or ``MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE``. The caller is the
Entra principal in ``identity.claims``. ``resource`` is the Cognitive Services account the
action touches (so it joins with diagnostic logs); ``target`` is the full resource id acted on.
The REST shape (``eventTimestamp``, ``caller``, ``operationName.value``) is read as well.

Exports name the category ``Administrative`` or, in Microsoft's own storage example and in real
exports, the operation's type (``Write``, ``Delete``, ``Action``); the REST API's example event
has no category and names its resource only in ``id`` (``{resource}/events/{id}/ticks/{n}``).
``location`` ``global`` says where the event was processed, not where the resource is: no region.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from stormwatch.events.parsers.azure_fields import (
    account_resource,
    azure_region,
    properties_of,
    subscription_of,
)
from stormwatch.events.parsers.protocol import (
    FieldsResult,
    Location,
    Record,
    SourceParser,
    as_mapping,
    present,
    record_event_id,
    rejected,
    unknown_shape,
)
from stormwatch.events.values import normalize_ip, parse_iso_time, text

SOURCE = "azure_activity"
CATEGORIES = frozenset(
    {"Administrative", "Security", "Policy", "Alert", "ServiceHealth", "Write", "Delete", "Action"}
)
OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
# "OK" -> 200, "NoContent" -> 204 ...: Activity Log status names are HTTPStatus names in Pascal.
STATUS_NAMES = {status.name.replace("_", "").lower(): status.value for status in HTTPStatus}


def sniff(record: Record) -> bool:
    """An Activity Log record (storage/Event Hub export or REST API)."""
    category = record.get("category")
    if isinstance(category, Mapping):
        category = category.get("value")
    elif category is None and isinstance(record.get("operationName"), Mapping):
        category = "Administrative"  # the REST shape, as the API's own example gives it
    if not isinstance(category, str):  # a list or object is no category (and no set key)
        return False
    return category in CATEGORIES and (
        "identity" in record
        or "caller" in record
        or "authorization" in record
        or "claims" in record
    )


def _value(field: Any) -> Any:
    """REST-API fields are ``{"value": ..., "localizedValue": ...}``; storage ones are plain."""
    return field.get("value") if isinstance(field, Mapping) else field


def _caller(record: Record) -> str | None:
    claims = as_mapping(as_mapping(record.get("identity")).get("claims")) or as_mapping(
        record.get("claims")
    )
    found = claims.get(OBJECT_ID) or claims.get("oid") or claims.get("appid")
    return text(found or claims.get(UPN) or record.get("caller"))


def _status(record: Record, props: Mapping[str, Any]) -> int | None:
    name = text(props.get("statusCode") or _value(record.get("subStatus")))
    return STATUS_NAMES.get(name.lower()) if name else None


def fields_of(record: Record, where: Location) -> FieldsResult:
    """One Activity Log record as event fields."""
    operation = text(_value(record.get("operationName")))
    resource_id = _resource_id(record)
    props, bad_props = properties_of(record)
    if operation is None or resource_id is None or props is None:
        return rejected(bad_props) if props is None else unknown_shape(SOURCE, record)
    moment, bad_time = parse_iso_time(record.get("time") or record.get("eventTimestamp"))
    if moment is None:
        return rejected(bad_time)
    http = as_mapping(record.get("httpRequest"))
    ip, masked, bad_ip = normalize_ip(record.get("callerIpAddress") or http.get("clientIpAddress"))
    target = resource_id.lower()
    principal = _caller(record)
    status = _status(record, props)
    result = text(_value(record.get("resultType")) or _value(record.get("status")))
    return (
        dict(
            event_id=record_event_id(SOURCE, record),
            time=moment,
            source=SOURCE,
            provider="azure",
            account=subscription_of(target),
            resource=account_resource(target),
            region=azure_region(record.get("location")),
            credential_id=principal,
            credential_kind="entra" if principal else None,
            principal=principal,
            src_ip=ip,
            src_ip_masked=masked,
            operation=operation.upper(),
            status_code=status,
            success=_success(result, status),
            error_code=None
            if result in (None, "Success", "Succeeded", "Start", "Started")
            else result,
            target=target,
            raw_file=where.file,
            raw_line=where.line,
        ),
        present(bad_ip),
    )


def _resource_id(record: Record) -> str | None:
    """``resourceId`` (``resourceUri`` in older REST answers), else the resource in ``id``."""
    found = text(record.get("resourceId") or record.get("resourceUri"))
    event_path = record.get("id")
    if found is None and isinstance(event_path, str) and "/events/" in event_path:
        found = event_path.partition("/events/")[0] or None
    return found


def _success(result: str | None, status: int | None) -> bool | None:
    if result in ("Success", "Succeeded"):
        return True
    if result in ("Failure", "Failed"):
        return False
    return None if status is None else status < 400


PARSER = SourceParser(SOURCE, fields_of, sniff)
