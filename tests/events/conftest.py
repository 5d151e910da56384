"""Builders of raw log records for the ingestion tests: fictional orgs, ids made at run time."""

from __future__ import annotations

import gzip
import json
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

BASE32 = string.ascii_uppercase + "234567"
SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
AOAI = (
    f"/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/RG-CONTOSO-AI/PROVIDERS/"
    "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/CONTOSO-AOAI-EASTUS"
)
APIM = (
    f"/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/RG-CONTOSO-AI/PROVIDERS/"
    "MICROSOFT.APIMANAGEMENT/SERVICE/CONTOSO-APIM"
)
ACCOUNT = "123456789012"


class RecordFactory:
    """Raw records in each source's format, reproducible per test."""

    APIM = APIM
    AOAI = AOAI

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def aws_key_id(self, prefix: str = "AKIA") -> str:
        return prefix + "".join(self.rng.choices(BASE32, k=16))

    def cloudtrail(self, **overrides: Any) -> dict[str, Any]:
        record: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDA" + "".join(self.rng.choices(BASE32, k=17)),
                "arn": f"arn:aws:iam::{ACCOUNT}:user/build-bot",
                "accountId": ACCOUNT,
                "accessKeyId": self.aws_key_id(),
                "userName": "build-bot",
            },
            "eventTime": "2025-03-03T10:15:00Z",
            "eventSource": "bedrock.amazonaws.com",
            "eventName": "InvokeModel",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.23",
            "userAgent": "Boto3/1.34.0 md/Botocore#1.34.0",
            "requestParameters": {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
            "responseElements": None,
            "requestID": f"req-{self.rng.getrandbits(64):016x}",
            "eventID": f"evt-{self.rng.getrandbits(64):016x}",
            "readOnly": True,
            "eventType": "AwsApiCall",
            "recipientAccountId": ACCOUNT,
        }
        record.update(overrides)
        return record

    def azure_openai(self, properties_as_string: bool = False, **overrides: Any) -> dict[str, Any]:
        props: Any = {
            "apiName": "Azure OpenAI API version 2024-10-21",
            "requestTime": 638765937000000000,
            "requestLength": 512,
            "responseTime": 638765937012000000,
            "responseLength": 2048,
            "objectId": "",
            "streamType": "Non-Streaming",
            "modelDeploymentName": "gpt4o-prod",
            "modelName": "gpt-4o",
            "modelVersion": "2024-08-06",
        }
        props.update(overrides.pop("props", {}))
        record: dict[str, Any] = {
            "time": "2025-03-03T10:15:00.1234567Z",
            "resourceId": AOAI,
            "category": "RequestResponse",
            "operationName": "ChatCompletions_Create",
            "resultType": "Success",
            "resultSignature": "200",
            "durationMs": 1200,
            "callerIpAddress": "203.0.113.***",
            "correlationId": f"{self.rng.getrandbits(128):032x}",
            "location": "eastus",
            "properties": json.dumps(props) if properties_as_string else props,
        }
        record.update(overrides)
        return record

    def apim(self, response_body: str, status: int = 200, **overrides: Any) -> dict[str, Any]:
        record: dict[str, Any] = {
            "time": "2025-03-03T10:15:00.5000000Z",
            "resourceId": APIM,
            "operationName": "Microsoft.ApiManagement/GatewayLogs",
            "category": "GatewayLogs",
            "durationMs": 900,
            "callerIpAddress": "192.0.2.10",
            "correlationId": f"{self.rng.getrandbits(128):032x}",
            "location": "East US",
            "properties": {
                "method": "POST",
                "url": "https://contoso-apim.azure-api.net/openai/deployments/gpt4o-prod/"
                "chat/completions?api-version=2024-10-21",
                "responseCode": status,
                "backendResponseCode": status,
                "requestSize": 900,
                "responseSize": 1400,
                "apimSubscriptionId": "team-research",
                "requestHeaders": {"user-agent": "AsyncOpenAI/Python 1.51.0"},
                "requestBody": '{"messages": [{"role": "user", "content": "hi"}]}',
                "responseBody": response_body,
            },
        }
        record.update(overrides)
        return record

    def apim_llm(self, **props: Any) -> dict[str, Any]:
        """A ``GatewayLlmLogs`` record shaped like the ApiManagementGatewayLlmLog columns."""
        properties: dict[str, Any] = {
            "apiVersion": "2024-10-21",
            "deploymentName": "gpt4o-prod",
            "modelName": "gpt-4o",
            "promptTokens": 11,
            "completionTokens": 1,
            "totalTokens": 12,
            "isStreamCompletion": False,
            "requestId": f"chatcmpl-{self.rng.getrandbits(64):016x}",
            "sequenceNumber": 0,
            "requestMessages": [{"role": "user", "content": "hi"}],
            "responseMessages": [{"role": "assistant", "content": "Hello"}],
        }
        properties.update(props)
        return {
            "time": "2025-03-03T10:15:00.5000000Z",
            "resourceId": APIM,
            "category": "GatewayLlmLogs",
            "operationName": "Microsoft.ApiManagement/GatewayLlmLogs",
            "correlationId": f"{self.rng.getrandbits(128):032x}",
            "location": "East US",
            "properties": properties,
        }

    def activity(self, operation: str, resource_id: str, **overrides: Any) -> dict[str, Any]:
        record: dict[str, Any] = {
            "time": "2025-03-03T10:15:00.0000000Z",
            "resourceId": resource_id,
            "operationName": operation,
            "category": "Administrative",
            "resultType": "Success",
            "resultSignature": "Succeeded.OK",
            "callerIpAddress": "198.51.100.77",
            "correlationId": f"{self.rng.getrandbits(128):032x}",
            "identity": {
                "authorization": {"scope": resource_id, "action": operation},
                "claims": {
                    "http://schemas.microsoft.com/identity/claims/objectidentifier": "oid-ops-1",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "ops@contoso.test",
                },
            },
            "level": "Information",
            "location": "global",
            "properties": {"statusCode": "OK", "eventCategory": "Administrative"},
        }
        record.update(overrides)
        return record

    def invocation(self, **overrides: Any) -> dict[str, Any]:
        record: dict[str, Any] = {
            "schemaType": "ModelInvocationLog",
            "schemaVersion": "1.0",
            "timestamp": "2025-03-03T10:15:00Z",
            "accountId": ACCOUNT,
            "identity": {"arn": f"arn:aws:iam::{ACCOUNT}:user/build-bot"},
            "region": "us-east-1",
            "requestId": f"{self.rng.getrandbits(64):016x}",
            "operation": "Converse",
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "input": {"inputContentType": "application/json", "inputTokenCount": 120},
            "output": {"outputContentType": "application/json", "outputTokenCount": 40},
        }
        record.update(overrides)
        return record

    def litellm(self, **overrides: Any) -> dict[str, Any]:
        record: dict[str, Any] = {
            "request_id": f"chatcmpl-{self.rng.getrandbits(64):016x}",
            "call_type": "acompletion",
            "api_key": f"{self.rng.getrandbits(256):064x}",
            "spend": 0.00042,
            "total_tokens": 160,
            "prompt_tokens": 120,
            "completion_tokens": 40,
            "startTime": "2025-03-03T10:15:00.250000",
            "endTime": "2025-03-03T10:15:01.250000",
            "model": "gpt-4o-mini",
            "model_group": "team-default",
            "api_base": "https://api.openai.com/v1",
            "user": "",
            "metadata": {
                "user_api_key_alias": "research-notebooks",
                "user_api_key_team_id": "team-research",
                "user_agent": "OpenAI/Python 1.51.0",
                "status": "success",
            },
            "requester_ip_address": "192.0.2.44",
            "status": "success",
        }
        record.update(overrides)
        return record

    def litellm_payload(self, **overrides: Any) -> dict[str, Any]:
        """A LiteLLM ``StandardLoggingPayload`` as its logging integrations write it."""
        record: dict[str, Any] = {
            "id": f"chatcmpl-{self.rng.getrandbits(64):016x}",
            "trace_id": f"{self.rng.getrandbits(128):032x}",
            "call_type": "acompletion",
            "response_cost": 0.00042,
            "status": "success",
            "total_tokens": 160,
            "prompt_tokens": 120,
            "completion_tokens": 40,
            "startTime": 1741000000.25,
            "endTime": 1741000001.25,
            "completionStartTime": 1741000000.75,
            "model": "gpt-4o-mini",
            "model_id": "model-deployment-1",
            "model_group": "team-default",
            "api_base": "https://api.openai.com/v1",
            "metadata": {
                "user_api_key_hash": f"{self.rng.getrandbits(256):064x}",
                "user_api_key_alias": "research-notebooks",
                "user_api_key_team_id": "team-research",
                "user_api_key_user_id": "user-ops",
                "requester_ip_address": "192.0.2.44",
            },
            "cache_hit": False,
            "end_user": "",
            "requester_ip_address": "192.0.2.44",
            "error_str": None,
            "error_information": {"error_code": "", "error_class": "", "llm_provider": ""},
        }
        record.update(overrides)
        return record

    def openai_audit(self, kind: str = "api_key.created", **overrides: Any) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": f"audit_log-{self.rng.getrandbits(64):016x}",
            "type": kind,
            "effective_at": 1741000000,
            "project": {"id": "proj_contoso", "name": "Contoso"},
            "actor": {
                "type": "session",
                "session": {
                    "user": {"id": "user-ops", "email": "ops@contoso.test"},
                    "ip_address": "198.51.100.8",
                    "user_agent": "Mozilla/5.0",
                    "ip_address_details": {"country": "US", "asn": "64500"},
                },
            },
            kind: {"id": "key_abc", "data": {"scopes": ["api.model.request"]}},
        }
        record.update(overrides)
        return record


def write_jsonl(path: Path, records: list[Any], compress: bool = False) -> Path:
    """Records as JSON Lines (gzip when ``compress``)."""
    data = "".join(json.dumps(record) + "\n" for record in records).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.fixture
def jsonl() -> Callable[..., Path]:
    return write_jsonl


@pytest.fixture
def records(request: pytest.FixtureRequest) -> RecordFactory:
    return RecordFactory(sum(map(ord, request.node.name)))
