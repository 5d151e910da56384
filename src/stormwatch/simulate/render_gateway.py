"""Gateway and SaaS records as JSON text: LiteLLM spend logs and the OpenAI org audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as quote
from typing import Any

from stormwatch.simulate.identifiers import iso_micros
from stormwatch.simulate.world import GatewayKey

# USD per 1k tokens (input, output): round numbers, good enough for spend spikes.
PRICES = {
    "gpt-4o-mini": (0.00015, 0.0006),
    "gpt-4o": (0.0025, 0.01),
    "gpt-4.1": (0.002, 0.008),
}
_ERRORS = {
    401: ("AuthenticationError", "Authentication Error, Invalid proxy server token passed."),
    429: ("RateLimitError", "Rate limit reached for requests."),
    400: ("BadRequestError", "Invalid request."),
}


@dataclass(frozen=True)
class GatewayCaller:
    """A key and the client using it; ``key_hash`` may belong to no known key."""

    key_hash: str
    alias: str
    team: str
    ip: str
    user_agent: str

    @classmethod
    def of(cls, key: GatewayKey, ip: str, user_agent: str) -> GatewayCaller:
        """Caller presenting a known key."""
        return cls(key.key_hash, key.alias, key.team, ip, user_agent)


def spend_log(
    caller: GatewayCaller,
    times: tuple[int, int],
    request_id: str,
    model: str,
    tokens: tuple[int, int],
    status: int,
    prompt: str,
) -> str:
    """One LiteLLM ``SpendLogs`` row (prompts stored, as with ``store_prompts_in_spend_logs``)."""
    ok = status < 400
    price_in, price_out = PRICES.get(model, (0.001, 0.002))
    spend = (tokens[0] * price_in + tokens[1] * price_out) / 1000 if ok else 0.0
    error = ""
    if not ok:
        cls, msg = _ERRORS.get(status, ("APIError", "Upstream error."))
        error = (
            f', "error_information": {{"error_code": "{status}", "error_class": "{cls}", '
            f'"llm_provider": "openai", "error_message": "{msg}"}}'
        )
    start = iso_micros(times[0])
    messages = f'[{{"role": "user", "content": {quote(prompt)}}}]'
    return (
        f'{{"request_id": "{request_id}", "call_type": "acompletion", "api_key": '
        f'"{caller.key_hash}", "spend": {spend:.8f}, "total_tokens": {tokens[0] + tokens[1]}, '
        f'"prompt_tokens": {tokens[0]}, "completion_tokens": {tokens[1]}, "startTime": '
        f'"{start}", "endTime": "{iso_micros(times[1])}", "completionStartTime": "{start}", '
        f'"model": "{model}", "model_id": "{model}-openai", "model_group": "{model}", '
        f'"custom_llm_provider": "openai", "api_base": "https://api.openai.com/v1", "user": "", '
        f'"metadata": {{"user_api_key": "{caller.key_hash}", "user_api_key_alias": '
        f'"{caller.alias}", "user_api_key_team_id": "{caller.team}", "user_api_key_user_id": '
        f'null, "requester_ip_address": "{caller.ip}", "user_agent": "{caller.user_agent}", '
        f'"status": "{"success" if ok else "failure"}"{error}}}, "cache_hit": "False", '
        f'"cache_key": "Cache OFF", "request_tags": [], "team_id": "{caller.team}", '
        f'"end_user": "", "requester_ip_address": "{caller.ip}", "messages": {messages}, '
        f'"response": {{}}, "status": "{"success" if ok else "failure"}"}}'
    )


def audit_event(
    event_id: str,
    effective_at: int,
    event_type: str,
    actor: dict[str, Any],
    payload: dict[str, Any],
) -> str:
    """One OpenAI organisation audit-log object (``GET /v1/organization/audit_logs`` item)."""
    record: dict[str, Any] = {
        "id": event_id,
        "type": event_type,
        "effective_at": effective_at,
        "actor": actor,
    }
    record[event_type] = payload
    return json.dumps(record)


def session_actor(
    user_id: str, email: str, ip: str, user_agent: str, geo: tuple[str, str, str]
) -> dict[str, Any]:
    """``actor`` of a dashboard session; ``geo`` = (country, city, asn)."""
    return {
        "type": "session",
        "session": {
            "user": {"id": user_id, "email": email},
            "ip_address": ip,
            "user_agent": user_agent,
            "ip_address_details": {"country": geo[0], "city": geo[1], "asn": geo[2]},
        },
    }
