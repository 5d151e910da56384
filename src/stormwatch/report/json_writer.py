"""The JSON report: findings, statistics and notices in one document for machines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TextIO

import orjson

from stormwatch.report.record import finding_record, notice_record, stats_record
from stormwatch.report.writer import WriterOptions, ordered
from stormwatch.secrets.model import ScanResult
from stormwatch.secrets.ruleset import RuleSet


@dataclass(frozen=True)
class JsonWriter:
    """Writes ``{"version", "findings", "stats", "notices"}``; findings in report order."""

    options: WriterOptions

    def write(self, result: ScanResult, rules: RuleSet, out: TextIO) -> None:
        """Write the JSON document; ASCII-escaped so any stream encoding can hold it."""
        document = {
            "version": self.options.tool_version,
            "findings": [
                finding_record(f, show_secrets=self.options.show_secrets)
                for f in ordered(result.findings)
            ],
            "stats": stats_record(result.stats),
            "notices": [notice_record(n) for n in result.notices],
        }
        out.write(json_text(document))
        out.write("\n")


def json_text(document: object) -> str:
    """``json.dumps(document, indent=2)``, ASCII-escaped. orjson writes the same text many times
    faster (the writer's share of a large scan's serial end) but cannot escape non-ASCII
    characters, so a document holding any goes through ``json``."""
    try:
        text = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError:
        text = b"\x80"
    return text.decode() if text.isascii() else json.dumps(document, indent=2)
