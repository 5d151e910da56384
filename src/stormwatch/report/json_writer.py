"""The JSON report: findings, statistics and notices in one document for machines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TextIO

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
        json.dump(document, out, indent=2)
        out.write("\n")
