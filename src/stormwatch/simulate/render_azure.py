"""Azure records as JSON text: OpenAI diagnostic logs, API Management GatewayLogs, Activity Log.

Hot-path renderers build the JSON with f-strings from values the simulator controls (no quotes
or backslashes in them); free-form text goes through the C JSON string encoder. Field names
follow Azure Monitor's resource-log schema as written to storage accounts and Event Hubs.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as quote
from typing import Any

from stormwatch.simulate.identifiers import dotnet_ticks, iso_ticks
from stormwatch.simulate.world import ApimService, AzureResource, Person

API_VERSION = "2024-10-21"
_SAFE = '{"filtered": false, "severity": "safe"}'
_CATEGORIES = ("hate", "self_harm", "sexual", "violence")
SAFE_FILTERS = (
    "{" + ", ".join(f'"{c}": {_SAFE}' for c in _CATEGORIES) + ', "jailbreak": '
    '{"filtered": false, "detected": false}}'
)
BLOCK_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management "
    "policy. Please modify your prompt and retry."
)


def _result_type(status: int) -> str:
    return "Success" if status < 400 else "Failed"


def request_response(
    res: AzureResource,
    us: int,
    operation: str,
    deployment: str,
    model: str,
    version: str,
    status: int,
    caller: str,
    correlation: str,
    sizes: tuple[int, int],
    duration_ms: int,
    object_id: str = "",
) -> str:
    """One ``RequestResponse`` record; ``caller`` is already masked (``a.b.c.***``)."""
    ticks = dotnet_ticks(us)
    props = (
        f'{{"apiName": "Azure OpenAI API version {API_VERSION}", "requestTime": {ticks}, '
        f'"requestLength": {sizes[0]}, "responseTime": {ticks + duration_ms * 10_000}, '
        f'"responseLength": {sizes[1]}, "objectId": "{object_id}", "streamType": '
        f'"{"Streaming" if sizes[1] & 1 else "Non-Streaming"}", "modelDeploymentName": '
        f'"{deployment}", "modelName": "{model}", "modelVersion": "{version}"}}'
    )
    if res.properties_as_string:
        props = quote(props)
    return (
        f'{{"time": "{iso_ticks(us)}", "resourceId": "{res.resource_id}", "category": '
        f'"RequestResponse", "operationName": "{operation}", "resultType": '
        f'"{_result_type(status)}", "resultSignature": "{status}", "durationMs": {duration_ms}, '
        f'"callerIpAddress": "{caller}", "correlationId": "{correlation}", "Tenant": '
        f'"{res.location}", "location": "{res.location}", "event": "ShoeboxCallResult", '
        f'"properties": {props}}}'
    )


def audit(
    res: AzureResource, us: int, operation: str, caller: str, correlation: str, object_id: str
) -> str:
    """One ``Audit`` record (e.g. ``ListKey``) for a key or configuration read."""
    props: Any = {"objectId": object_id, "apiName": "Azure Cognitive Services Management"}
    if res.properties_as_string:
        props = json.dumps(props)
    return json.dumps(
        {
            "time": iso_ticks(us),
            "resourceId": res.resource_id,
            "category": "Audit",
            "operationName": operation,
            "resultType": "Success",
            "resultSignature": "200",
            "durationMs": 18,
            "callerIpAddress": caller,
            "correlationId": correlation,
            "location": res.location,
            "properties": props,
        }
    )


def chat_request_body(prompt: str, max_tokens: int) -> str:
    """A chat-completions request body (JSON text); ``prompt`` holds no quote or backslash."""
    return (
        f'{{"messages": [{{"role": "user", "content": "{prompt}"}}], "max_tokens": {max_tokens}}}'
    )


def chat_response_body(
    completion_id: str, created: int, model: str, tokens: tuple[int, int], filters: str = ""
) -> str:
    """A successful chat completion with prompt and completion content-filter results."""
    f = filters or SAFE_FILTERS
    return (
        f'{{"id": "chatcmpl-{completion_id}", "object": "chat.completion", "created": {created}, '
        f'"model": "{model}", "prompt_filter_results": [{{"prompt_index": 0, '
        f'"content_filter_results": {f}}}], "choices": [{{"index": 0, "finish_reason": "stop", '
        f'"message": {{"role": "assistant", "content": "[completion withheld]"}}, '
        f'"content_filter_results": {SAFE_FILTERS}}}], "usage": {{"prompt_tokens": {tokens[0]}, '
        f'"completion_tokens": {tokens[1]}, "total_tokens": {tokens[0] + tokens[1]}}}}}'
    )


def filter_results(flagged: dict[str, str], jailbreak: bool) -> str:
    """Content-filter results with ``flagged`` categories at the given severities."""
    parts = []
    for category in _CATEGORIES:
        severity = flagged.get(category, "safe")
        blocked = "true" if severity in ("medium", "high") else "false"
        parts.append(f'"{category}": {{"filtered": {blocked}, "severity": "{severity}"}}')
    jb = "true" if jailbreak else "false"
    parts.append(f'"jailbreak": {{"filtered": {jb}, "detected": {jb}}}')
    return "{" + ", ".join(parts) + "}"


def blocked_body(filters: str) -> str:
    """HTTP 400 body of a prompt that the content filter blocked."""
    return (
        f'{{"error": {{"message": "{BLOCK_MESSAGE}", "type": null, "param": "prompt", '
        f'"code": "content_filter", "status": 400, "innererror": {{"code": '
        f'"ResponsibleAIPolicyViolation", "content_filter_result": {filters}}}}}}}'
    )


def error_body(code: str, message: str) -> str:
    """A generic Azure OpenAI error body (429, 401, 404 ...)."""
    return json.dumps({"error": {"code": code, "message": message}})


def gateway_log(apim: ApimService, us: int, call: dict[str, Any]) -> str:
    """One APIM ``GatewayLogs`` record. ``call`` holds the per-request values.

    Keys of ``call``: ip, ua, subscription, deployment, status, backend_status, duration,
    backend_ms, request_body, response_body, correlation, error_reason.
    """
    status = call["status"]
    backend_status = call["backend_status"]
    path = f"openai/deployments/{call['deployment']}/chat/completions?api-version={API_VERSION}"
    backend = f"https://{apim.backend.name}.openai.azure.com/{path}" if backend_status else ""
    request_body = call["request_body"]
    response_body = call["response_body"]
    error = ""
    if call["error_reason"]:
        error = (
            f'"lastErrorReason": "{call["error_reason"]}", "lastErrorSource": "authentication", '
        )
    return (
        f'{{"DeploymentVersion": "0.46.1800.0", "Level": 4, "isRequestSuccess": '
        f'{"true" if status < 400 else "false"}, "time": "{iso_ticks(us)}", "operationName": '
        f'"Microsoft.ApiManagement/GatewayLogs", "category": "GatewayLogs", "durationMs": '
        f'{call["duration"]}, "callerIpAddress": "{call["ip"]}", "correlationId": '
        f'"{call["correlation"]}", "location": "{apim.location}", "properties": {{"method": '
        f'"POST", "url": "https://{apim.name}.azure-api.net/{path}", "backendResponseCode": '
        f'{backend_status}, "responseCode": {status}, "responseSize": '
        f'{len(response_body) + 310}, "cache": "none", "backendTime": {call["backend_ms"]}, '
        f'"requestSize": {len(request_body) + 420}, "apiId": "azure-openai", "operationId": '
        f'"ChatCompletions_Create", "apimSubscriptionId": "{call["subscription"]}", '
        f'"clientTime": 1, "clientProtocol": "HTTP/1.1", "backendProtocol": "HTTP/1.1", '
        f'"apiRevision": "1", "clientTlsVersion": "1.2", "backendMethod": "POST", "backendUrl": '
        f'"{backend}", "requestHeaders": {{"User-Agent": "{call["ua"]}", "Content-Type": '
        f'"application/json"}}, {error}"requestBody": {quote(request_body)}, '
        f'"responseBody": {quote(response_body)}}}, "resourceId": "{apim.resource_id}"}}'
    )


def service_principal_claims(app_id: str, object_id: str, tenant: str) -> dict[str, str]:
    """Entra claims of an application (service principal) caller."""
    return {
        "aud": "https://management.core.windows.net/",
        "iss": f"https://sts.windows.net/{tenant}/",
        "appid": app_id,
        "appidacr": "2",
        "idtyp": "app",
        "http://schemas.microsoft.com/identity/claims/objectidentifier": object_id,
        "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
    }


def user_claims(person: Person, tenant: str, ip: str) -> dict[str, str]:
    """Entra claims of a signed-in user caller."""
    return {
        "aud": "https://management.core.windows.net/",
        "iss": f"https://sts.windows.net/{tenant}/",
        "ipaddr": ip,
        "name": person.name,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": person.upn,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": person.upn,
        "http://schemas.microsoft.com/identity/claims/objectidentifier": person.object_id,
        "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
        "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "idtyp": "user",
    }


def activity(
    us: int,
    subscription: str,
    scope: str,
    operation: str,
    claims: dict[str, str],
    caller_ip: str,
    correlation: str,
    extra: dict[str, Any] | None = None,
) -> str:
    """One Activity Log record (storage / Event Hub schema, category Administrative)."""
    action = operation.rsplit("/", 1)[0] if operation.endswith("/ACTION") else operation
    properties: dict[str, Any] = {
        "statusCode": "OK",
        "serviceRequestId": correlation,
        "eventCategory": "Administrative",
        "entity": scope,
        "message": action.lower(),
        "hierarchy": f"{claims['http://schemas.microsoft.com/identity/claims/tenantid']}/"
        f"{subscription}",
    }
    properties.update(extra or {})
    return json.dumps(
        {
            "RoleLocation": "East US",
            "time": iso_ticks(us),
            "resourceId": scope.upper(),
            "operationName": operation,
            "category": "Administrative",
            "resultType": "Success",
            "resultSignature": "Succeeded.OK",
            "durationMs": "412",
            "callerIpAddress": caller_ip,
            "correlationId": correlation,
            "identity": {
                "authorization": {"scope": scope, "action": action},
                "claims": claims,
            },
            "level": "Information",
            "location": "global",
            "properties": properties,
        }
    )
