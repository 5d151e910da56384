"""The writer seam: one method that renders a scan result onto a text stream, and its settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TextIO

from stormwatch.secrets.model import Finding, ScanResult
from stormwatch.secrets.ruleset import RuleSet


@dataclass(frozen=True, kw_only=True)
class WriterOptions:
    """Settings every writer receives.

    ``show_secrets`` adds the raw secret to the text, JSON and CSV reports; SARIF never carries it
    because it is uploaded to shared dashboards. ``source_root``, when given, turns absolute paths
    under it into the repository-relative URIs that code scanning needs.
    """

    tool_version: str
    show_secrets: bool = False
    source_root: str | None = None


class FindingWriter(Protocol):
    """Renders one scan result in one format."""

    def write(self, result: ScanResult, rules: RuleSet, out: TextIO) -> None:
        """Write ``result`` to ``out``; ``rules`` supplies rule metadata the findings refer to."""


WriterFactory = Callable[[WriterOptions], FindingWriter]


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in report order (file, line, column, rule), so that reports diff cleanly."""
    return sorted(
        findings,
        key=lambda f: (f.origin.path, f.line, f.column, f.rule_id, f.origin.commit or ""),
    )
