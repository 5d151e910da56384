"""Amazon Bedrock model-invocation logs (``schemaType: ModelInvocationLog``).

One record per runtime call with token counts; the caller is ``identity.arn`` (no key id). The
resource is Bedrock in the account, as CloudTrail names it, so both sources share its history.
"""

from __future__ import annotations

from stormwatch.events.parsers.cloudtrail import service_resource
from stormwatch.events.parsers.protocol import (
    FieldsResult,
    Location,
    Record,
    SourceParser,
    as_mapping,
    record_event_id,
    rejected,
    unknown_shape,
)
from stormwatch.events.values import count_value, parse_iso_time, text

SOURCE = "bedrock_invocation"
SCHEMA_TYPE = "ModelInvocationLog"
BEDROCK = "bedrock.amazonaws.com"


def sniff(record: Record) -> bool:
    """A Bedrock invocation-log record."""
    return record.get("schemaType") == SCHEMA_TYPE


def fields_of(record: Record, where: Location) -> FieldsResult:
    """One invocation-log record as event fields."""
    if record.get("schemaType") != SCHEMA_TYPE:
        return unknown_shape(SOURCE, record)
    moment, bad_time = parse_iso_time(record.get("timestamp"))
    tokens_in, bad_in = count_value(
        as_mapping(record.get("input")).get("inputTokenCount"), "tokens"
    )
    tokens_out, bad_out = count_value(
        as_mapping(record.get("output")).get("outputTokenCount"), "tokens"
    )
    if moment is None or bad_in or bad_out:
        return rejected(bad_time, bad_in, bad_out)
    error = text(record.get("errorCode"))
    account = text(record.get("accountId"))
    return (
        dict(
            event_id=record_event_id(SOURCE, record),
            time=moment,
            source=SOURCE,
            provider="aws",
            account=account,
            resource=service_resource(BEDROCK, account),
            region=text(record.get("region")),
            principal=text(as_mapping(record.get("identity")).get("arn")),
            operation=text(record.get("operation")),
            model=text(record.get("modelId")),
            success=error is None,
            error_code=error,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            raw_file=where.file,
            raw_line=where.line,
        ),
        (),
    )


PARSER = SourceParser(SOURCE, fields_of, sniff)
