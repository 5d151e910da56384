"""One parser per log source, behind one explicit registry (name -> parser).

``detect_source`` sniffs a record and names its source; order matters only where shapes could
overlap (the specific Azure categories before the generic ones). A source whose records are
also exported from Log Analytics / Sentinel (``log_analytics_tables``) reads those table rows
too; rows are told by PascalCase columns that no native record has (native keys are camelCase).
"""

from __future__ import annotations

from types import MappingProxyType

from stormwatch.events.parsers import (
    azure_activity,
    azure_apim,
    azure_openai,
    bedrock_invocation,
    cloudtrail,
    litellm,
    openai_audit,
)
from stormwatch.events.parsers.log_analytics import reading_tables
from stormwatch.events.parsers.log_analytics_tables import TABLES
from stormwatch.events.parsers.protocol import (
    Fields,
    FieldsResult,
    Location,
    ParseResult,
    Record,
    SourceParser,
    record_event_id,
)

PARSERS: MappingProxyType[str, SourceParser] = MappingProxyType(
    {
        parser.name: reading_tables(parser, TABLES)
        for parser in (
            bedrock_invocation.PARSER,
            cloudtrail.PARSER,
            azure_apim.PARSER,
            azure_activity.PARSER,
            azure_openai.PARSER,
            litellm.PARSER,
            openai_audit.PARSER,
        )
    }
)
SOURCE_NAMES: tuple[str, ...] = tuple(sorted(PARSERS))


def detect_source(record: Record) -> str | None:
    """Name of the source whose shape ``record`` has, or ``None`` when none recognises it."""
    for name, parser in PARSERS.items():
        if parser.sniff(record):
            return name
    return None


__all__ = [
    "PARSERS",
    "SOURCE_NAMES",
    "Fields",
    "FieldsResult",
    "Location",
    "ParseResult",
    "Record",
    "SourceParser",
    "detect_source",
    "record_event_id",
]
