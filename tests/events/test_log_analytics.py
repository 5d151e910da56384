"""Log Analytics / Sentinel rows: the same events as the native records they stand for.

Each row is written here by hand from a native record of the conftest's factory, with the
columns Microsoft's table reference names, so the mapping tables are checked against examples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stormwatch.events import PARSERS, EventStore, IngestSettings, Location, detect_source
from stormwatch.events import ingest_files as ingest
from stormwatch.events.parsers import record_event_id
from stormwatch.events.parsers.log_analytics_tables import TABLES

HERE = Location("export.json", 3)
LOCATION_FIELDS = ("event_id", "raw_file", "raw_line")
# Log Analytics writes TimeGenerated with 7 fractional digits.
SEVEN_DIGITS = "2025-03-03T10:15:00.0000000Z"


def _fields(source: str, record: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    found, problems = PARSERS[source].fields(record, HERE)
    return found, [problem.reason for problem in problems]


def _same_event(source: str, native: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """The row's fields, asserted equal to the native record's but for id and location."""
    expected, expected_notes = _fields(source, native)
    found, notes = _fields(source, row)
    assert expected is not None and found is not None, (expected_notes, notes)
    assert notes == expected_notes
    assert {k: v for k, v in found.items() if k not in LOCATION_FIELDS} == {
        k: v for k, v in expected.items() if k not in LOCATION_FIELDS
    }
    return found


def _diagnostics_row(native: dict[str, Any]) -> dict[str, Any]:
    return {
        "TenantId": "11111111-2222-3333-4444-555555555555",
        "TimeGenerated": native["time"],
        "ResourceId": native["resourceId"],
        "_ResourceId": native["resourceId"].lower(),
        "Category": native["category"],
        "ResourceGroup": "RG-CONTOSO-AI",
        "SubscriptionId": "00000000-1111-2222-3333-444444444444",
        "ResourceProvider": "MICROSOFT.COGNITIVESERVICES",
        "Resource": "CONTOSO-AOAI-EASTUS",
        "ResourceType": "ACCOUNTS",
        "OperationName": native["operationName"],
        "ResultType": native["resultType"],
        "ResultSignature": native["resultSignature"],
        "ResultDescription": "",
        "DurationMs": native["durationMs"],
        "CallerIPAddress": native["callerIpAddress"],
        "CorrelationId": native["correlationId"],
        "location_s": native["location"],
        "properties_s": json.dumps(native["properties"]),
        "SourceSystem": "Azure",
        "Type": "AzureDiagnostics",
    }


def _gateway_row(native: dict[str, Any], headers_as_text: bool = False) -> dict[str, Any]:
    props = native["properties"]
    headers = props["requestHeaders"]
    return {
        "TimeGenerated": native["time"],
        "_ResourceId": native["resourceId"].lower(),
        "Category": "GatewayLogs",
        "OperationName": native["operationName"],
        "CallerIpAddress": native["callerIpAddress"],
        "CorrelationId": native["correlationId"],
        "Region": native["location"],
        "TotalTime": native["durationMs"],
        "Method": props["method"],
        "Url": props["url"],
        "ResponseCode": props["responseCode"],
        "BackendResponseCode": props["backendResponseCode"],
        "RequestSize": props["requestSize"],
        "ResponseSize": props["responseSize"],
        "ApimSubscriptionId": props["apimSubscriptionId"],
        "RequestHeaders": json.dumps(headers) if headers_as_text else headers,
        "RequestBody": props["requestBody"],
        "ResponseBody": props["responseBody"],
        "LastErrorReason": "",
        "IsRequestSuccess": props["responseCode"] < 400,
        "Type": "ApiManagementGatewayLogs",
    }


def _llm_row(native: dict[str, Any]) -> dict[str, Any]:
    props = native["properties"]
    return {
        "TenantId": "11111111-2222-3333-4444-555555555555",
        "TimeGenerated": native["time"],
        "_ResourceId": native["resourceId"].lower(),
        "_SubscriptionId": "00000000-1111-2222-3333-444444444444",
        "OperationName": native["operationName"],
        "CorrelationId": native["correlationId"],
        "Region": native["location"],
        "ApiVersion": props["apiVersion"],
        "DeploymentName": props["deploymentName"],
        "ModelName": props["modelName"],
        "PromptTokens": props["promptTokens"],
        "CompletionTokens": props["completionTokens"],
        "TotalTokens": props["totalTokens"],
        "IsStreamCompletion": props["isStreamCompletion"],
        "RequestId": props["requestId"],
        "SequenceNumber": props["sequenceNumber"],
        "RequestMessages": props["requestMessages"],
        "ResponseMessages": props["responseMessages"],
        "SourceSystem": "Azure",
        "Type": "ApiManagementGatewayLlmLog",
    }


def _activity_row(native: dict[str, Any]) -> dict[str, Any]:
    identity = native["identity"]
    return {
        "TimeGenerated": native["time"],
        "OperationName": "List Keys",
        "OperationNameValue": native["operationName"],
        "Level": native["level"],
        "ActivityStatusValue": native["resultType"],
        "ActivitySubstatusValue": "",
        "Caller": "ops@contoso.test",
        "CallerIpAddress": native["callerIpAddress"],
        "CorrelationId": native["correlationId"],
        "CategoryValue": native["category"],
        "Claims": json.dumps(identity["claims"]),
        "Authorization": json.dumps(identity["authorization"]),
        "Properties": json.dumps(native["properties"]),
        "ResourceId": native["resourceId"],
        "_ResourceId": native["resourceId"].lower(),
        "SubscriptionId": "00000000-1111-2222-3333-444444444444",
        "Type": "AzureActivity",
    }


def _cloudtrail_row(native: dict[str, Any]) -> dict[str, Any]:
    identity = native["userIdentity"]
    return {
        "TimeGenerated": native["eventTime"].replace("Z", ".0000000Z"),
        "EventVersion": native["eventVersion"],
        "EventSource": native["eventSource"],
        "EventName": native["eventName"],
        "EventTypeName": native["eventType"],
        "AWSRegion": native["awsRegion"],
        "SourceIpAddress": native["sourceIPAddress"],
        "UserAgent": native["userAgent"],
        "ErrorCode": native.get("errorCode", ""),
        "ErrorMessage": "",
        "RequestParameters": json.dumps(native["requestParameters"]),
        "ResponseElements": "",
        "RecipientAccountId": native["recipientAccountId"],
        "ReadOnly": native["readOnly"],
        "AwsEventId": native["eventID"],
        "AwsRequestId_": native["requestID"],
        "UserIdentityType": identity["type"],
        "UserIdentityPrincipalid": identity.get("principalId", ""),
        "UserIdentityArn": identity["arn"],
        "UserIdentityAccountId": identity.get("accountId", ""),
        "UserIdentityAccessKeyId": identity["accessKeyId"],
        "UserIdentityUserName": identity.get("userName", ""),
        "UserIdentityInvokedBy": "",
        "SessionMfaAuthenticated": False,
        "Type": "AWSCloudTrail",
    }


def test_azure_diagnostics_rows_are_azure_openai_events(records: Any) -> None:
    native = records.azure_openai()
    found = _same_event("azure_openai", native, _diagnostics_row(native))
    assert found["src_ip"] == "203.0.113.0/24" and found["src_ip_masked"] is True
    assert found["time"].microsecond == 123456 and found["status_code"] == 200
    audit = records.azure_openai(category="Audit", operationName="ListKey")
    audit["properties"] = {"objectId": "oid-7"}
    assert _same_event("azure_openai", audit, _diagnostics_row(audit))["target"] is not None


def test_gateway_log_rows_are_azure_apim_events(records: Any) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "content_filter",
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": {"jailbreak": {"filtered": True, "detected": True}},
                },
            }
        }
    )
    native = records.apim(body, status=400)
    for headers_as_text in (False, True):
        found = _same_event("azure_apim", native, _gateway_row(native, headers_as_text))
        assert found["user_agent"] == "AsyncOpenAI/Python 1.51.0"
        assert found["jailbreak_detected"] is True and found["status_code"] == 400


def _apim_diagnostics_row(native: dict[str, Any]) -> dict[str, Any]:
    """API Management in Azure diagnostics mode: typed columns, numbers as reals, no bodies."""
    props = native["properties"]
    return {
        "TimeGenerated": native["time"],
        "ResourceId": native["resourceId"],
        "Category": native["category"],
        "ResourceProvider": "MICROSOFT.APIMANAGEMENT",
        "OperationName": native["operationName"],
        "CallerIPAddress": native["callerIpAddress"],
        "CorrelationId": native["correlationId"],
        "location_s": native["location"],
        "totalTime_d": float(native["durationMs"]),
        "method_s": props["method"],
        "url_s": props["url"],
        "responseCode_d": float(props["responseCode"]),
        "backendResponseCode_d": float(props["backendResponseCode"]),
        "requestSize_d": float(props["requestSize"]),
        "responseSize_d": float(props["responseSize"]),
        "apimSubscriptionId_s": props["apimSubscriptionId"],
        "isRequestSuccess_b": props["responseCode"] < 400,
        "Type": "AzureDiagnostics",
    }


def test_apim_rows_of_azure_diagnostics_mode_are_azure_apim_events(records: Any) -> None:
    native = records.apim("")  # the mode logs no bodies: the same record without them
    for field in ("requestHeaders", "requestBody", "responseBody"):
        del native["properties"][field]
    row = _apim_diagnostics_row(native)
    assert detect_source(row) == "azure_apim"
    found = _same_event("azure_apim", native, row)
    assert (found["status_code"], found["request_bytes"]) == (200, 900)
    assert found["credential_id"].endswith("/team-research")
    assert found["deployment"] == "gpt4o-prod" and found["operation"] == "ChatCompletions_Create"
    llm = records.apim_llm()
    props = llm["properties"]
    llm_row = {
        "TimeGenerated": llm["time"],
        "ResourceId": llm["resourceId"],
        "Category": llm["category"],
        "OperationName": llm["operationName"],
        "CorrelationId": llm["correlationId"],
        "location_s": llm["location"],
        "deploymentName_s": props["deploymentName"],
        "modelName_s": props["modelName"],
        "promptTokens_d": float(props["promptTokens"]),
        "completionTokens_d": float(props["completionTokens"]),
        "sequenceNumber_d": 0.0,
        "Type": "AzureDiagnostics",
    }
    found = _same_event("azure_apim", llm, llm_row)
    assert (found["tokens_in"], found["tokens_out"], found["model"]) == (11, 1, "gpt-4o")


def test_gateway_llm_log_rows_are_azure_apim_events(records: Any) -> None:
    native = records.apim_llm()
    row = _llm_row(native)
    assert detect_source(row) == "azure_apim"
    found = _same_event("azure_apim", native, row)
    assert (found["tokens_in"], found["tokens_out"], found["deployment"]) == (11, 1, "gpt4o-prod")
    chunk = records.apim_llm(deploymentName="", modelName="", sequenceNumber=1)
    assert _fields("azure_apim", _llm_row(chunk)) == (None, ["LLM message record"])


def test_azure_activity_rows_are_azure_activity_events(records: Any) -> None:
    rai = f"{records.AOAI}/raiPolicies/lenient"
    # The table has no location column: the native record without one is the equivalent.
    native = records.activity("MICROSOFT.COGNITIVESERVICES/ACCOUNTS/RAIPOLICIES/WRITE", rai)
    del native["location"]
    found = _same_event("azure_activity", native, _activity_row(native))
    assert found["principal"] == "oid-ops-1" and found["status_code"] == 200
    assert found["resource"] == records.AOAI.lower() and found["success"] is True


def test_aws_cloudtrail_rows_are_cloudtrail_events(records: Any) -> None:
    native = records.cloudtrail()
    found = _same_event("cloudtrail", native, _cloudtrail_row(native))
    assert found["success"] is True and found["error_code"] is None  # ErrorCode "" is absent
    session = {"type": "AssumedRole", "accessKeyId": records.aws_key_id("ASIA"), "arn": "r"}
    failed = records.cloudtrail(
        userIdentity=session, errorCode="ValidationException", sourceIPAddress="AWS Internal"
    )
    found = _same_event("cloudtrail", failed, _cloudtrail_row(failed))
    assert found["credential_kind"] == "aws_session" and found["success"] is False


def test_bad_rows_are_rejected_for_the_native_reasons(records: Any) -> None:
    native = records.cloudtrail()
    row = _cloudtrail_row(native)
    del row["TimeGenerated"], native["eventTime"]
    assert _fields("cloudtrail", row)[1] == _fields("cloudtrail", native)[1] == ["missing time"]
    row["TimeGenerated"] = "yesterday"
    assert _fields("cloudtrail", row)[1] == ["invalid time"]
    native = records.azure_openai(props={"requestTime": None})
    row = _diagnostics_row(native) | {"TimeGenerated": ""}
    del native["time"]
    assert _fields("azure_openai", row)[1] == _fields("azure_openai", native)[1]
    assert _fields("azure_openai", row)[1] == ["missing time"]
    broken = _diagnostics_row(records.azure_openai()) | {"properties_s": "{not json"}
    assert _fields("azure_openai", broken) == (None, ["invalid properties"])


def test_unreadable_json_column_leaves_its_fields_empty(records: Any) -> None:
    row = _cloudtrail_row(records.cloudtrail()) | {"RequestParameters": '{"modelId": "anthr'}
    found, notes = _fields("cloudtrail", row)
    assert found is not None and found["model"] is None
    assert notes == ["invalid JSON column"]


def test_rows_are_recognised_and_native_records_are_not_claimed(records: Any) -> None:
    natives = {
        "azure_openai": records.azure_openai(),
        "azure_apim": records.apim("{}"),
        "azure_activity": records.activity("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "x"),
        "cloudtrail": records.cloudtrail(),
        "azure_apim_llm": records.apim_llm(),
    }
    rows = {
        "azure_openai": _diagnostics_row(natives["azure_openai"]),
        "azure_apim": _gateway_row(natives["azure_apim"]),
        "azure_activity": _activity_row(natives["azure_activity"]),
        "cloudtrail": _cloudtrail_row(natives["cloudtrail"]),
        "azure_apim_llm": _llm_row(natives["azure_apim_llm"]),
    }
    sources = {name: name.removesuffix("_llm") for name in rows}
    assert {name: detect_source(row) for name, row in rows.items()} == sources
    for name, native in natives.items():
        assert not any(shape.matches(native) for shape in TABLES), name
        found, _ = _fields(sources[name], native)
        assert found is not None and found["event_id"] == record_event_id(sources[name], native)
    other_service = rows["azure_openai"] | {"Category": "AuditEvent"}  # a Key Vault row
    assert detect_source(other_service) is None
    assert detect_source(rows["azure_openai"] | {"Category": {"value": "Audit"}}) is None


def test_event_id_hashes_the_row_as_read(records: Any) -> None:
    row = _cloudtrail_row(records.cloudtrail())
    found, _ = _fields("cloudtrail", row)
    again, _ = _fields("cloudtrail", dict(reversed(list(row.items()))))
    assert found is not None and again is not None
    assert found["event_id"] == again["event_id"] == record_event_id("cloudtrail", row)


def test_table_mappings_are_consistent() -> None:
    for shape in TABLES:
        assert shape.source in PARSERS, shape.table
        assert set(shape.marker) <= set(shape.columns), shape.table
        assert shape.json_columns <= set(shape.columns), shape.table
        assert {column for column, _ in shape.accepted} <= set(shape.marker), shape.table
        paths = set(shape.columns.values()) | {path for path, _ in shape.constants}
        nested = [(a, b) for a in paths for b in paths if b.startswith(a + ".")]
        assert not nested, (shape.table, nested)


@pytest.mark.parametrize("indent", [None, 2], ids=["one-line", "pretty"])
def test_json_array_export_ingests_once(tmp_path: Path, records: Any, indent: int | None) -> None:
    rows = [
        _diagnostics_row(records.azure_openai()),
        _gateway_row(records.apim("{}")),
        _activity_row(records.activity("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "x")),
        _cloudtrail_row(records.cloudtrail()),
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(rows, indent=indent))
    copy = tmp_path / "again" / "export.json"
    copy.parent.mkdir()
    copy.write_text(json.dumps(rows))
    with EventStore.open(tmp_path / "events.duckdb") as store:
        first = ingest([path], store)
        second = ingest([copy], store)
        sources = store.connection.sql("SELECT source, raw_line FROM events ORDER BY 2").fetchall()
    assert (first.stored, first.rejected, second.stored, second.duplicates) == (4, 0, 0, 4)
    assert sources == [
        ("azure_openai", 1),
        ("azure_apim", 2),
        ("azure_activity", 3),
        ("cloudtrail", 4),
    ]


def test_forced_source_reads_its_table_rows(tmp_path: Path, records: Any, jsonl: Any) -> None:
    rows = [_cloudtrail_row(records.cloudtrail()), records.cloudtrail()]
    path = jsonl(tmp_path / "ct.jsonl", rows)
    with EventStore.open(tmp_path / "events.duckdb") as store:
        report = ingest([path], store, IngestSettings(source="cloudtrail"))
    assert (report.stored, report.rejected) == (2, 0)


def test_rest_api_query_result_is_read_as_its_rows(tmp_path: Path, records: Any) -> None:
    """The REST API's ``{"tables": [{"columns", "rows"}]}``: the same rows, the same events (and
    ids) as the objects ``az monitor log-analytics query`` writes; a row of the wrong length is
    rejected, not dropped."""
    rows = [_diagnostics_row(records.azure_openai()), _cloudtrail_row(records.cloudtrail())]
    tables = []
    for row in rows:  # one table per query, as two queries saved into one result would be
        names = list(row)
        columns = [{"name": name, "type": "string"} for name in names]
        tables.append({"name": "PrimaryResult", "columns": columns, "rows": [list(row.values())]})
    tables[0]["rows"].append(["2025-03-03T10:15:00Z"])
    result = tmp_path / "query.json"
    result.write_text(json.dumps({"tables": tables, "statistics": {"query": {}}}, indent=2))
    objects = tmp_path / "objects.json"
    objects.write_text(json.dumps(rows))
    with EventStore.open(tmp_path / "events.duckdb") as store:
        first = ingest([result], store)
        second = ingest([objects], store)
        sources = store.connection.sql("SELECT source FROM events ORDER BY raw_line").fetchall()
    (file,) = first.files
    assert (file.stored, file.rejected, dict(file.reasons)) == (2, 1, {"unknown record shape": 1})
    assert (second.stored, second.duplicates) == (0, 2)
    assert sources == [("azure_openai",), ("cloudtrail",)]
