"""Per-source parsers on small records built here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from stormwatch.events import PARSERS, Location, detect_source
from stormwatch.events.parsers.content_filter import verdict_of

HERE = Location("test.jsonl", 7)


def _parse(source: str, record: dict[str, object]):  # type: ignore[no-untyped-def]
    return PARSERS[source].parse(record, HERE)


def test_cloudtrail_long_term_key_and_model(records: Any) -> None:
    record = records.cloudtrail()
    event, notes = _parse("cloudtrail", record)
    assert event is not None and notes == ()
    assert event.credential_id == record["userIdentity"]["accessKeyId"]
    assert event.credential_kind == "aws_long_term"
    assert event.model == "anthropic.claude-3-haiku-20240307-v1:0"
    assert event.time == datetime(2025, 3, 3, 10, 15, tzinfo=UTC)
    assert (event.raw_file, event.raw_line) == ("test.jsonl", 7)
    assert event.success is True and event.src_ip == "198.51.100.23"


def test_cloudtrail_session_key_error_and_padded_ip(records: Any) -> None:
    identity = {"type": "AssumedRole", "accessKeyId": records.aws_key_id("ASIA"), "arn": "r"}
    record = records.cloudtrail(
        userIdentity=identity,
        sourceIPAddress="035.249.253.232",
        errorCode="ValidationException",
    )
    event, notes = _parse("cloudtrail", record)
    assert event is not None
    assert event.credential_kind == "aws_session"
    assert event.src_ip == "35.249.253.232" and event.src_ip_masked is False
    # kept, and said: the report locates such values
    assert [(n.reason, n.detail) for n in notes] == [
        ("padded ip", "035.249.253.232 read as 35.249.253.232")
    ]
    assert event.error_code == "ValidationException" and event.success is False


def test_cloudtrail_service_name_ip_is_a_note_not_a_crash(records: Any) -> None:
    event, notes = _parse("cloudtrail", records.cloudtrail(sourceIPAddress="bedrock.amazonaws.com"))
    assert event is not None and event.src_ip is None
    assert [note.reason for note in notes] == ["service name as ip"]


def test_cloudtrail_quarantine_policy_is_in_target(records: Any) -> None:
    policy = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
    record = records.cloudtrail(
        eventSource="iam.amazonaws.com",
        eventName="AttachUserPolicy",
        requestParameters={"userName": "build-bot", "policyArn": policy},
    )
    event, _ = _parse("cloudtrail", record)
    assert event is not None
    assert event.target == f"build-bot;{policy}"
    assert "AWSCompromisedKeyQuarantine" in (event.target or "")


def test_cloudtrail_bedrock_api_key_creation_names_user_and_service(records: Any) -> None:
    record = records.cloudtrail(
        eventSource="iam.amazonaws.com",
        eventName="CreateServiceSpecificCredential",
        requestParameters={"userName": "svc-tailspin", "serviceName": "bedrock.amazonaws.com"},
    )
    event, _ = _parse("cloudtrail", record)
    assert event is not None
    assert event.target == "svc-tailspin;bedrock.amazonaws.com"


def test_cloudtrail_bedrock_api_keys_are_their_own_credential_kind(records: Any) -> None:
    phantom = f"arn:aws:iam::{records.cloudtrail()['recipientAccountId']}:user/BedrockAPIKey-7q2x"
    long_term = records.cloudtrail(
        userIdentity={"type": "IAMUser", "arn": phantom, "userName": "BedrockAPIKey-7q2x"},
        additionalEventData={"callWithBearerToken": True},
    )
    session_key = records.aws_key_id("ASIA")
    short_term = records.cloudtrail(
        userIdentity={"type": "AssumedRole", "arn": "r", "accessKeyId": session_key},
        additionalEventData={"callWithBearerToken": True},
    )
    mantle = records.cloudtrail(
        eventSource="bedrock-mantle.amazonaws.com",
        eventName="CreateInference",
        requestParameters={"callWithBearerToken": True, "bearerTokenType": "ABSK"},
    )
    odd = records.cloudtrail(additionalEventData={"callWithBearerToken": ["not", "a", "flag"]})
    found = [_parse("cloudtrail", record)[0] for record in (long_term, short_term, mantle, odd)]
    assert [(e.credential_id, e.credential_kind) for e in found if e is not None] == [
        (f"bedrock-api-key:{phantom}", "bedrock_api_key"),
        (session_key, "bedrock_api_key_session"),
        (f"bedrock-api-key:{mantle['userIdentity']['arn']}", "bedrock_api_key"),
        (odd["userIdentity"]["accessKeyId"], "aws_long_term"),
    ]


def test_cloudtrail_bad_time_is_rejected(records: Any) -> None:
    event, problems = _parse("cloudtrail", records.cloudtrail(eventTime="1970-01-01T00:00:00Z"))
    assert event is None and problems[0].reason == "timestamp out of range"
    event, problems = _parse("cloudtrail", records.cloudtrail(eventTime="yesterday"))
    assert event is None and problems[0].reason == "invalid time"


def test_cloudtrail_event_in_eventbridge_envelope(records: Any) -> None:
    event = records.cloudtrail(eventName="Converse", errorCode="AccessDeniedException")
    envelope = {
        "version": "0",
        "id": f"{records.rng.getrandbits(128):032x}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.bedrock",
        "account": "123456789012",
        "time": "2025-03-03T10:15:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": event,
    }
    assert detect_source(envelope) == "cloudtrail"
    wrapped, _ = _parse("cloudtrail", envelope)
    bare, _ = _parse("cloudtrail", event)
    assert wrapped is not None and wrapped == bare  # same id: one call, however it arrived
    assert wrapped.operation == "Converse" and wrapped.error_code == "AccessDeniedException"
    empty, problems = _parse("cloudtrail", envelope | {"detail": None})
    assert empty is None and problems[0].reason == "unknown record shape"
    assert "detail-type" in problems[0].detail


def test_azure_openai_key_auth_masked_ip(records: Any) -> None:
    event, _ = _parse("azure_openai", records.azure_openai())
    assert event is not None
    assert event.src_ip == "203.0.113.0/24" and event.src_ip_masked is True
    assert event.resource == event.resource.lower() if event.resource else False
    assert event.credential_id == f"azure-key:{event.resource}"
    assert event.credential_kind == "api_key" and event.principal is None
    assert event.status_code == 200 and event.success is True
    assert event.account == "00000000-1111-2222-3333-444444444444"
    assert (event.model, event.deployment) == ("gpt-4o", "gpt4o-prod")
    assert (event.request_bytes, event.response_bytes) == (512, 2048)
    assert event.time.microsecond == 123456


def test_azure_openai_properties_as_string_and_entra(records: Any) -> None:
    record = records.azure_openai(properties_as_string=True, props={"objectId": "oid-42"})
    record["resultSignature"] = "429"
    event, _ = _parse("azure_openai", record)
    assert event is not None
    assert event.principal == "oid-42" and event.credential_kind == "entra"
    assert event.status_code == 429 and event.success is False


def test_azure_openai_dotnet_ticks_when_no_time(records: Any) -> None:
    record = records.azure_openai()
    del record["time"]
    event, _ = _parse("azure_openai", record)
    assert event is not None
    assert event.time == datetime(2025, 3, 3, 10, 15, tzinfo=UTC)


def test_azure_openai_bad_properties_and_sizes(records: Any) -> None:
    event, problems = _parse("azure_openai", records.azure_openai(properties="{not json"))
    assert event is None and problems[0].reason == "invalid properties"
    event, problems = _parse("azure_openai", records.azure_openai(props={"requestLength": -5}))
    assert event is None and problems[0].reason == "negative size"


def test_azure_openai_audit_listkey(records: Any) -> None:
    record = records.azure_openai(category="Audit", operationName="ListKey")
    record["properties"] = {"objectId": "oid-7"}
    event, _ = _parse("azure_openai", record)
    assert event is not None
    assert event.operation == "ListKey" and event.principal == "oid-7"
    assert event.target == event.resource


def test_azure_openai_minimal_audit_record() -> None:
    # As the service writes ListKey audits: no caller IP, result, duration or location.
    record = {
        "category": "Audit",
        "operationName": "ListKey",
        "properties": {"objectId": "oid-ops-2"},
        "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/"
        "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/FABRIKAM-AOAI",
        "time": "2025-03-03T06:03:30.0000000Z",
    }
    event, notes = _parse("azure_openai", record)
    assert event is not None and notes == ()
    assert (event.principal, event.src_ip, event.status_code, event.success) == (
        "oid-ops-2",
        None,
        None,
        None,
    )


def _completion(filters: dict[str, object]) -> str:
    return json.dumps(
        {
            "model": "gpt-4o-2024-08-06",
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": filters}],
            "choices": [
                {"content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}}
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 5},
        }
    )


def test_apim_completion_tokens_user_agent_and_hash(records: Any) -> None:
    safe = {"sexual": {"filtered": False, "severity": "low"}}
    record = records.apim(_completion(safe))
    event, _ = _parse("azure_apim", record)
    assert event is not None
    assert event.operation == "ChatCompletions_Create" and event.deployment == "gpt4o-prod"
    assert event.user_agent == "AsyncOpenAI/Python 1.51.0"
    assert (event.tokens_in, event.tokens_out) == (11, 5)
    assert event.filter_blocked is False and event.filter_severity == "low"
    assert event.jailbreak_detected is False
    assert event.credential_id == f"apim-subscription:{records.APIM.lower()}/team-research"
    assert event.request_hash is not None and len(event.request_hash) == 64
    assert event.src_ip == "192.0.2.10" and event.src_ip_masked is False


def test_apim_url_without_openai_prefix(records: Any) -> None:
    record = records.apim("{}")
    record["properties"]["url"] = (
        "https://fabrikam-apim.azure-api.net/deployments/gpt4o-prod/chat/completions?api-version=1"
    )
    event, _ = _parse("azure_apim", record)
    assert event is not None
    assert (event.operation, event.deployment) == ("ChatCompletions_Create", "gpt4o-prod")


def test_apim_blocked_prompt(records: Any) -> None:
    body = json.dumps(
        {
            "error": {
                "code": "content_filter",
                "status": 400,
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": {
                        "sexual": {"filtered": True, "severity": "high"},
                        "violence": {"filtered": False, "severity": "medium"},
                        "jailbreak": {"filtered": True, "detected": True},
                    },
                },
            }
        }
    )
    event, _ = _parse("azure_apim", records.apim(body, status=400))
    assert event is not None
    assert event.status_code == 400 and event.error_code == "content_filter"
    assert event.filter_blocked is True
    assert event.filter_categories == "jailbreak,sexual"
    assert event.filter_severity == "high" and event.jailbreak_detected is True


def test_apim_truncated_body_keeps_event(records: Any) -> None:
    event, problems = _parse("azure_apim", records.apim('{"choices": [{"content_fi'))
    assert event is not None and problems == ()
    assert event.filter_blocked is None and event.tokens_in is None


def test_apim_backend_body_stands_in_when_frontend_body_is_not_logged(records: Any) -> None:
    record = records.apim("")
    props = record["properties"]
    props["backendResponseBody"] = _completion({"hate": {"filtered": False, "severity": "low"}})
    props["backendRequestBody"], props["requestBody"] = props["requestBody"], ""
    event, _ = _parse("azure_apim", record)
    assert event is not None
    assert (event.tokens_in, event.tokens_out) == (11, 5) and event.model == "gpt-4o-2024-08-06"
    assert event.filter_severity == "low" and event.request_hash is not None


def test_apim_llm_log_call_record(records: Any) -> None:
    event, notes = _parse("azure_apim", records.apim_llm())
    assert event is not None and notes == ()
    assert (event.model, event.deployment) == ("gpt-4o", "gpt4o-prod")
    assert (event.tokens_in, event.tokens_out) == (11, 1)
    assert event.operation == "ChatCompletions_Create" and event.provider == "azure"
    assert event.resource == records.APIM.lower()
    assert event.account == "00000000-1111-2222-3333-444444444444"
    # The category carries no caller, no key and no status: those stay in GatewayLogs.
    assert (event.credential_id, event.src_ip, event.status_code) == (None, None, None)


def test_apim_llm_log_message_records_are_not_calls(records: Any) -> None:
    chunk = records.apim_llm(
        deploymentName="", modelName="", promptTokens=0, completionTokens=0, sequenceNumber=2
    )
    event, problems = _parse("azure_apim", chunk)
    assert event is None and problems[0].reason == "LLM message record" and problems[0].ignore
    event, problems = _parse("azure_apim", records.apim_llm(completionTokens=-1))
    assert event is None and problems[0].reason == "negative tokens"


def test_custom_blocklist_block_names_its_category() -> None:
    # As Azure writes it: custom_blocklists is a list, one entry per matching blocklist.
    result = {
        "custom_blocklists": [{"filtered": True, "id": "ContosoBlocklist"}],
        "hate": {"filtered": False, "severity": "safe"},
        "profanity": {"filtered": False, "detected": False},
    }
    error = {"code": "content_filter", "innererror": {"content_filter_result": result}}
    verdict = verdict_of({"error": error})
    assert verdict.blocked is True and verdict.categories == "custom_blocklists"
    assert verdict.severity == "safe" and verdict.jailbreak is False
    passed = verdict_of({"choices": [{"content_filter_results": {"custom_blocklists": []}}]})
    assert passed.blocked is False and passed.categories is None


def test_image_generation_verdicts() -> None:
    # DALL-E 3 blocks with its own code and inner_error; an image answer reports per item.
    flagged = {"sexual": {"filtered": True, "severity": "high"}, "hate": {"filtered": False}}
    inner = {"code": "ResponsibleAIPolicyViolation", "content_filter_results": flagged}
    for code in ("content_policy_violation", "contentFilter"):
        verdict = verdict_of({"error": {"code": code, "inner_error": inner}})
        assert (verdict.blocked, verdict.categories, verdict.severity) == (True, "sexual", "high")
    safe = {"hate": {"filtered": False, "severity": "safe"}}
    attack = {"jailbreak": {"filtered": False, "detected": True}}
    image = {"url": "https://images.example/1.png", "content_filter_results": safe}
    verdict = verdict_of({"data": [image | {"prompt_filter_results": attack}]})
    assert (verdict.blocked, verdict.severity, verdict.jailbreak) == (False, "safe", True)
    assert verdict_of({"data": [{"embedding": [0.1], "index": 0}]}).blocked is None


def test_filter_verdict_without_results_is_empty() -> None:
    assert verdict_of({"id": "x"}).blocked is None


def test_activity_rai_policy_write_joins_account(records: Any) -> None:
    account = records.APIM.replace("MICROSOFT.APIMANAGEMENT/SERVICE/CONTOSO-APIM", "")
    resource = account + "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/CONTOSO-AOAI/RAIPOLICIES/LOOSE"
    operation = "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/RAIPOLICIES/WRITE"
    event, _ = _parse("azure_activity", records.activity(operation, resource))
    assert event is not None
    assert event.resource and event.resource.endswith("/accounts/contoso-aoai")
    assert event.target == resource.lower()
    assert event.principal == "oid-ops-1" and event.credential_kind == "entra"
    assert event.status_code == 200 and event.success is True


def test_bedrock_invocation_tokens_and_negative_tokens(records: Any) -> None:
    event, _ = _parse("bedrock_invocation", records.invocation())
    assert event is not None and (event.tokens_in, event.tokens_out) == (120, 40)
    assert event.principal and event.principal.endswith(":user/build-bot")
    bad = records.invocation(input={"inputTokenCount": -3})
    event, problems = _parse("bedrock_invocation", bad)
    assert event is None and problems[0].reason == "negative tokens"


def test_litellm_spend_row(records: Any) -> None:
    record = records.litellm()
    event, _ = _parse("litellm", record)
    assert event is not None
    assert event.credential_id == f"litellm:{record['api_key']}"
    assert event.credential_kind == "key_hash" and event.cost_usd == 0.00042
    assert event.user_agent == "OpenAI/Python 1.51.0" and event.deployment == "team-default"
    assert event.success is True and event.time.tzinfo is UTC


def test_litellm_failure_and_metadata_as_text(records: Any) -> None:
    meta = {
        "status": "failure",
        "error_information": {"error_code": "401", "error_class": "AuthenticationError"},
    }
    record = records.litellm(status="failure", metadata=json.dumps(meta), spend=0.0)
    event, _ = _parse("litellm", record)
    assert event is not None
    assert event.success is False and event.status_code == 401
    assert event.error_code == "AuthenticationError"


def test_litellm_standard_logging_payload(records: Any) -> None:
    record = records.litellm_payload()
    assert detect_source(record) == "litellm"
    event, notes = _parse("litellm", record)
    assert event is not None and notes == ()
    assert event.time == datetime(2025, 3, 3, 11, 6, 40, 250000, tzinfo=UTC)
    assert event.credential_id == f"litellm:{record['metadata']['user_api_key_hash']}"
    assert event.cost_usd == 0.00042 and (event.tokens_in, event.tokens_out) == (120, 40)
    assert event.principal == "user-ops" and event.account == "team-research"
    assert event.src_ip == "192.0.2.44" and event.success is True
    assert event.error_code is None and event.status_code is None


def test_litellm_standard_logging_payload_failure(records: Any) -> None:
    error = {"error_code": "429", "error_class": "RateLimitError", "llm_provider": "openai"}
    record = records.litellm_payload(
        status="failure", response_cost=0.0, error_information=error, completion_tokens=0
    )
    event, _ = _parse("litellm", record)
    assert event is not None and event.success is False
    assert (event.status_code, event.error_code) == (429, "RateLimitError")
    assert event.cost_usd == 0.0


def test_openai_audit_session_actor(records: Any) -> None:
    event, _ = _parse("openai_audit", records.openai_audit())
    assert event is not None
    assert event.operation == "api_key.created" and event.target == "key_abc"
    assert event.principal == "user-ops" and event.src_ip == "198.51.100.8"
    failed, _ = _parse("openai_audit", records.openai_audit("login.failed"))
    assert failed is not None and failed.success is False


def test_auto_detection_names_each_source(records: Any) -> None:
    samples = {
        "cloudtrail": records.cloudtrail(),
        "azure_openai": records.azure_openai(),
        "azure_apim": records.apim("{}"),
        "azure_apim_llm": records.apim_llm(),
        "azure_activity": records.activity(
            "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", records.APIM
        ),
        "bedrock_invocation": records.invocation(),
        "litellm": records.litellm(),
        "openai_audit": records.openai_audit(),
    }
    assert {name: detect_source(record) for name, record in samples.items()} == {
        name: name.removesuffix("_llm") for name in samples
    }
    assert detect_source({"hello": "world"}) is None


def test_event_id_ignores_key_order_and_whitespace(records: Any) -> None:
    record = records.cloudtrail()
    reordered = dict(reversed(list(record.items())))
    first, _ = _parse("cloudtrail", record)
    second, _ = PARSERS["cloudtrail"].parse(reordered, Location("elsewhere.json", 1))
    assert first is not None and second is not None
    assert first.event_id == second.event_id


def test_unknown_shape_is_rejected_by_every_parser() -> None:
    for parser in PARSERS.values():
        event, problems = parser.parse({"unrelated": 1}, HERE)
        assert event is None and problems, parser.name


def test_public_surface_is_exported() -> None:
    import stormwatch.events as events

    assert all(hasattr(events, name) for name in events.__all__)
    assert set(PARSERS) == set(events.SOURCE_NAMES)


def test_masked_padded_ip_is_the_network_with_a_note(records: Any) -> None:
    event, notes = _parse("azure_openai", records.azure_openai(callerIpAddress="010.020.030.***"))
    assert event is not None and event.src_ip == "10.20.30.0/24" and event.src_ip_masked
    assert [note.reason for note in notes] == ["padded ip"]
    event, notes = _parse("azure_openai", records.azure_openai(callerIpAddress="10.20.30.***"))
    assert event is not None and event.src_ip == "10.20.30.0/24" and notes == ()
