"""LiteLLM spend logs and OpenAI organisation audit logs in the shapes their documentation gives.

Each record reproduces a documented shape (field names, nesting, JSON types, time formats) and
cites its source. People, organisations and ids are fictional placeholders; key-like values (a
virtual key's hash, an API key's tracking id) are made at run time, never written here. Records
are written as groups of related fields (``**{...}``) only to keep the file short.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stormwatch.events import PARSERS, Event, EventStore, Location, detect_source, ingest_files

HERE = Location("documented.jsonl", 3)
ALNUM = string.ascii_letters + string.digits
AGENT = "OpenAI/Python 1.51.0"
TAGS = ["User-Agent: OpenAI", f"User-Agent: {AGENT}"]
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
ROW_START = datetime(2025, 3, 3, 10, 15, 0, 250000, tzinfo=UTC)
PAYLOAD_START = datetime(2025, 3, 3, 11, 6, 40, 250000, tzinfo=UTC)  # 1741000000.25
AUDIT_AT = 1741000000
KEY = "<the key's tracking id>"


@dataclass(frozen=True, slots=True)
class Keys:
    """Key-like values of one test, made at run time from a seeded generator."""

    key_hash: str  # LiteLLM stores sha256(virtual key) as hex, never the key itself
    tracking_id: str  # OpenAI names an API key in audit logs by this tracking id


@pytest.fixture
def keys(request: pytest.FixtureRequest) -> Keys:
    rng = random.Random(sum(map(ord, request.node.name)))
    virtual_key = "sk-" + "".join(rng.choices(ALNUM, k=22))
    tracking_id = "key_" + "".join(rng.choices(ALNUM, k=16))
    return Keys(hashlib.sha256(virtual_key.encode()).hexdigest(), tracking_id)


def _event(source: str, record: dict[str, Any]) -> Event:
    assert detect_source(record) == source
    event, problems = PARSERS[source].parse(record, HERE)
    assert event is not None, problems
    assert problems == ()
    return event


def spend_row(keys: Keys) -> dict[str, Any]:
    """One ``LiteLLM_SpendLogs`` row as ``GET /spend/logs`` returns it (a bare JSON array of
    rows; Json columns as JSON values, DateTime columns as ISO 8601 UTC)."""
    # BerriAI/litellm schema.prisma `model LiteLLM_SpendLogs` (columns and defaults; api_key is
    # the "Hashed API Token"); docs/my-website/docs/proxy/cost_tracking.md "/spend/logs Response
    # Format" (metadata object, user_api_key = the hash); litellm/proxy/_types.py
    # SpendLogsMetadata; litellm/proxy/spend_tracking/spend_tracking_utils.py get_logging_payload
    # (user = user_api_key_user_id, team_id, UTC times, request_tags from the logging payload,
    # whose _get_user_agent_tags add "User-Agent: <product>" and "User-Agent: <agent>").
    metadata: dict[str, Any] = {
        **{"user_api_key": keys.key_hash, "user_api_key_alias": "contoso-research-notebooks"},
        **{"user_api_key_team_id": "team-0001", "user_api_key_org_id": None},
        **{"user_api_key_user_id": "user-0001", "user_api_key_team_alias": "contoso-research"},
        **{"spend_logs_metadata": None, "requester_ip_address": "198.51.100.23"},
        **{"applied_guardrails": [], "status": "success", "proxy_server_request": None},
        **{"batch_models": None, "error_information": None, "additional_usage_values": {}},
    }
    return {
        **{"request_id": "chatcmpl-00000000-0000-4000-8000-000000000001"},
        **{"call_type": "acompletion", "api_key": keys.key_hash, "spend": 0.000825},
        **{"total_tokens": 160, "prompt_tokens": 120, "completion_tokens": 40},
        **{"startTime": "2025-03-03T10:15:00.250000+00:00", "request_duration_ms": 1500},
        **{"endTime": "2025-03-03T10:15:01.750000+00:00"},
        **{"completionStartTime": "2025-03-03T10:15:00.900000+00:00"},
        **{"model": "gpt-4o-mini", "model_id": "model-0001", "model_group": "contoso-chat"},
        **{"custom_llm_provider": "openai", "api_base": "https://api.openai.com/v1"},
        **{"user": "user-0001", "metadata": metadata, "cache_hit": "False"},
        **{"cache_key": "Cache OFF", "request_tags": TAGS, "team_id": "team-0001"},
        **{"organization_id": "", "end_user": "", "requester_ip_address": "198.51.100.23"},
        **{"messages": {}, "response": {}, "session_id": "00000000-0000-4000-8000-00000000000a"},
        **{"status": "success", "mcp_namespaced_tool_name": None, "agent_id": None},
        **{"proxy_server_request": {}},
    }


def exported_row(keys: Keys) -> dict[str, Any]:
    """The same table exported from PostgreSQL as JSON lines (``row_to_json``): Prisma maps
    DateTime to ``timestamp(3)`` without zone, so times carry no offset (LiteLLM writes UTC)."""
    # BerriAI/litellm schema.prisma `LiteLLM_SpendLogs` (startTime DateTime, user String? "",
    # metadata Json?); a key with no user: `user` is "" and the key alias names the caller.
    row = spend_row(keys) | {"startTime": "2025-03-03T10:15:00.25", "user": ""}
    row |= {"endTime": "2025-03-03T10:15:01.75", "completionStartTime": "2025-03-03T10:15:00.9"}
    row["metadata"] = row["metadata"] | {"user_api_key_user_id": None}
    return row


def failed_row(keys: Keys) -> dict[str, Any]:
    """A failed call as LiteLLM builds the row (``SpendLogsPayload``): metadata, request_tags,
    messages, response and proxy_server_request are JSON text; times are aware UTC datetimes,
    here written with ``str()`` as ``json.dumps(default=str)`` does."""
    # BerriAI/litellm litellm/proxy/_types.py SpendLogsPayload (metadata: str "json str", status
    # Literal["success", "failure"]), SpendLogsMetadata.error_information;
    # litellm/types/utils.py StandardLoggingPayloadErrorInformation (error_code e.g. "429").
    error = {"error_code": "429", "error_class": "RateLimitError", "llm_provider": "openai"}
    error |= {"traceback": "Traceback (most recent call last): ...", "error_message": "limit"}
    metadata = spend_row(keys)["metadata"] | {"status": "failure", "error_information": error}
    return spend_row(keys) | {
        **{"request_id": "00000000-0000-4000-8000-000000000002", "spend": 0.0},
        **{"total_tokens": 0, "prompt_tokens": 0, "completion_tokens": 0},
        **{"startTime": "2025-03-03 10:20:00.500000+00:00"},
        **{"endTime": "2025-03-03 10:20:00.800000+00:00"},
        **{"completionStartTime": "2025-03-03 10:20:00.800000+00:00"},
        **{"metadata": json.dumps(metadata), "request_tags": json.dumps(TAGS)},
        **{"messages": "{}", "response": "{}", "proxy_server_request": "{}"},
        **{"status": "failure"},
    }


def logging_payload(keys: Keys) -> dict[str, Any]:
    """A ``StandardLoggingPayload`` as the S3 / GCS / generic API loggers write it."""
    # BerriAI/litellm litellm/types/utils.py StandardLoggingPayload, StandardLoggingMetadata
    # (+ StandardLoggingUserAPIKeyMetadata: user_api_key_hash ...), StandardLoggingHiddenParams;
    # docs/my-website/docs/proxy/logging_spec.md (startTime/endTime: float Unix seconds).
    base = "https://fabrikam-aoai.openai.azure.com"
    metadata: dict[str, Any] = {
        **{"user_api_key_hash": keys.key_hash, "user_api_key_alias": "fabrikam-support-bot"},
        **{"user_api_key_spend": 12.5, "user_api_key_max_budget": 100.0},
        **{"user_api_key_budget_reset_at": None, "user_api_key_org_id": None},
        **{"user_api_key_team_id": "team-0002", "user_api_key_user_id": "user-0002"},
        **{"user_api_key_user_email": "dana.reyes@fabrikam.example"},
        **{"user_api_key_team_alias": "fabrikam-support", "user_api_key_end_user_id": None},
        **{"user_api_key_request_route": "/chat/completions", "spend_logs_metadata": None},
        **{"requester_ip_address": "203.0.113.45", "user_agent": AGENT},
        **{"requester_metadata": {}, "requester_custom_headers": {}, "applied_guardrails": []},
        **{"usage_object": {"prompt_tokens": 1100}, "cold_storage_object_key": None},
    }
    hidden: dict[str, Any] = {"model_id": "model-0002", "cache_key": None, "api_base": base}
    hidden |= {"response_cost": 0.00425, "additional_headers": {}}
    return {
        **{"id": "chatcmpl-00000000-0000-4000-8000-000000000003"},
        **{"trace_id": "00000000-0000-4000-8000-00000000000b"},
        **{"litellm_call_id": "00000000-0000-4000-8000-00000000000c"},
        **{"call_type": "acompletion", "stream": False, "response_cost": 0.00425},
        **{"cost_breakdown": {"input_cost": 0.00275, "output_cost": 0.0015}},
        **{"response_cost_failure_debug_info": None, "status": "success"},
        **{"status_fields": {"llm_api_status": "success", "guardrail_status": "not_run"}},
        **{"custom_llm_provider": "azure", "total_tokens": 1250},
        **{"prompt_tokens": 1100, "completion_tokens": 150},
        **{"startTime": 1741000000.25, "endTime": 1741000001.5},
        **{"completionStartTime": 1741000000.9, "response_time": 1.25},
        **{"model_map_information": {"model_map_key": "azure/gpt-4o", "model_map_value": None}},
        **{"model": "azure/gpt-4o", "model_id": "model-0002", "model_group": "fabrikam-gpt4o"},
        **{"api_base": base, "metadata": metadata, "cache_hit": None, "cache_key": None},
        **{"saved_cache_cost": 0.0, "request_tags": TAGS, "end_user": ""},
        **{"requester_ip_address": "203.0.113.45", "user_agent": AGENT},
        **{"messages": [{"role": "user", "content": "Summarise ticket 1042."}]},
        **{"response": {"id": "chatcmpl-00000000-0000-4000-8000-000000000003", "choices": []}},
        **{"error_str": None, "error_information": None, "model_parameters": {}},
        **{"hidden_params": hidden, "guardrail_information": None},
        **{"standard_built_in_tools_params": None},
    }


# OpenAI Audit Logs API reference (platform.openai.com/docs/api-reference/audit-logs/object and
# developers.openai.com/api/reference/resources/organization/subresources/audit_logs): `id`,
# `type`, `effective_at` (integer Unix seconds), `project {id, name}` (absent for actions not
# scoped to a project), `actor {type: session|api_key, session {user {id, email}, ip_address,
# user_agent, ja3, ja4, ip_address_details}, api_key {id (tracking id), type:
# user|service_account, user, service_account {id}}}`, details under a key named like the type.
def audit(kind: str, actor: dict[str, Any], details: dict[str, Any] | None) -> dict[str, Any]:
    record = {"id": f"audit_log-{kind}-20250303", "type": kind, "effective_at": AUDIT_AT}
    record["actor"] = actor
    if not kind.startswith(("login.", "logout.", "organization.")):
        record["project"] = {"id": "proj_tailspin0001", "name": "Tailspin Support"}
    return record if details is None else record | {kind: details}


def session_actor() -> dict[str, Any]:
    where = {"country": "US", "city": "Springfield", "region": "Oregon", "region_code": "OR"}
    where |= {"asn": "64500", "latitude": "44.04620", "longitude": "-123.02200"}
    session: dict[str, Any] = {"user": {"id": "user-0003", "email": "ana.silva@tailspin.example"}}
    session |= {"ip_address": "192.0.2.18", "user_agent": BROWSER, "ip_address_details": where}
    session |= {"ja3": "0" * 32, "ja4": "t13d0000h2_000000000000_000000000000"}
    return {"type": "session", "session": session}


def key_actor(keys: Keys, service_account: bool = False) -> dict[str, Any]:
    owner: dict[str, Any] = (
        {"type": "service_account", "service_account": {"id": "svc_acct_tailspin01"}}
        if service_account
        else {"type": "user", "user": {"id": "user-0003", "email": "ana.silva@tailspin.example"}}
    )
    return {"type": "api_key", "api_key": {"id": keys.tracking_id, **owner}}


def test_spend_row_from_spend_logs_api(keys: Keys) -> None:
    event = _event("litellm", spend_row(keys))
    assert (event.time, event.operation, event.provider) == (ROW_START, "acompletion", "gateway")
    assert (event.credential_id, event.credential_kind) == (f"litellm:{keys.key_hash}", "key_hash")
    assert (event.principal, event.account) == ("user-0001", "team-0001")
    assert (event.src_ip, event.src_ip_masked) == ("198.51.100.23", False)
    assert (event.model, event.deployment) == ("gpt-4o-mini", "contoso-chat")
    assert (event.resource, event.target) == ("https://api.openai.com/v1", None)
    assert (event.success, event.status_code, event.error_code) == (True, None, None)
    assert (event.tokens_in, event.tokens_out, event.cost_usd) == (120, 40, 0.000825)


def test_spend_row_exported_without_offset_and_user(keys: Keys) -> None:
    event = _event("litellm", exported_row(keys))
    assert event.time == ROW_START  # no offset = UTC
    assert event.principal == "contoso-research-notebooks"  # the key alias
    assert event.credential_id == f"litellm:{keys.key_hash}" and event.success is True


def test_failed_row_with_metadata_as_json_text(keys: Keys) -> None:
    event = _event("litellm", failed_row(keys))
    assert event.time == datetime(2025, 3, 3, 10, 20, 0, 500000, tzinfo=UTC)
    assert (event.success, event.status_code, event.error_code) == (False, 429, "RateLimitError")
    assert (event.cost_usd, event.tokens_in, event.tokens_out) == (0.0, 0, 0)
    assert (event.principal, event.account) == ("user-0001", "team-0001")
    assert event.src_ip == "198.51.100.23"


@pytest.mark.parametrize("build", [spend_row, exported_row, failed_row])
def test_spend_row_user_agent_from_request_tags(keys: Keys, build: Any) -> None:
    assert _event("litellm", build(keys)).user_agent == AGENT


def test_standard_logging_payload(keys: Keys) -> None:
    event = _event("litellm", logging_payload(keys))
    assert (event.time, event.operation) == (PAYLOAD_START, "acompletion")
    assert (event.credential_id, event.credential_kind) == (f"litellm:{keys.key_hash}", "key_hash")
    assert (event.principal, event.account) == ("user-0002", "team-0002")
    assert (event.src_ip, event.user_agent) == ("203.0.113.45", AGENT)
    assert (event.model, event.deployment) == ("azure/gpt-4o", "fabrikam-gpt4o")
    assert (event.tokens_in, event.tokens_out, event.cost_usd) == (1100, 150, 0.00425)
    assert (event.success, event.status_code, event.error_code) == (True, None, None)


def test_standard_logging_payload_failure(keys: Keys) -> None:
    # litellm/types/utils.py: error_str and error_information sit at the top level on failure
    error = {"error_code": "401", "error_class": "AuthenticationError", "llm_provider": "azure"}
    error |= {"traceback": "Traceback (most recent call last): ...", "error_message": "denied"}
    record = logging_payload(keys) | {
        **{"status": "failure", "response_cost": 0.0, "completion_tokens": 0, "response": None},
        **{"status_fields": {"llm_api_status": "failure", "guardrail_status": "not_run"}},
        **{"error_str": "denied", "error_information": error, "total_tokens": 1100},
    }
    event = _event("litellm", record)
    assert (event.success, event.status_code) == (False, 401)
    assert (event.error_code, event.cost_usd) == ("AuthenticationError", 0.0)


def test_audit_api_key_created_in_a_dashboard_session(keys: Keys) -> None:
    details = {"id": keys.tracking_id, "data": {"scopes": ["api.model.request"]}}
    event = _event("openai_audit", audit("api_key.created", session_actor(), details))
    assert event.time == datetime(2025, 3, 3, 11, 6, 40, tzinfo=UTC)
    assert (event.operation, event.success, event.provider) == ("api_key.created", True, "openai")
    assert (event.principal, event.src_ip, event.user_agent) == ("user-0003", "192.0.2.18", BROWSER)
    assert (event.credential_id, event.credential_kind, event.account) == (None, None, None)
    assert (event.target, event.resource) == (keys.tracking_id, "proj_tailspin0001")


def test_audit_project_archived_with_a_user_key(keys: Keys) -> None:
    record = audit("project.archived", key_actor(keys), {"id": "proj_tailspin0001"})
    event = _event("openai_audit", record)
    assert (event.credential_id, event.credential_kind) == (keys.tracking_id, "api_key")
    assert (event.principal, event.src_ip, event.user_agent) == ("user-0003", None, None)
    assert (event.operation, event.target) == ("project.archived", "proj_tailspin0001")


def test_audit_service_account_created_with_a_service_account_key(keys: Keys) -> None:
    details = {"id": "svc_acct_tailspin02", "data": {"role": "member"}}
    record = audit("service_account.created", key_actor(keys, service_account=True), details)
    event = _event("openai_audit", record)
    assert (event.principal, event.credential_id) == ("svc_acct_tailspin01", keys.tracking_id)
    assert (event.target, event.success) == ("svc_acct_tailspin02", True)


FAILED_LOGIN = {"error_code": "invalid_credentials", "error_message": "Invalid password."}
# type: (details besides `id`, or None when the type has none; the `id`; success)
DETAILS: dict[str, tuple[dict[str, Any] | None, str | None, bool]] = {
    "api_key.updated": ({"changes_requested": {"scopes": ["api.all"]}}, KEY, True),
    "api_key.deleted": ({}, KEY, True),
    "invite.sent": ({"data": {"email": "lee@tailspin.example", "role": "owner"}}, "inv-02", True),
    "invite.accepted": ({}, "invite-0001", True),
    "login.succeeded": (None, None, True),
    "login.failed": (FAILED_LOGIN, None, False),
    "logout.failed": ({"error_code": "expired", "error_message": "Session expired."}, None, False),
    "organization.updated": ({"changes_requested": {"title": "Tailspin"}}, "org-tailspin01", True),
    "project.created": ({"data": {"name": "support", "title": "Support"}}, "proj_02", True),
    "service_account.deleted": ({}, "svc_acct_tailspin02", True),
}


@pytest.mark.parametrize("kind", sorted(DETAILS))
def test_audit_event_types_give_target_and_outcome(keys: Keys, kind: str) -> None:
    details, target, success = DETAILS[kind]
    target = keys.tracking_id if target == KEY else target
    if details is not None and target is not None:
        details = {"id": target} | details
    event = _event("openai_audit", audit(kind, session_actor(), details))
    assert (event.operation, event.target, event.success) == (kind, target, success)
    assert (event.principal, event.src_ip) == ("user-0003", "192.0.2.18")


@pytest.mark.parametrize("kind", ["login.failed", "logout.failed"])
def test_audit_failed_session_keeps_its_error_code(kind: str) -> None:
    event = _event("openai_audit", audit(kind, session_actor(), FAILED_LOGIN))
    assert event.error_code == "invalid_credentials"


def _ingest(tmp_path: Path, *paths: Path) -> list[tuple[str, int]]:
    with EventStore.open(tmp_path / "events.duckdb") as store:
        report = ingest_files(list(paths), store)
        rows = store.connection.sql("SELECT source, count(*) FROM events GROUP BY 1 ORDER BY 1")
        counts = [(str(source), int(count)) for source, count in rows.fetchall()]
    assert report.clean, [(f.path, f.reasons, f.samples) for f in report.files]
    assert [f.skipped for f in report.files] == [None] * len(paths)
    return counts


def test_documented_records_ingest_without_rejections(
    tmp_path: Path, keys: Keys, jsonl: Any
) -> None:
    api = tmp_path / "spend_logs_api.json"  # GET /spend/logs: one bare JSON array
    api.write_text(json.dumps([spend_row(keys), failed_row(keys)]))
    exported = jsonl(tmp_path / "spend_logs_export.jsonl", [exported_row(keys)])
    payloads = jsonl(tmp_path / "s3" / "standard_logging.jsonl", [logging_payload(keys)])
    actors = [session_actor(), key_actor(keys), key_actor(keys, service_account=True)]
    audits = [audit("api_key.deleted", actor, {"id": keys.tracking_id}) for actor in actors]
    audits.append(audit("login.failed", session_actor(), FAILED_LOGIN))
    audit_file = jsonl(tmp_path / "openai_audit.jsonl", audits)
    counts = _ingest(tmp_path, api, exported, payloads, audit_file)
    assert counts == [("litellm", 4), ("openai_audit", 4)]


def test_openai_audit_list_page_as_the_api_returns_it(tmp_path: Path, keys: Keys) -> None:
    # platform.openai.com/docs/api-reference/audit-logs/list: the example response
    created = {"id": keys.tracking_id, "data": {"scopes": ["api.model.request"]}}
    data = [audit("api_key.created", session_actor(), created)]
    data.append(audit("login.succeeded", session_actor(), None))
    page = {"object": "list", "data": data, "first_id": data[0]["id"]}
    page |= {"last_id": data[1]["id"], "has_more": False}
    (tmp_path / "audit_logs_page.json").write_text(json.dumps(page, indent=2))
    assert _ingest(tmp_path, tmp_path / "audit_logs_page.json") == [("openai_audit", 2)]


def test_litellm_paginated_spend_logs_page(tmp_path: Path, keys: Keys) -> None:
    # BerriAI/litellm litellm/proxy/spend_tracking/spend_management_endpoints.py
    # ui_view_spend_logs docstring: Returns {"data": List[LiteLLM_SpendLogs], "total": int,
    # "page": int, "page_size": int, "total_pages": int}
    page = {"data": [spend_row(keys), failed_row(keys)], "total": 2, "page": 1}
    page |= {"page_size": 50, "total_pages": 1}
    (tmp_path / "spend_logs_v2.json").write_text(json.dumps(page))
    assert _ingest(tmp_path, tmp_path / "spend_logs_v2.json") == [("litellm", 2)]
