"""OpenAI organisation audit log (items of ``GET /v1/organization/audit_logs``).

Admin events (``api_key.created``, ``login.failed`` ...), not per-request usage. The actor is a
dashboard ``session`` (user, IP, user agent) or an ``api_key`` (its tracking id is the
credential). The event's payload sits under a key named like its type and names the target.
"""

from __future__ import annotations

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
from stormwatch.events.values import normalize_ip, parse_epoch_seconds, text

SOURCE = "openai_audit"


def sniff(record: Record) -> bool:
    """An OpenAI audit-log object."""
    return "effective_at" in record and "type" in record and "actor" in record


def fields_of(record: Record, where: Location) -> FieldsResult:
    """One audit-log object as event fields."""
    kind = record.get("type")
    if not isinstance(kind, str) or not sniff(record):
        return unknown_shape(SOURCE, record)
    moment, bad_time = parse_epoch_seconds(record.get("effective_at"))
    if moment is None:
        return rejected(bad_time)
    actor = as_mapping(record.get("actor"))
    session = as_mapping(actor.get("session"))
    api_key = as_mapping(actor.get("api_key"))
    user = as_mapping(session.get("user") or api_key.get("user"))
    account = as_mapping(api_key.get("service_account"))
    ip, masked, bad_ip = normalize_ip(session.get("ip_address"))
    key_id = text(api_key.get("id"))
    project = as_mapping(record.get("project"))
    details = as_mapping(record.get(kind))
    return (
        dict(
            event_id=record_event_id(SOURCE, record),
            time=moment,
            source=SOURCE,
            provider="openai",
            account=text(record.get("organization_id")),
            resource=text(project.get("id")),
            credential_id=key_id,
            credential_kind="api_key" if key_id else None,
            principal=text(user.get("id") or account.get("id") or user.get("email")),
            src_ip=ip,
            src_ip_masked=masked,
            user_agent=text(session.get("user_agent")),
            operation=kind,
            success=not kind.endswith(".failed"),
            error_code=text(details.get("error_code")) or None,
            target=text(details.get("id")),
            raw_file=where.file,
            raw_line=where.line,
        ),
        present(bad_ip),
    )


PARSER = SourceParser(SOURCE, fields_of, sniff)
