"""AWS CloudTrail events (``{"Records": [...]}`` files or one event per line).

Events forwarded by EventBridge (``{"detail-type": "AWS API Call via CloudTrail", "detail":
{...}}``, as SIEM pipelines receive them) are read from their ``detail``; the id hashes that
event, so the EventBridge copy and the trail's copy of one call are one event.

Bedrock runtime calls (``InvokeModel``, ``Converse`` ...) and control-plane calls are both here.
The access key id's prefix tells long-term keys (``AKIA``) from session keys (``ASIA``). A call
made with an Amazon Bedrock API key (a bearer token) says so with ``callWithBearerToken``: in
``additionalEventData`` on ``bedrock.amazonaws.com``, in ``requestParameters`` on
``bedrock-mantle.amazonaws.com`` (whose inference calls are ``CreateInference`` data events). A
short-term key is a presigned session (its access key id is that session's ``ASIA`` key); a
long-term key is a service-specific credential of an IAM user (``BedrockAPIKey-...``), named
``bedrock-api-key:<user arn>``: what ``stormwatch scan`` reads out of a leaked key, so its use is
linked to the leak.
The resource is the service in the account (``bedrock.amazonaws.com/111122223333``).
The model is ``requestParameters.modelId`` (``model`` on bedrock-mantle), else the model named
in ``resources`` (stream calls may log no parameters); runtime calls may carry their token
counts in ``additionalEventData`` (``inputTokens``, ``outputTokens``).
``sourceIPAddress`` may hold a service name (``bedrock.amazonaws.com``, ``AWS Internal``): the
event is kept with ``src_ip`` empty and a ``service name as ip`` note.
"""

from __future__ import annotations

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
from stormwatch.events.values import count_value, normalize_ip, parse_iso_time, text

SOURCE = "cloudtrail"
# EventBridge detail types ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail").
VIA_CLOUDTRAIL = "via CloudTrail"
KEY_KINDS = {"AKIA": "aws_long_term", "ASIA": "aws_session"}
BEARER = "callWithBearerToken"
BEARER_TRUE = (True, "true")  # compared, not hashed: a field may hold any JSON value
MODEL_RESOURCE = "AWS::Bedrock::Model"
FOUNDATION_MODEL = ":foundation-model/"
# requestParameters naming the object of a control-plane action, in the order they are joined.
TARGET_FIELDS = (
    "userName",
    "roleName",
    "groupName",
    "policyArn",
    "policyName",
    "guardrailIdentifier",
    "trailName",
    "name",
    "serviceName",
)


def sniff(record: Record) -> bool:
    """A CloudTrail event, bare or in its EventBridge envelope."""
    event = event_of(record)
    return "eventSource" in event and ("eventVersion" in event or "eventName" in event)


def event_of(record: Record) -> Record:
    """The CloudTrail event an EventBridge envelope carries, else ``record`` itself."""
    kind = record.get("detail-type")
    if isinstance(kind, str) and kind.endswith(VIA_CLOUDTRAIL):
        return as_mapping(record.get("detail"))
    return record


def target_of(parameters: Record) -> str | None:
    """The object of the action: e.g. ``alice;arn:aws:iam::aws:policy/AWSCompromisedKey...``."""
    found = [text(parameters[name]) for name in TARGET_FIELDS if parameters.get(name)]
    return ";".join(value for value in found if value) or None


def credential_of(
    identity: Record, principal: str | None, extra: Record, parameters: Record
) -> tuple[str | None, str | None]:
    """The credential's id and kind: an access key, or a Bedrock API key (bearer token)."""
    key_id = text(identity.get("accessKeyId")) or None
    kind = KEY_KINDS.get(key_id[:4]) if key_id else None
    if extra.get(BEARER) not in BEARER_TRUE and parameters.get(BEARER) not in BEARER_TRUE:
        return key_id, kind
    if kind == "aws_session":
        return key_id, "bedrock_api_key_session"
    return (f"bedrock-api-key:{principal}" if principal else key_id), "bedrock_api_key"


def fields_of(record: Record, where: Location) -> FieldsResult:
    """One CloudTrail event (or its EventBridge envelope) as event fields."""
    envelope, record = record, event_of(record)
    source = record.get("eventSource")
    name = record.get("eventName")
    if not isinstance(source, str) or not isinstance(name, str):
        return unknown_shape(SOURCE, envelope)
    moment, bad_time = parse_iso_time(record.get("eventTime"))
    if moment is None:
        return rejected(bad_time)
    identity = as_mapping(record.get("userIdentity"))
    parameters = as_mapping(record.get("requestParameters"))
    ip, masked, bad_ip = normalize_ip(record.get("sourceIPAddress"))
    error = text(record.get("errorCode"))
    principal = text(
        identity.get("arn") or identity.get("principalId") or identity.get("invokedBy")
    )
    account = text(record.get("recipientAccountId") or identity.get("accountId"))
    extra = as_mapping(record.get("additionalEventData"))
    key_id, kind = credential_of(identity, principal, extra, parameters)
    tokens_in, bad_in = count_value(extra.get("inputTokens"), "tokens")
    tokens_out, bad_out = count_value(extra.get("outputTokens"), "tokens")
    return (
        dict(
            event_id=record_event_id(SOURCE, record),
            time=moment,
            source=SOURCE,
            provider="aws",
            account=account,
            resource=service_resource(source, account),
            region=text(record.get("awsRegion")),
            credential_id=key_id,
            credential_kind=kind,
            principal=principal,
            src_ip=ip,
            src_ip_masked=masked,
            user_agent=text(record.get("userAgent")),
            operation=name,
            model=text(parameters.get("modelId") or parameters.get("model")) or model_of(record),
            success=error is None,
            error_code=error,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            target=target_of(parameters),
            raw_file=where.file,
            raw_line=where.line,
        ),
        present(bad_ip, bad_in, bad_out),
    )


def service_resource(service: str, account: str | None) -> str:
    """An AWS service in one account (``bedrock.amazonaws.com/111122223333``): the resource
    whose history the rules keep, so that one account's habits do not hide another's."""
    service = service.lower()
    return f"{service}/{account}" if account else service


def model_of(record: Record) -> str | None:
    """The model among the event's ``resources`` (a foundation model by its id, another model
    such as an inference profile by its ARN), for calls that log no request parameters."""
    resources = record.get("resources")
    for item in resources if type(resources) is list else ():
        if type(item) is dict and item.get("type") == MODEL_RESOURCE:
            arn = text(item.get("ARN"))
            if arn:
                return arn.partition(FOUNDATION_MODEL)[2] or arn
    return None


PARSER = SourceParser(SOURCE, fields_of, sniff)
