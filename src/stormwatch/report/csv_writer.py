"""The CSV report: one row per finding, the same fields as the JSON report."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TextIO

from stormwatch.report.record import SECRET_FIELDS, finding_fields, finding_record
from stormwatch.report.writer import WriterOptions, ordered
from stormwatch.secrets.model import ScanResult
from stormwatch.secrets.ruleset import RuleSet

# A spreadsheet runs a cell starting with one of these as a formula; paths and commit authors come
# from the scanned (possibly hostile) repository, so such cells are defused with an apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(name: str, value: object) -> str:
    """A record value as CSV text: empty for None, lower-case booleans, notes joined by "; "."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = "; ".join(str(item) for item in value)
    text = str(value)
    # The secret itself must stay exact when it is asked for.
    if name not in SECRET_FIELDS and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


@dataclass(frozen=True)
class CsvWriter:
    """Writes a header row and one row per finding, in report order."""

    options: WriterOptions

    def write(self, result: ScanResult, rules: RuleSet, out: TextIO) -> None:
        """Write the CSV rows with ``\\n`` line ends (the stream translates them if it must)."""
        writer = csv.DictWriter(
            out,
            fieldnames=finding_fields(show_secrets=self.options.show_secrets),
            lineterminator="\n",
        )
        writer.writeheader()
        for finding in ordered(result.findings):
            record = finding_record(finding, show_secrets=self.options.show_secrets)
            writer.writerow({name: csv_cell(name, value) for name, value in record.items()})
