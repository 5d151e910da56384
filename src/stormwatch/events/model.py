"""The normalized event: one row per API call or control-plane action, whatever its source.

Field names follow OCSF API Activity (class 6003) where a flat name maps naturally; the mapping is
documented in docs/events.md. Parsers build ``Event`` values; the store and the detection rules
see the same columns (``COLUMNS``), so rules never depend on a source's raw shape.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

# (column, DuckDB/Spark SQL type, meaning). The order is the table's column order.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("event_id", "VARCHAR", "sha256 of source kind + raw record; the idempotency key"),
    ("time", "TIMESTAMP", "UTC time of the call (OCSF time)"),
    ("source", "VARCHAR", "log source kind, e.g. azure_openai, cloudtrail, litellm"),
    ("provider", "VARCHAR", "azure | aws | openai | gateway"),
    ("account", "VARCHAR", "subscription, AWS account, OpenAI organisation (cloud.account.uid)"),
    ("resource", "VARCHAR", "AI resource / endpoint / gateway (resources[].uid), lower case"),
    ("region", "VARCHAR", "cloud region or Azure location (cloud.region)"),
    ("credential_id", "VARCHAR", "access key id, key hash or resource-key marker"),
    (
        "credential_kind",
        "VARCHAR",
        "aws_long_term | aws_session | bedrock_api_key | bedrock_api_key_session | api_key"
        " | entra | key_hash",
    ),
    ("principal", "VARCHAR", "user / role / object id behind the call (actor.user.uid)"),
    ("src_ip", "VARCHAR", "caller IP, or masked network like 203.0.113.0/24 (src_endpoint.ip)"),
    ("src_ip_masked", "BOOLEAN", "true when src_ip is a network because the source masks IPs"),
    ("user_agent", "VARCHAR", "HTTP user agent (http_request.user_agent)"),
    ("operation", "VARCHAR", "API operation, e.g. InvokeModel, ChatCompletions_Create"),
    ("model", "VARCHAR", "model id or deployment's model name"),
    ("deployment", "VARCHAR", "Azure deployment name or gateway model alias"),
    ("status_code", "INTEGER", "HTTP status when known (http_response.code)"),
    ("success", "BOOLEAN", "true when the call succeeded (status_id)"),
    ("error_code", "VARCHAR", "provider error code, e.g. ValidationException, content_filter"),
    ("tokens_in", "BIGINT", "prompt / input tokens"),
    ("tokens_out", "BIGINT", "completion / output tokens"),
    ("request_bytes", "BIGINT", "request size in bytes"),
    ("response_bytes", "BIGINT", "response size in bytes"),
    ("cost_usd", "DOUBLE", "cost when the source reports it (gateway spend)"),
    ("filter_blocked", "BOOLEAN", "a content filter blocked the prompt or the completion"),
    ("filter_categories", "VARCHAR", "comma-separated filtered categories (hate, sexual, ...)"),
    ("filter_severity", "VARCHAR", "highest severity reported: safe | low | medium | high"),
    ("jailbreak_detected", "BOOLEAN", "jailbreak or indirect attack detected"),
    ("request_hash", "VARCHAR", "hash of the request body when the source carries it"),
    ("target", "VARCHAR", "object of a control-plane action: user created, policy, setting"),
    ("raw_file", "VARCHAR", "file the raw record came from"),
    ("raw_line", "BIGINT", "line (1-based) of the raw record in that file"),
    # last, so that stores made before it gain it with ALTER TABLE ... ADD COLUMN
    (
        "src_country",
        "VARCHAR",
        "ISO 3166 country the caller's address block is registered to (RIR data, offline)",
    ),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _, _ in COLUMNS)
# Columns added after the first layout: Parquet exported before them lacks them (read as NULL).
LATER_COLUMNS = frozenset({"src_country"})


@dataclass(frozen=True, slots=True)
class Event:
    """One normalized event; ``None`` means the source does not say."""

    event_id: str
    time: datetime
    source: str
    provider: str
    account: str | None = None
    resource: str | None = None
    region: str | None = None
    credential_id: str | None = None
    credential_kind: str | None = None
    principal: str | None = None
    src_ip: str | None = None
    src_ip_masked: bool | None = None
    user_agent: str | None = None
    operation: str | None = None
    model: str | None = None
    deployment: str | None = None
    status_code: int | None = None
    success: bool | None = None
    error_code: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    request_bytes: int | None = None
    response_bytes: int | None = None
    cost_usd: float | None = None
    filter_blocked: bool | None = None
    filter_categories: str | None = None
    filter_severity: str | None = None
    jailbreak_detected: bool | None = None
    request_hash: str | None = None
    target: str | None = None
    raw_file: str | None = None
    raw_line: int | None = None
    src_country: str | None = None


assert tuple(f.name for f in fields(Event)) == COLUMN_NAMES


def events_table_ddl(table: str = "events") -> str:
    """``CREATE TABLE`` statement for the normalized table (portable to DuckDB and Spark SQL)."""
    body = ",\n  ".join(f"{name} {sql_type}" for name, sql_type, _ in COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n)"
