"""The JSON report: findings, statistics and notices in one document for machines."""

from __future__ import annotations

import json
import re
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
    """``json.dumps(document, indent=2)``: the same text, ASCII-escaped, made by orjson many
    times faster (the writer is part of a large scan's serial end). orjson leaves non-ASCII
    characters as they are; they can only stand inside strings, and are escaped here as
    ``json`` escapes them. What orjson refuses (lone surrogates, huge integers) goes to ``json``."""
    try:
        text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONEncodeError:
        return json.dumps(document, indent=2)
    return text if text.isascii() else _NON_ASCII.sub(_escaped, text)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)  # a UTF-16 surrogate pair, as json writes it
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
