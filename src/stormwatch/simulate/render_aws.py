"""AWS records as JSON text: CloudTrail events and Bedrock model-invocation log records."""

from __future__ import annotations

import json
from dataclasses import dataclass

from stormwatch.simulate.identifiers import iso_seconds
from stormwatch.simulate.world import AwsPrincipal

BEDROCK = "bedrock.amazonaws.com"
RUNTIME_EVENTS = frozenset(
    {"InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream"}
)
# Control-plane calls that only read.
READ_ONLY_EVENTS = frozenset(
    {
        "ListFoundationModels",
        "GetFoundationModel",
        "GetModelInvocationLoggingConfiguration",
        "GetFoundationModelAvailability",
        "ListFoundationModelAgreementOffers",
        "GetCallerIdentity",
        "ListGuardrails",
        "GetUseCaseForModelAccess",
    }
)


@dataclass(frozen=True)
class Caller:
    """Who calls and from where: rendered once, reused for every event of a session."""

    identity: str  # userIdentity JSON text
    account_id: str
    source_ip: str
    user_agent: str
    bearer: bool = False  # an Amazon Bedrock API key, not a SigV4 signature


def identity_json(principal: AwsPrincipal, key_id: str, session_created: int = 0) -> str:
    """``userIdentity`` for an IAM user or an assumed-role session, as JSON text; an IAM user's
    call with a long-term Bedrock API key (no ``key_id``) names no access key."""
    account = principal.account.account_id
    if principal.kind == "IAMUser":
        user = {"type": "IAMUser", "principalId": principal.principal_id, "arn": principal.arn}
        key = {"accessKeyId": key_id} if key_id else {}
        return json.dumps(user | {"accountId": account} | key | {"userName": principal.name})
    return json.dumps(
        {
            "type": "AssumedRole",
            "principalId": f"{principal.principal_id}:{principal.name}-app",
            "arn": principal.arn,
            "accountId": account,
            "accessKeyId": key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": principal.principal_id,
                    "arn": f"arn:aws:iam::{account}:role/{principal.name}",
                    "accountId": account,
                    "userName": principal.name,
                },
                "attributes": {
                    "creationDate": iso_seconds(session_created),
                    "mfaAuthenticated": "false",
                },
            },
        }
    )


AWS_INTERNAL_IDENTITY = json.dumps({"type": "AWSService", "invokedBy": "AWS Internal"})


def _host(source: str, name: str, region: str) -> str:
    if source == BEDROCK:
        runtime = "bedrock-runtime" if name in RUNTIME_EVENTS else "bedrock"
        return f"{runtime}.{region}.amazonaws.com"
    if source == "iam.amazonaws.com":
        return "iam.amazonaws.com"
    return f"{source.split('.')[0]}.{region}.amazonaws.com"


def cloudtrail_event(
    caller: Caller,
    us: int,
    name: str,
    region: str,
    ids: tuple[str, str],
    request: str = "null",
    response: str = "null",
    error: tuple[str, str] | None = None,
    source: str = BEDROCK,
) -> str:
    """One CloudTrail record; ``request``/``response`` are JSON text; ``ids`` = request/event id."""
    err = ""
    if error is not None:
        err = f'"errorCode": "{error[0]}", "errorMessage": {json.dumps(error[1])}, '
    read_only = "true" if name in RUNTIME_EVENTS or name in READ_ONLY_EVENTS else "false"
    extra = '"additionalEventData": {"callWithBearerToken": true}, ' if caller.bearer else ""
    return (
        f'{{"eventVersion": "1.09", "userIdentity": {caller.identity}, "eventTime": '
        f'"{iso_seconds(us)}", "eventSource": "{source}", "eventName": "{name}", "awsRegion": '
        f'"{region}", "sourceIPAddress": "{caller.source_ip}", "userAgent": '
        f'"{caller.user_agent}", {err}"requestParameters": {request}, "responseElements": '
        f'{response}, {extra}"requestID": "{ids[0]}", "eventID": "{ids[1]}", '
        f'"readOnly": {read_only}, '
        f'"eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": '
        f'"{caller.account_id}", "eventCategory": "Management", "tlsDetails": {{"tlsVersion": '
        f'"TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": '
        f'"{_host(source, name, region)}"}}}}'
    )


def model_request(model_id: str) -> str:
    """``requestParameters`` of a runtime call."""
    return f'{{"modelId": "{model_id}"}}'


def invocation_log(
    us: int,
    account_id: str,
    region: str,
    arn: str,
    operation: str,
    model_id: str,
    request_id: str,
    tokens: tuple[int, int],
) -> str:
    """One Bedrock ``ModelInvocationLog`` record with placeholder bodies."""
    return (
        f'{{"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": '
        f'"{iso_seconds(us)}", "accountId": "{account_id}", "identity": {{"arn": "{arn}"}}, '
        f'"region": "{region}", "requestId": "{request_id}", "operation": "{operation}", '
        f'"modelId": "{model_id}", "input": {{"inputContentType": "application/json", '
        f'"inputBodyJson": {{"messages": [{{"role": "user", "content": [{{"text": '
        f'"[prompt withheld]"}}]}}]}}, "inputTokenCount": {tokens[0]}}}, "output": '
        f'{{"outputContentType": "application/json", "outputBodyJson": {{"output": '
        f'{{"message": {{"role": "assistant", "content": [{{"text": '
        f'"[completion withheld]"}}]}}}}, '
        f'"stopReason": "end_turn"}}, "outputTokenCount": {tokens[1]}}}}}'
    )
