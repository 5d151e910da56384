"""Azure API Management in front of Azure OpenAI: ``GatewayLogs`` and ``GatewayLlmLogs``.

The gateway sees what diagnostic logs hide: the full caller IP, the user agent (when request
headers are logged), the APIM subscription (the key the caller presented) and the bodies, where
token usage and content-filter results live. Bodies may be truncated by the logging settings;
a body that is not JSON only leaves those fields empty.

``GatewayLlmLogs`` (the AI gateway's "generative AI gateway" category) gives one record per
language-model call with the deployment, model and token counts, and further records holding
only prompt or completion text (large messages are split, with sequence numbers). The call's
record becomes an event; a text-only record is no call: it is counted as an ignored
``LLM message record``, not as an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from stormwatch.events.parsers.azure_fields import header, properties_of, resource_log_fields
from stormwatch.events.parsers.content_filter import NO_VERDICT, verdict_of
from stormwatch.events.parsers.protocol import (
    FieldsResult,
    Location,
    Record,
    SourceParser,
    as_mapping,
    present,
    rejected,
    unknown_shape,
)
from stormwatch.events.values import (
    Problem,
    count_value,
    http_status,
    normalize_ip,
    parse_iso_time,
    text,
)

SOURCE = "azure_apim"
GATEWAY_CATEGORY = "GatewayLogs"
LLM_CATEGORY = "GatewayLlmLogs"
# Microsoft documents LLM logging for the gateway's chat-completions APIs.
LLM_OPERATION = "ChatCompletions_Create"
# URL path suffix of an Azure OpenAI data-plane call -> its diagnostic-log operation name.
OPERATIONS = (
    ("chat/completions", "ChatCompletions_Create"),
    ("images/generations", "ImageGenerations_Create"),
    ("embeddings", "Embeddings_Create"),
    ("completions", "Completions_Create"),
    ("audio/transcriptions", "AudioTranscriptions_Create"),
)


def sniff(record: Record) -> bool:
    """An API Management gateway or LLM gateway record."""
    return record.get("category") in (GATEWAY_CATEGORY, LLM_CATEGORY) or (
        record.get("operationName") == "Microsoft.ApiManagement/GatewayLogs"
    )


def _call_shape(url: str, fallback: Any) -> tuple[str | None, str | None]:
    """(operation, deployment) from ``.../openai/deployments/{name}/{operation path}``."""
    path = urlsplit(url).path
    deployment = None
    marker = "/deployments/"
    start = path.find(marker)
    if start >= 0:
        rest = path[start + len(marker) :]
        deployment, _, path = rest.partition("/")
    for suffix, operation in OPERATIONS:
        if path.endswith(suffix):
            return operation, deployment or None
    return text(fallback), deployment or None


def _body(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, str) or not value.startswith("{"):
        return as_mapping(value)
    try:
        return as_mapping(orjson.loads(value))
    except orjson.JSONDecodeError:
        return as_mapping(None)


def fields_of(record: Record, where: Location) -> FieldsResult:
    """One gateway or LLM gateway record as event fields."""
    resource_id = record.get("resourceId")
    props, bad_props = properties_of(record)
    if not isinstance(resource_id, str) or props is None:
        return rejected(bad_props) if props is None else unknown_shape(SOURCE, record)
    moment, bad_time = parse_iso_time(record.get("time"))
    if moment is None:
        return rejected(bad_time)
    if record.get("category") == LLM_CATEGORY:
        found, problems = _llm_call(props)
    else:
        found, problems = _gateway_call(props)
    if found is None:
        return None, problems
    resource = resource_id.lower()
    ip, masked, bad_ip = normalize_ip(record.get("callerIpAddress"))
    subscription = text(props.get("apimSubscriptionId"))
    found.update(
        resource_log_fields(SOURCE, record, resource, moment, where),
        credential_id=f"apim-subscription:{resource}/{subscription}" if subscription else None,
        credential_kind="api_key" if subscription else None,
        src_ip=ip,
        src_ip_masked=masked,
    )
    return found, problems + present(bad_ip)


def _gateway_call(props: Mapping[str, Any]) -> FieldsResult:
    """What a ``GatewayLogs`` record tells beyond the shared fields: URL, status and bodies.

    The frontend bodies are read first; when the API logs only the backend's (the frontend
    body size set to 0), those stand in: the usage and the filter verdict are the same.
    """
    operation, deployment = _call_shape(text(props.get("url")) or "", props.get("operationId"))
    request_body = props.get("requestBody") or props.get("backendRequestBody")
    response = _body(props.get("responseBody")) or _body(props.get("backendResponseBody"))
    usage = as_mapping(response.get("usage"))
    found, bad_tokens = _tokens(usage.get("prompt_tokens"), usage.get("completion_tokens"))
    if found is None:
        return None, bad_tokens
    verdict = verdict_of(response) if response else NO_VERDICT
    status = http_status(props.get("responseCode"))
    error = as_mapping(response.get("error"))
    found.update(
        user_agent=header(props.get("requestHeaders"), "User-Agent"),
        operation=operation,
        model=text(response.get("model")),
        deployment=deployment,
        status_code=status,
        success=None if status is None else status < 400,
        error_code=text(error.get("code")) or text(props.get("lastErrorReason")),
        request_bytes=count_value(props.get("requestSize"), "size")[0],
        response_bytes=count_value(props.get("responseSize"), "size")[0],
        filter_blocked=verdict.blocked,
        filter_categories=verdict.categories,
        filter_severity=verdict.severity,
        jailbreak_detected=verdict.jailbreak,
        request_hash=_sha256(request_body) if isinstance(request_body, str) else None,
    )
    return found, ()


def _llm_call(props: Mapping[str, Any]) -> FieldsResult:
    """What a ``GatewayLlmLogs`` record tells: deployment, model and tokens of one call.

    The call's record names its deployment (Microsoft's usage queries keep the records whose
    ``DeploymentName`` is not empty); records without deployment and model only carry message
    text, split from the call's record, and counting them would count the call again.
    """
    deployment = text(props.get("deploymentName")) or None
    model = text(props.get("modelName")) or None
    if deployment is None and model is None:
        sequence = text(props.get("sequenceNumber"))
        detail = f"sequence {sequence}: message text only"
        return None, (Problem("LLM message record", detail, ignore=True),)
    found, bad_tokens = _tokens(props.get("promptTokens"), props.get("completionTokens"))
    if found is not None:
        found.update(operation=LLM_OPERATION, model=model, deployment=deployment)
    return found, bad_tokens


def _tokens(prompt: Any, completion: Any) -> FieldsResult:
    """The call's token counts as fields, or the problem that rejects the record."""
    tokens_in, bad_in = count_value(prompt, "tokens")
    tokens_out, bad_out = count_value(completion, "tokens")
    if bad_in or bad_out:
        return rejected(bad_in, bad_out)
    return {"tokens_in": tokens_in, "tokens_out": tokens_out}, ()


def _sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


PARSER = SourceParser(SOURCE, fields_of, sniff)
