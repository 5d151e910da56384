"""One call on one channel → the records every log source in its path writes.

Benign traffic and attack playbooks both go through these helpers, so an attack's records have
exactly the shape of the background's: rules can only tell them apart by behaviour.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from stormwatch.simulate import render_aws, render_azure, render_gateway
from stormwatch.simulate.identifiers import SimRandom, hex_id, mask_ip
from stormwatch.simulate.sinks import (
    ACTIVITY,
    APIM,
    AZURE_EVENTHUB,
    AZURE_STORAGE,
    CLOUDTRAIL_S3,
    CLOUDTRAIL_SIEM,
    EVENTHUB_NAME,
    INVOCATION,
    LITELLM,
    OPENAI_AUDIT,
    FileKey,
    hour_of,
)
from stormwatch.simulate.world import ApimService, AwsAccount, AzureResource, Deployment


class Emit(Protocol):
    """Receives one rendered record for one file; ``tag`` names its playbook or anomaly."""

    def __call__(self, key: FileKey, us: int, line: str, tag: str = "") -> None: ...


def azure_key(res: AzureResource, category: str, us: int) -> FileKey:
    """File of a diagnostic record: storage container per category, or the Event Hub."""
    if res.pipeline == "eventhub":
        return (AZURE_EVENTHUB, EVENTHUB_NAME, hour_of(us))
    return (AZURE_STORAGE, f"{category}|{res.resource_id}", hour_of(us))


def cloudtrail_key(account: AwsAccount, region: str, us: int) -> FileKey:
    """File of a CloudTrail record: S3 object per account/region/hour, or the SIEM export."""
    if account.delivery == "siem":
        return (CLOUDTRAIL_SIEM, "", hour_of(us))
    return (CLOUDTRAIL_S3, f"{account.account_id}|{region}", hour_of(us))


def azure_call(
    emit: Emit,
    res: AzureResource,
    us: int,
    rng: SimRandom,
    deployment: Deployment,
    status: int,
    caller_ip: str,
    operation: str = "",
    tag: str = "",
) -> str:
    """A data-plane call straight to an Azure OpenAI resource; returns its correlation id."""
    correlation = rng.uuid()
    tokens_in = 40 + int(rng.random() * 1400)
    ok = status < 400
    sizes = (tokens_in * 4 + 180, (200 + int(rng.random() * 2400)) if ok else 310)
    duration = (250 + int(rng.random() * 3500)) if ok else 20 + int(rng.random() * 60)
    line = render_azure.request_response(
        res,
        us,
        operation or deployment.operation,
        deployment.name,
        deployment.model,
        deployment.version,
        status,
        mask_ip(caller_ip),
        correlation,
        sizes,
        duration,
    )
    emit(azure_key(res, "RequestResponse", us), us, line, tag)
    return correlation


def apim_call(
    emit: Emit,
    apim: ApimService,
    us: int,
    rng: SimRandom,
    client: tuple[str, str, str],
    deployment: Deployment,
    status: int,
    prompt: str,
    filters: str = "",
    tag: str = "",
) -> None:
    """A chat call through APIM: the gateway record plus the backend's diagnostic record.

    ``client`` is (ip, user agent, APIM subscription). Status 401 stops at the gateway; 400
    with ``filters`` is a content-filter block; other statuses come from the backend.
    """
    ip, ua, subscription = client
    tokens = (30 + int(rng.random() * 1200), 20 + int(rng.random() * 500))
    backend_status = 0 if status == 401 else status
    if status == 200:
        body = render_azure.chat_response_body(
            hex_id(rng, 24), us // 1_000_000, deployment.model, tokens, filters
        )
    elif status == 400 and filters:
        body = render_azure.blocked_body(filters)
    elif status == 401:
        body = render_azure.error_body("401", "Access denied due to invalid subscription key.")
    else:
        body = render_azure.error_body(str(status), "Requests to the deployment were throttled.")
    backend_ms = (200 + int(rng.random() * 3000)) if status == 200 else 15
    call: dict[str, Any] = {
        "ip": ip,
        "ua": ua,
        "subscription": subscription,
        "deployment": deployment.name,
        "status": status,
        "backend_status": backend_status,
        "duration": backend_ms + 8,
        "backend_ms": backend_ms if backend_status else 0,
        "request_body": render_azure.chat_request_body(prompt, 800),
        "response_body": body,
        "correlation": rng.uuid(),
        "error_reason": "SubscriptionKeyInvalid" if status == 401 else "",
    }
    emit((APIM, apim.resource_id, hour_of(us)), us, render_azure.gateway_log(apim, us, call), tag)
    if backend_status:
        # The backend record lands a few ms later, but never in the next hour's file.
        backend_us = min(us + 3000, (hour_of(us) + 1) * 3_600_000_000 - 1)
        azure_call(emit, apim.backend, backend_us, rng, deployment, status, apim.egress_ip, tag=tag)


def bedrock_call(
    emit: Emit,
    account: AwsAccount,
    region: str,
    caller: render_aws.Caller,
    arn: str,
    us: int,
    rng: SimRandom,
    name: str,
    model_id: str,
    error: tuple[str, str] | None = None,
    tag: str = "",
) -> None:
    """A Bedrock runtime call: CloudTrail record, plus an invocation-log record if logged."""
    request_id = rng.uuid()
    line = render_aws.cloudtrail_event(
        caller,
        us,
        name,
        region,
        (request_id, rng.uuid()),
        render_aws.model_request(model_id),
        error=error,
    )
    emit(cloudtrail_key(account, region, us), us, line, tag)
    if account.invocation_logging and error is None:
        tokens = (20 + int(rng.random() * 1500), 10 + int(rng.random() * 700))
        record = render_aws.invocation_log(
            us, account.account_id, region, arn, name, model_id, request_id, tokens
        )
        emit((INVOCATION, f"{account.account_id}|{region}", hour_of(us)), us, record, tag)


def control_call(
    emit: Emit,
    account: AwsAccount,
    region: str,
    caller: render_aws.Caller,
    us: int,
    rng: SimRandom,
    name: str,
    request: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
    source: str = render_aws.BEDROCK,
    tag: str = "",
    response: dict[str, Any] | None = None,
) -> None:
    """A control-plane call (Bedrock, IAM, STS) recorded by CloudTrail."""
    line = render_aws.cloudtrail_event(
        caller,
        us,
        name,
        region,
        (rng.uuid(), rng.uuid()),
        json.dumps(request) if request is not None else "null",
        json.dumps(response) if response is not None else "null",
        error=error,
        source=source,
    )
    emit(cloudtrail_key(account, region, us), us, line, tag)


def gateway_call(
    emit: Emit,
    us: int,
    rng: SimRandom,
    caller: render_gateway.GatewayCaller,
    model: str,
    status: int,
    prompt: str,
    tokens: tuple[int, int] | None = None,
    tag: str = "",
) -> None:
    """A request through the LiteLLM gateway."""
    if tokens is None:
        tokens = (30 + int(rng.random() * 900), 20 + int(rng.random() * 400))
    if status >= 400:
        tokens = (tokens[0], 0)
    end = us + 150_000 + int(rng.random() * 3_000_000)
    line = render_gateway.spend_log(caller, (us, end), rng.uuid(), model, tokens, status, prompt)
    emit((LITELLM, "", hour_of(us)), us, line, tag)


def activity_call(
    emit: Emit,
    us: int,
    rng: SimRandom,
    subscription: str,
    scope: str,
    operation: str,
    identity: tuple[dict[str, str], str],
    extra: dict[str, Any] | None = None,
    tag: str = "",
) -> None:
    """An Azure Activity Log record; ``identity`` is (claims, caller IP)."""
    line = render_azure.activity(
        us, subscription, scope, operation, identity[0], identity[1], rng.uuid(), extra
    )
    emit((ACTIVITY, subscription, hour_of(us)), us, line, tag)


def openai_audit_call(
    emit: Emit,
    us: int,
    rng: SimRandom,
    event_type: str,
    actor: dict[str, Any],
    payload: dict[str, Any],
    tag: str = "",
) -> None:
    """An OpenAI organisation audit-log event."""
    event_id = f"audit_log-{hex_id(rng, 24)}"
    line = render_gateway.audit_event(event_id, us // 1_000_000, event_type, actor, payload)
    emit((OPENAI_AUDIT, "", hour_of(us)), us, line, tag)
