"""LiteLLM proxy spend logs (rows of ``LiteLLM_SpendLogs`` exported as JSON) and the
``StandardLoggingPayload`` that LiteLLM's logging integrations write (S3, GCS, generic API ...).

``api_key`` is the hash of the virtual key the caller presented (the credential); ``model_group``
is the alias the caller asked for (the deployment); ``metadata`` (an object or JSON text) holds
the key alias, the user agent and, for failures, ``error_information``. The logging payload
names the same facts differently: ``id``, ``response_cost``, ``startTime`` in Unix seconds,
the key hash as ``metadata.user_api_key_hash`` and ``error_information`` at the top level.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import orjson

from stormwatch.events.parsers.azure_fields import header
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
from stormwatch.events.values import (
    Problem,
    amount_value,
    count_value,
    normalize_ip,
    parse_epoch_seconds,
    parse_iso_time,
    text,
)

SOURCE = "litellm"
# A virtual key's events name it by the sha256 of its text, as LiteLLM stores it.
CREDENTIAL_PREFIX = "litellm:"


def key_credential(key: str) -> str:
    """The credential id that a LiteLLM virtual key's events carry."""
    return CREDENTIAL_PREFIX + hashlib.sha256(key.encode()).hexdigest()


# The proxy tags each request with its agent: "User-Agent: <product>", then the whole agent.
AGENT_TAG = "User-Agent: "


def sniff(record: Record) -> bool:
    """A LiteLLM spend-log row or standard logging payload."""
    return "startTime" in record and (
        ("request_id" in record and "spend" in record)
        or ("id" in record and "response_cost" in record)
    )


def _start_time(value: object) -> tuple[datetime | None, Problem | None]:
    """Spend-log rows hold ISO text; the logging payload holds Unix seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_epoch_seconds(value)
    return parse_iso_time(value)


def _metadata(record: Record) -> Record:
    return as_mapping(_decoded(record.get("metadata"), "{"))


def _decoded(value: object, opening: str) -> object:
    """``value``, or what it encodes when it is JSON text starting with ``opening``: rows
    written by the proxy hold ``metadata`` and ``request_tags`` as text, API answers as JSON."""
    if isinstance(value, str) and value.startswith(opening):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


def _tagged_agent(tags: object) -> str | None:
    """The user agent among the request's tags (the last ``User-Agent:`` tag, the whole one);
    spend rows carry it only there."""
    tags = _decoded(tags, "[")
    if not isinstance(tags, list):
        return None
    agents = [tag for tag in tags if isinstance(tag, str) and tag.startswith(AGENT_TAG)]
    return agents[-1][len(AGENT_TAG) :] if agents else None


def fields_of(record: Record, where: Location) -> FieldsResult:
    """One spend-log row as event fields."""
    if not sniff(record):
        return unknown_shape(SOURCE, record)
    moment, bad_time = _start_time(record.get("startTime"))
    tokens_in, bad_in = count_value(record.get("prompt_tokens"), "tokens")
    tokens_out, bad_out = count_value(record.get("completion_tokens"), "tokens")
    cost, bad_cost = amount_value(_first(record, "spend", "response_cost"), "cost")
    if moment is None or bad_in or bad_out or bad_cost:
        return rejected(bad_time, bad_in, bad_out, bad_cost)
    meta = _metadata(record)
    key_hash = text(record.get("api_key") or meta.get("user_api_key_hash")) or None
    ip, masked, bad_ip = normalize_ip(
        record.get("requester_ip_address") or meta.get("requester_ip_address")
    )
    status = text(record.get("status") or meta.get("status"))
    error = as_mapping(meta.get("error_information") or record.get("error_information"))
    user = record.get("user") or meta.get("user_api_key_user_id")
    agent = meta.get("user_agent")
    if agent is None:
        agent = header(as_mapping(record.get("proxy_server_request")).get("headers"), "user-agent")
    if agent is None:
        agent = _tagged_agent(record.get("request_tags"))
    return (
        dict(
            event_id=record_event_id(SOURCE, record),
            time=moment,
            source=SOURCE,
            provider="gateway",
            account=text(record.get("team_id") or meta.get("user_api_key_team_id")) or None,
            resource=(text(record.get("api_base")) or "").lower() or None,
            credential_id=f"{CREDENTIAL_PREFIX}{key_hash}" if key_hash else None,
            credential_kind="key_hash" if key_hash else None,
            principal=text(user or meta.get("user_api_key_alias")) or None,
            src_ip=ip,
            src_ip_masked=masked,
            user_agent=text(agent),
            operation=text(record.get("call_type")),
            model=text(record.get("model")),
            deployment=text(record.get("model_group")) or None,
            status_code=_status_of(error.get("error_code")),
            success=None if status is None else status == "success",
            error_code=text(error.get("error_class") or error.get("error_code")) or None,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost,
            raw_file=where.file,
            raw_line=where.line,
        ),
        present(bad_ip),
    )


def _first(record: Record, *names: str) -> object:
    """The first of ``names`` the record has (a zero cost is a cost, not an absent one)."""
    return next((record[name] for name in names if name in record), None)


def _status_of(code: object) -> int | None:
    if isinstance(code, str) and code.isdigit() and 100 <= int(code) <= 599:
        return int(code)
    return None


PARSER = SourceParser(SOURCE, fields_of, sniff)
