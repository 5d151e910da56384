"""Azure OpenAI diagnostic logs (categories ``RequestResponse`` and ``Audit``).

The records carry no key identifier: with key authentication (empty ``objectId``) the resource
is the credential boundary, so the credential is ``azure-key:<resource id>``. With Entra
authentication ``objectId`` names the principal. Caller IPs arrive with the last octet masked.
"""

from __future__ import annotations

from stormwatch.events.parsers.azure_fields import (
    AZURE_CATEGORIES,
    properties_of,
    resource_log_fields,
)
from stormwatch.events.parsers.protocol import (
    FieldsResult,
    Location,
    Record,
    SourceParser,
    present,
    rejected,
    unknown_shape,
)
from stormwatch.events.values import (
    count_value,
    http_status,
    normalize_ip,
    parse_dotnet_ticks,
    parse_iso_time,
    text,
)

SOURCE = "azure_openai"


def sniff(record: Record) -> bool:
    """A Cognitive Services diagnostic record."""
    category = record.get("category")
    return isinstance(category, str) and category in AZURE_CATEGORIES and "resourceId" in record


def fields_of(record: Record, where: Location) -> FieldsResult:
    """One diagnostic record as event fields."""
    resource_id = record.get("resourceId")
    if not isinstance(resource_id, str) or not isinstance(record.get("operationName"), str):
        return unknown_shape(SOURCE, record)
    props, bad_props = properties_of(record)
    if props is None:
        return rejected(bad_props)
    if "time" in record:
        moment, bad_time = parse_iso_time(record["time"])
    else:
        moment, bad_time = parse_dotnet_ticks(props.get("requestTime"))
    request_bytes, bad_req = count_value(props.get("requestLength"), "size")
    response_bytes, bad_resp = count_value(props.get("responseLength"), "size")
    if moment is None or bad_req or bad_resp:
        return rejected(bad_time, bad_req, bad_resp)
    ip, masked, bad_ip = normalize_ip(record.get("callerIpAddress"))
    resource = resource_id.lower()
    object_id = text(props.get("objectId")) or None
    status = http_status(record.get("resultSignature"))
    return (
        dict(
            resource_log_fields(SOURCE, record, resource, moment, where),
            credential_id=object_id or f"azure-key:{resource}",
            credential_kind="entra" if object_id else "api_key",
            principal=object_id,
            src_ip=ip,
            src_ip_masked=masked,
            operation=record["operationName"],
            model=text(props.get("modelName")),
            deployment=text(props.get("modelDeploymentName")),
            status_code=status,
            success=None if status is None else status < 400,
            request_bytes=request_bytes,
            response_bytes=response_bytes,
            target=resource if record.get("category") == "Audit" else None,
        ),
        present(bad_ip),
    )


PARSER = SourceParser(SOURCE, fields_of, sniff)
