"""Azure's documented log examples (cited above each; names, ids and addresses swapped for
Contoso placeholders, shapes kept) through the parsers, then ingested in the form Azure delivers
them. The records are laid out like the JSON they copy, so the formatter leaves them alone."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from stormwatch.events import PARSERS, EventStore, Location, detect_source, ingest_files
from stormwatch.events.model import Event
from stormwatch.events.report import IngestReport

HERE = Location("documented.json", 1)
SUB = "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e"
OID = "00001111-aaaa-2222-bbbb-3333cccc4444"
PROVIDERS = f"/SUBSCRIPTIONS/{SUB.upper()}/RESOURCEGROUPS/RG-CONTOSO-AI/PROVIDERS"
AOAI = f"{PROVIDERS}/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/CONTOSO-OPENAI-01"
APIM = f"{PROVIDERS}/MICROSOFT.APIMANAGEMENT/SERVICE/CONTOSO-APIM"
ARM_AOAI = (
    f"/subscriptions/{SUB}/resourceGroups/rg-contoso-ai/providers/"
    "Microsoft.CognitiveServices/accounts/contoso-openai-01"
)
T = datetime.fromisoformat

# fmt: off
# --- Azure OpenAI diagnostic logs (Microsoft.CognitiveServices/accounts) -------------------
# RequestResponse records captured in Elastic's azure_openai tests (Tenant/event kept; the caller
# IP masked by Azure; properties once as JSON text, once as an object), as in a storage blob:
# https://github.com/elastic/integrations/blob/main/packages/azure_openai/data_stream/logs/_dev/test/pipeline/test-open-ai-request-response.log
# Top-level schema: https://learn.microsoft.com/azure/azure-monitor/platform/resource-logs-schema
RR_THREAD: dict[str, Any] = {
    "Tenant": "eastus", "callerIpAddress": "10.0.0.***", "category": "RequestResponse",
    "correlationId": "aaaa0000-bb11-2222-33cc-444444dddddd", "durationMs": 102,
    "event": "ShoeboxCallResult", "location": "eastus", "operationName": "Create_Thread",
    "properties": '{"apiName":"Azure OpenAI API version 2024-02-15-preview",'
    '"requestTime":638481757794854611,"requestLength":2,"responseTime":638481757795877942,'
    '"responseLength":113,"objectId":""}',
    "resourceId": AOAI, "resultSignature": "200", "time": "2024-04-08T12:23:02.4350000Z",
}
RR_CHAT: dict[str, Any] = RR_THREAD | {
    "correlationId": "bbbb1111-cc22-3333-44dd-555555eeeeee", "durationMs": 1021,
    "operationName": "ChatCompletions_Create", "time": "2024-05-24T12:23:02.4350000Z",
    "properties": {
        "apiName": "Azure OpenAI API version 2023-07-01-preview",
        "requestTime": 638515262815394150, "requestLength": 128,
        "responseTime": 638515262825606520, "responseLength": 1411, "objectId": "",
        "streamType": "Non-Streaming", "modelDeploymentName": "contoso-chat",
        "modelName": "gpt-35-turbo", "modelVersion": "0301",
    },
}
# Audit ListKey as captured (no caller IP, result or location):
# https://github.com/elastic/integrations/blob/main/packages/azure_openai/data_stream/logs/_dev/test/pipeline/test-open-ai-audit.log
AUDIT: dict[str, Any] = {
    "AssetIdentity": "cccc2222-dd33-4444-55ee-666666ffffff", "Tenant": "eastus",
    "category": "Audit", "operationName": "ListKey", "properties": {"objectId": OID},
    "resourceId": AOAI, "time": "2024-04-17T06:03:30.0000000Z",
}
# The chat call as an AzureDiagnostics row, printed by `az monitor log-analytics query`; columns
# of https://learn.microsoft.com/azure/azure-monitor/reference/tables/azurediagnostics and of
# the query on https://learn.microsoft.com/azure/ai-foundry/openai/how-to/monitor-openai
# (`project TimeGenerated, _ResourceId, Category, OperationName, DurationMs, ResultSignature,
# properties_s`: PROJECTED_ROW).
DIAGNOSTICS_ROW: dict[str, Any] = {
    "TenantId": "dddd3333-ee44-5555-66ff-777777aaaaaa", "TimeGenerated": "2024-05-24T12:23:02.435Z",
    "ResourceId": AOAI, "_ResourceId": AOAI.lower(), "Category": "RequestResponse",
    "ResourceProvider": "MICROSOFT.COGNITIVESERVICES", "ResourceType": "ACCOUNTS",
    "Resource": "CONTOSO-OPENAI-01", "OperationName": "ChatCompletions_Create",
    "ResultSignature": "200", "DurationMs": 1021, "CallerIPAddress": "10.0.0.***",
    "CorrelationId": RR_CHAT["correlationId"], "properties_s": json.dumps(RR_CHAT["properties"]),
    "SourceSystem": "Azure", "Type": "AzureDiagnostics",
}
PROJECTED = ("TimeGenerated", "_ResourceId", "Category", "OperationName", "DurationMs",
             "ResultSignature", "properties_s")
PROJECTED_ROW = {column: DIAGNOSTICS_ROW[column] for column in PROJECTED}

# --- API Management GatewayLogs / GatewayLlmLogs --------------------------------------------
# Microsoft's sample GatewayLogs entry, its "xx" placeholders filled (time kept without offset):
# https://learn.microsoft.com/azure/api-management/api-management-howto-use-azure-monitor
# (MicrosoftDocs/azure-docs, articles/api-management/api-management-howto-use-azure-monitor.md)
APIM_SAMPLE: dict[str, Any] = {
    "Level": 4, "isRequestSuccess": True, "time": "2020-10-14T17:05:11.42",
    "operationName": "Microsoft.ApiManagement/GatewayLogs", "category": "GatewayLogs",
    "durationMs": 152, "callerIpAddress": "198.51.100.24",
    "correlationId": "3f06647e-0000-1111-2222-530eb9f15261", "location": "East US",
    "properties": {
        "method": "GET", "url": "https://contoso-apim.azure-api.net/conference/speakers",
        "backendResponseCode": 200, "responseCode": 200, "responseSize": 41583, "cache": "none",
        "backendTime": 87, "requestSize": 526, "apiId": "demo-conference-api",
        "operationId": "GetSpeakers", "apimSubscriptionId": "master", "clientTime": 65,
        "clientProtocol": "HTTP/1.1", "backendProtocol": "HTTP/1.1", "apiRevision": "1",
        "clientTlsVersion": "1.2", "backendMethod": "GET",
        "backendUrl": "https://conferenceapi.azurewebsites.net/speakers",
    },
    "resourceId": APIM,
}
# GatewayLogs of Azure OpenAI calls as captured (bodies logged, request headers not), a success
# and a prompt blocked by a custom blocklist:
# https://github.com/elastic/integrations/blob/main/packages/azure_openai/data_stream/logs/_dev/test/pipeline/test-open-ai-gateway.log
SAFE = {"filtered": False, "severity": "safe"}
FILTERS = {"custom_blocklists": [], "hate": SAFE, "profanity": {"filtered": False,
           "detected": False}, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}
OK_BODY = json.dumps({
    "choices": [{"content_filter_results": FILTERS, "finish_reason": "stop", "index": 0,
                 "logprobs": None, "message": {"content": "Paris.", "role": "assistant"}}],
    "created": 1719901891, "id": "chatcmpl-0001", "model": "gpt-35-turbo",
    "object": "chat.completion",
    "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": FILTERS}],
    "system_fingerprint": None,
    "usage": {"completion_tokens": 8, "prompt_tokens": 14, "total_tokens": 22},
}, separators=(",", ":")) + "\n"
BLOCKED_BODY = json.dumps({"error": {
    "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
    "management policy.", "type": None, "param": "prompt", "code": "content_filter",
    "status": 400, "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result":
    FILTERS | {"custom_blocklists": [{"filtered": True, "id": "CustomBlockList601"}]}},
}}, separators=(",", ":"))
REQUEST = '{"model": "contoso-chat", "messages": [{"role": "user", "content": "capital?"}]}'
REQUEST_HASH = hashlib.sha256(REQUEST.encode()).hexdigest()
CHAT_PATH = "deployments/contoso-chat/chat/completions?api-version=2024-02-15-preview"
APIM_CHAT: dict[str, Any] = {
    "DeploymentVersion": "0.44.18652.0", "Level": 4, "Sku": "Basic",
    "callerIpAddress": "203.0.113.144", "category": "GatewayLogs",
    "correlationId": "99789635-0000-1111-2222-a3a3c477a6a4", "durationMs": 176,
    "isRequestSuccess": True, "location": "East US",
    "operationName": "Microsoft.ApiManagement/GatewayLogs",
    "properties": {
        "apiId": "azure-openai-service-api", "apiRevision": "1", "backendMethod": "POST",
        "backendProtocol": "HTTP/1.1", "backendRequestBody": REQUEST,
        "backendResponseBody": OK_BODY, "backendResponseCode": 200, "backendTime": 176,
        "backendUrl": f"https://contoso-openai-01.openai.azure.com/openai/{CHAT_PATH}",
        "cache": "none", "clientProtocol": "HTTP/1.1", "clientTlsVersion": "1.3",
        "method": "POST", "operationId": "ChatCompletions_Create", "requestBody": REQUEST,
        "requestSize": 536, "responseBody": OK_BODY, "responseCode": 200, "responseSize": 1604,
        "url": f"https://contoso-apim.azure-api.net/{CHAT_PATH}",
    },
    "resourceId": APIM, "resultType": "Succeeded", "time": "2024-07-02T06:31:31.4465902Z",
    "truncated": 0,
}
APIM_BLOCKED: dict[str, Any] = APIM_CHAT | {
    "correlationId": "0aa398fe-0000-1111-2222-52ce04ddc34a", "durationMs": 453,
    "isRequestSuccess": False, "resultType": "Failed", "time": "2024-07-02T06:14:56.2371877Z",
    "properties": APIM_CHAT["properties"] | {
        "backendResponseBody": BLOCKED_BODY, "backendResponseCode": 400,
        "responseBody": BLOCKED_BODY, "responseCode": 400, "responseSize": 1360,
    },
}
# The success as an ApiManagementGatewayLogs row, with a logged User-Agent (a dynamic column,
# printed as JSON text) and an APIM subscription:
# https://learn.microsoft.com/azure/azure-monitor/reference/tables/apimanagementgatewaylogs
GATEWAY_ROW: dict[str, Any] = {
    "TenantId": DIAGNOSTICS_ROW["TenantId"], "TimeGenerated": APIM_CHAT["time"],
    "OperationName": APIM_CHAT["operationName"], "CorrelationId": APIM_CHAT["correlationId"],
    "Region": "East US", "IsRequestSuccess": True, "Category": "GatewayLogs", "TotalTime": 176,
    "CallerIpAddress": APIM_CHAT["callerIpAddress"],
    **{key[0].upper() + key[1:]: value for key, value in APIM_CHAT["properties"].items()},
    "ApimSubscriptionId": "team-research", "LastErrorReason": "",
    "RequestHeaders": '{"User-Agent":"AzureOpenAI/Python 1.35.0"}',
    "_ResourceId": APIM.lower(), "Type": "ApiManagementGatewayLogs",
}
# The same call as an ApiManagementGatewayLlmLog row (category GatewayLlmLogs; Microsoft shows
# no storage or Event Hubs sample of it):
# https://learn.microsoft.com/azure/azure-monitor/reference/tables/apimanagementgatewayllmlog
LLM_ROW: dict[str, Any] = {
    "TenantId": DIAGNOSTICS_ROW["TenantId"], "TimeGenerated": APIM_CHAT["time"],
    "OperationName": "Microsoft.ApiManagement/GatewayLlmLogs",
    "CorrelationId": APIM_CHAT["correlationId"], "Region": "East US",
    "ApiVersion": "2024-02-15-preview", "DeploymentName": "contoso-chat",
    "ModelName": "gpt-35-turbo", "PromptTokens": 14, "CompletionTokens": 8, "TotalTokens": 22,
    "IsStreamCompletion": False, "RequestId": "chatcmpl-0001", "SequenceNumber": 0,
    "RequestMessages": [{"role": "user", "content": "capital?"}],
    "ResponseMessages": [{"role": "assistant", "content": "Paris."}],
    "SourceSystem": "Azure", "_SubscriptionId": SUB, "_ResourceId": APIM.lower(),
    "Type": "ApiManagementGatewayLlmLog",
}

# --- Activity Log ---------------------------------------------------------------------------
# Storage / Event Hubs shape, "Schema from storage account and event hubs" on
# https://learn.microsoft.com/azure/azure-monitor/platform/activity-log-schema (its mapping
# table says category is always "Administrative"; its example says "Write").
CLAIMS = {  # a subset of the documented claims, in their order
    "aud": "https://management.core.windows.net/",
    "iss": "https://sts.windows.net/ffffffff-eeee-dddd-cccc-bbbbbbbbbbb0/", "ver": "1.0",
    "http://schemas.microsoft.com/identity/claims/tenantid": "ffffffff-eeee-dddd-cccc-bbbbbbbbbbb0",
    "http://schemas.microsoft.com/identity/claims/objectidentifier": OID,
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "admin@contoso.com",
    "name": "John Smith", "appid": "11112222-bbbb-3333-cccc-4444dddd5555", "appidacr": "2",
}


def _stored_activity(operation: str, resource_id: str, category: str) -> dict[str, Any]:
    return {
        "time": "2025-03-03T10:15:26.9792776Z", "resourceId": resource_id,
        "operationName": operation, "category": category, "resultType": "Success",
        "resultSignature": "Succeeded.Created", "durationMs": 2826,
        "callerIpAddress": "198.51.100.11", "correlationId": "aaaa6666-bb77-8888-99cc-000000dddddd",
        "identity": {"authorization": {"scope": resource_id, "action": operation},
                     "claims": CLAIMS},
        "level": "Information", "location": "global",
        "properties": {"statusCode": "Created", "serviceRequestId": OID},
    }


DEPLOY_WRITE = _stored_activity("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/DEPLOYMENTS/WRITE",
                                f"{ARM_AOAI}/deployments/contoso-chat", "Administrative")
RAI_WRITE = _stored_activity("Microsoft.CognitiveServices/accounts/raiPolicies/write",
                             f"{ARM_AOAI}/raiPolicies/contoso-lenient", "Write")
# listKeys as captured: category "Action", the start record (no properties, no status):
# https://github.com/elastic/integrations/blob/main/packages/azure/data_stream/activitylogs/_dev/test/pipeline/test-activitylogs-raw.log
LIST_KEYS = _stored_activity("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION", AOAI, "Action")
LIST_KEYS |= {"resultSignature": "Started.", "resultType": "Start", "durationMs": 0}
del LIST_KEYS["properties"]
# REST / portal JSON shape: the Administrative sample of activity-log-schema (above), with the
# httpRequest of the REST API's example GetActivityLogsFiltered.json, in
# https://github.com/Azure/azure-rest-api-specs/tree/main/specification/monitor/resource-manager/Microsoft.Insights/stable/2015-04-01/examples
DIAG_SETTING = f"{ARM_AOAI}/providers/Microsoft.Insights/diagnosticSettings/to-sentinel"
DELETE = "Microsoft.Insights/diagnosticSettings/delete"
EVENT_ID = "44ade6b4-3813-45e6-ae27-7420a95fa2f8"
REST_EVENT: dict[str, Any] = {
    "authorization": {"action": DELETE, "scope": DIAG_SETTING}, "caller": "admin@contoso.com",
    "channels": "Operation", "claims": CLAIMS,
    "correlationId": "1e121103-0ba6-4300-ac9d-952bb5d0c80f", "description": "",
    "eventDataId": EVENT_ID, "eventName": {"value": "EndRequest", "localizedValue": "End request"},
    "category": {"value": "Administrative", "localizedValue": "Administrative"},
    "eventTimestamp": "2025-03-03T22:14:26.9792776Z",
    "httpRequest": {"clientRequestId": "27003b25-91d3-418f-8eb1-29e537dcb249",
                    "clientIpAddress": "192.0.2.115", "method": "DELETE"},
    "id": f"{DIAG_SETTING}/events/{EVENT_ID}/ticks/638766344669792776",
    "level": "Informational", "operationId": "04e575f8-48d0-4c43-a8b3-78c4eb01d287",
    "operationName": {"value": DELETE, "localizedValue": "Delete diagnostic setting"},
    "resourceGroupName": "rg-contoso-ai",
    "resourceProviderName": {"value": "Microsoft.Insights", "localizedValue": "Microsoft.Insights"},
    "resourceType": {"value": "Microsoft.Insights/diagnosticSettings", "localizedValue": ""},
    "resourceId": DIAG_SETTING,
    "status": {"value": "Succeeded", "localizedValue": "Succeeded"},
    "subStatus": {"value": "OK", "localizedValue": "OK (HTTP Status Code: 200)"},
    "submissionTimestamp": "2025-03-03T22:14:39.9936304Z", "subscriptionId": SUB,
    "properties": {"statusCode": "OK"}, "relatedEvents": [],
}
# The REST API's own example has neither category nor resourceId (only the event's id).
REST_MINIMAL = {k: v for k, v in REST_EVENT.items() if k not in ("category", "resourceId")}
REST_PAGE = {"value": [REST_EVENT], "nextLink": "https://management.azure.com/...$skiptoken=##"}

# --- What the events must hold (docs/events.md) ---------------------------------------------
KEY = {"resource": AOAI.lower(), "account": SUB, "credential_id": f"azure-key:{AOAI.lower()}",
       "credential_kind": "api_key", "principal": None, "user_agent": None, "target": None}
MASKED = {"src_ip": "10.0.0.0/24", "src_ip_masked": True}
CHAT = KEY | MASKED | {
    "time": T("2024-05-24T12:23:02.435Z"), "operation": "ChatCompletions_Create",
    "model": "gpt-35-turbo", "deployment": "contoso-chat", "status_code": 200, "success": True,
    "request_bytes": 128, "response_bytes": 1411, "tokens_in": None}
GATEWAY_CHAT = {
    "time": T("2024-07-02T06:31:31.446590Z"), "operation": "ChatCompletions_Create",
    "resource": APIM.lower(), "account": SUB, "region": "eastus", "principal": None,
    "src_ip": "203.0.113.144", "src_ip_masked": False, "model": "gpt-35-turbo",
    "deployment": "contoso-chat"}
SUBSCRIPTION = f"apim-subscription:{APIM.lower()}"
ACTIVITY = {"account": SUB, "resource": AOAI.lower(), "credential_id": OID,
            "credential_kind": "entra", "principal": OID, "src_ip_masked": False}
# fmt: on


def _check(parser: str, record: dict[str, Any], want: dict[str, Any]) -> Event:
    """The record's event, asserted to hold ``want``, to come without notes and from the
    parser that auto-detection picks."""
    assert detect_source(record) == parser
    event, problems = PARSERS[parser].parse(record, HERE)
    assert event is not None and problems == (), problems
    want = {"source": parser, "provider": "azure"} | want
    assert {name: getattr(event, name) for name in want} == want
    return event


def test_request_response_with_properties_as_text() -> None:
    expected = KEY | MASKED | {"time": T("2024-04-08T12:23:02.435Z"), "region": "eastus"}
    more = {"operation": "Create_Thread", "model": None, "deployment": None, "status_code": 200}
    sizes = {"success": True, "request_bytes": 2, "response_bytes": 113}
    _check("azure_openai", RR_THREAD, expected | more | sizes)


def test_chat_completion_record_and_its_diagnostics_rows() -> None:
    _check("azure_openai", RR_CHAT, CHAT | {"region": "eastus"})
    _check("azure_openai", DIAGNOSTICS_ROW, CHAT | {"region": None})
    unmasked = {"region": None, "src_ip": None, "src_ip_masked": None}
    _check("azure_openai", PROJECTED_ROW, CHAT | unmasked)


def test_audit_list_key_names_the_principal_and_the_resource() -> None:
    expected = {"time": T("2024-04-17T06:03:30Z"), "operation": "ListKey", "region": None}
    who = {"credential_id": OID, "credential_kind": "entra", "principal": OID, "src_ip": None}
    result = {"status_code": None, "success": None, "target": AOAI.lower()}
    _check("azure_openai", AUDIT, KEY | expected | who | result)


def test_apim_documented_sample_entry() -> None:
    expected = {"time": T("2020-10-14T17:05:11.42Z"), "operation": "GetSpeakers"}
    where = {"resource": APIM.lower(), "account": SUB, "region": "eastus"}
    key = {"credential_id": f"{SUBSCRIPTION}/master", "credential_kind": "api_key"}
    caller = {"principal": None, "src_ip": "198.51.100.24", "src_ip_masked": False}
    call = {"user_agent": None, "model": None, "deployment": None, "tokens_in": None}
    result = {"status_code": 200, "success": True, "request_bytes": 526, "response_bytes": 41583}
    _check("azure_apim", APIM_SAMPLE, expected | where | key | caller | call | result)


def test_apim_chat_completion_and_its_table_rows() -> None:
    body = {"tokens_in": 14, "tokens_out": 8, "status_code": 200, "success": True}
    verdict = {"filter_blocked": False, "filter_categories": None, "filter_severity": "safe"}
    request = {"jailbreak_detected": False, "request_hash": REQUEST_HASH}
    expected = GATEWAY_CHAT | body | verdict | request
    _check("azure_apim", APIM_CHAT, expected | {"credential_id": None, "user_agent": None})
    key = {"credential_id": f"{SUBSCRIPTION}/team-research", "credential_kind": "api_key"}
    _check("azure_apim", GATEWAY_ROW, expected | key | {"user_agent": "AzureOpenAI/Python 1.35.0"})
    llm = {"credential_id": None, "src_ip": None, "src_ip_masked": None, "status_code": None}
    _check("azure_apim", LLM_ROW, GATEWAY_CHAT | llm | {"tokens_in": 14, "tokens_out": 8})


def test_apim_prompt_blocked_by_a_custom_blocklist() -> None:
    result = {"time": T("2024-07-02T06:14:56.237187Z"), "status_code": 400, "success": False}
    body = {"error_code": "content_filter", "tokens_in": None, "filter_blocked": True}
    verdict = {"filter_categories": "custom_blocklists", "filter_severity": "safe"}
    _check("azure_apim", APIM_BLOCKED, result | body | verdict | {"jailbreak_detected": False})


def test_activity_administrative_record_from_storage() -> None:
    expected = {"time": T("2025-03-03T10:15:26.979277Z"), "src_ip": "198.51.100.11"}
    what = {"operation": "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/DEPLOYMENTS/WRITE"}
    target = {"target": f"{ARM_AOAI}/deployments/contoso-chat".lower()}
    # "global" is where the event was processed, not the resource's region (activity-log-schema)
    result = {"region": None, "status_code": 201, "success": True}
    _check("azure_activity", DEPLOY_WRITE, ACTIVITY | expected | what | target | result)


def test_activity_operation_category_records_are_mapped() -> None:
    rai = _check("azure_activity", RAI_WRITE, ACTIVITY | {"status_code": 201})
    assert rai.operation == "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/RAIPOLICIES/WRITE"
    assert rai.target == f"{ARM_AOAI}/raiPolicies/contoso-lenient".lower()
    start = {"status_code": None, "success": None, "error_code": None, "target": AOAI.lower()}
    _check("azure_activity", LIST_KEYS, ACTIVITY | start)


def test_activity_rest_shape() -> None:
    expected = {"time": T("2025-03-03T22:14:26.979277Z"), "operation": DELETE.upper()}
    caller = {"region": None, "src_ip": "192.0.2.115", "target": DIAG_SETTING.lower()}
    result = {"status_code": 200, "success": True}
    _check("azure_activity", REST_EVENT, ACTIVITY | expected | caller | result)


def test_activity_rest_api_example_without_category_or_resource_id() -> None:
    _check("azure_activity", REST_MINIMAL, ACTIVITY | {"target": DIAG_SETTING.lower()})


def _lines(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


# Blob names, and Event Hubs' {"records": [...]}: https://learn.microsoft.com/azure/azure-monitor/platform/resource-logs
def _blob(container: str, resource: str) -> str:
    """A diagnostic setting's blob in a storage account."""
    return f"{container}/resourceId={resource}/y=2024/m=05/d=24/h=12/m=00/PT1H.json"


def _ingest(tmp_path: Path, files: dict[str, str]) -> tuple[IngestReport, str]:
    """Ingest the files: the report, and the stored events counted by source and operation."""
    paths = []
    for name, text in files.items():
        path = tmp_path / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    with EventStore.open(tmp_path / "events.duckdb") as store:
        report = ingest_files(paths, store)
        query = "SELECT source, operation, count(*) FROM events GROUP BY ALL ORDER BY ALL"
        rows = store.connection.sql(query).fetchall()
    return report, ", ".join(" ".join(map(str, row)) for row in rows)


def _summary(report: IngestReport) -> str:
    """Per file: source, records/events/rejected, and why it was skipped if it was."""
    return " ".join(
        f"{f.source}:{f.records}/{f.events}/{f.rejected}" + (f"({f.skipped})" if f.skipped else "")
        for f in report.files
    )


def test_ingest_diagnostic_logs_as_delivered(tmp_path: Path) -> None:
    report, rows = _ingest(
        tmp_path,
        {
            _blob("insights-logs-requestresponse", AOAI): _lines(RR_THREAD, RR_CHAT),
            _blob("insights-logs-audit", AOAI): _lines(AUDIT),
            _blob("insights-logs-gatewaylogs", APIM): _lines(APIM_SAMPLE, APIM_CHAT),
            "eventhub/aoai.json": json.dumps({"records": [RR_THREAD, RR_CHAT, AUDIT]}),
            "eventhub/apim.json": json.dumps({"records": [APIM_CHAT, APIM_BLOCKED]}),
            "export.json": json.dumps([DIAGNOSTICS_ROW, PROJECTED_ROW, GATEWAY_ROW, LLM_ROW]),
        },
    )
    assert _summary(report) == (
        "azure_openai:2/2/0 azure_openai:1/1/0 azure_apim:2/2/0 "
        "azure_openai:3/3/0 azure_apim:2/2/0 azure_openai:4/4/0"
    )
    assert report.clean and report.stored == 10  # the Event Hubs copies are the blobs' records
    assert rows == (
        "azure_apim ChatCompletions_Create 4, azure_apim GetSpeakers 1, azure_openai "
        "ChatCompletions_Create 3, azure_openai Create_Thread 1, azure_openai ListKey 1"
    )


ACTIVITY_BLOB = _blob("insights-activity-logs", f"/SUBSCRIPTIONS/{SUB.upper()}")


def test_ingest_activity_log_as_delivered(tmp_path: Path) -> None:
    report, rows = _ingest(
        tmp_path,
        {
            ACTIVITY_BLOB: _lines(DEPLOY_WRITE),
            "eventhub/activity.json": json.dumps({"records": [DEPLOY_WRITE]}),
            "az-monitor-activity-log-list.json": json.dumps([REST_EVENT], indent=2),
        },
    )
    assert _summary(report) == " ".join(["azure_activity:1/1/0"] * 3)
    assert report.clean and report.stored == 2
    assert rows == (
        "azure_activity MICROSOFT.COGNITIVESERVICES/ACCOUNTS/DEPLOYMENTS/WRITE 1, "
        "azure_activity MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE 1"
    )


def test_ingest_activity_blob_of_operation_categories(tmp_path: Path) -> None:
    report, _ = _ingest(tmp_path, {ACTIVITY_BLOB: _lines(LIST_KEYS, RAI_WRITE)})
    assert _summary(report) == "azure_activity:2/2/0"


def test_ingest_activity_rest_api_page(tmp_path: Path) -> None:
    report, _ = _ingest(tmp_path, {"activity-logs-page.json": json.dumps(REST_PAGE, indent=2)})
    assert _summary(report) == "azure_activity:1/1/0"
