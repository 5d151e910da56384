"""The human report: a Rich table of findings, a summary by provider, and the scan statistics.

The only report module that imports Rich; the registry loads it lazily.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from stormwatch.report.writer import WriterOptions, ordered
from stormwatch.secrets.model import Finding, ScanResult
from stormwatch.secrets.ruleset import RuleSet

NOTICE_LIMIT = 20
# Wide enough for a path and a redacted key side by side when the output goes to a file or pipe.
_FILE_WIDTH = 160
_VERIFIED_STYLE = {"live": "bold red", "dead": "green"}


def _console_for(out: TextIO) -> Console:
    """A console on ``out`` that colours only a terminal and never reads markup from data."""
    isatty = getattr(out, "isatty", None)
    tty = bool(isatty and isatty())
    return Console(
        file=out,
        force_terminal=tty,
        color_system="auto" if tty else None,
        no_color=None if tty else True,  # a terminal still honours NO_COLOR
        width=None if tty else _FILE_WIDTH,
        markup=False,
        highlight=False,
        emoji=False,
    )


def location_of(finding: Finding) -> str:
    """``file:line:col`` of a finding."""
    return f"{finding.origin.path}:{finding.line}:{finding.column}"


@dataclass(frozen=True)
class TextWriter:
    """Writes the report a person reads in a terminal."""

    options: WriterOptions

    def write(self, result: ScanResult, rules: RuleSet, out: TextIO) -> None:
        """Write the findings table, the provider summary and the statistics."""
        console = _console_for(out)
        if result.findings:
            console.print(self._table(ordered(result.findings)))
            console.print(_provider_summary(result.findings, rules))
            if self.options.show_secrets:
                _print_secrets(console, ordered(result.findings))
        else:
            console.print(Text("No exposed credentials found.", style="green"))
        for line in _stats_lines(result):
            console.print(line)

    def _table(self, findings: Sequence[Finding]) -> Table:
        table = Table(title=f"Exposed credentials: {len(findings)}", title_justify="left")
        for header in ("Provider", "Rule", "Location", "Commit", "Secret", "Fingerprint"):
            table.add_column(header, overflow="fold")
        table.add_column("Confidence")
        table.add_column("Verified")
        for f in findings:
            verified = f.verified or "-"
            table.add_row(
                Text(f.provider),
                Text(f.rule_id),
                Text(location_of(f)),
                Text((f.origin.commit or "")[:8]),
                Text(f.redacted, style="yellow"),
                Text(f.fingerprint[:12]),
                Text(f.confidence),
                Text(verified, style=_VERIFIED_STYLE.get(verified, "")),
            )
        return table


def _print_secrets(console: Console, findings: Sequence[Finding]) -> None:
    """Raw secrets on lines of their own: a table cell would fold them and break copying."""
    console.print(Text("Secrets (shown on request):", style="bold red"))
    for f in findings:
        pair = f"  pair: {f.pair_secret}" if f.pair_secret else ""
        console.print(Text(f"  {location_of(f)}  {f.secret}{pair}"), soft_wrap=True)


def _provider_summary(findings: Sequence[Finding], rules: RuleSet) -> Table:
    names = {rule.provider: rule.provider_name for rule in rules.rules}
    counts = Counter(f.provider for f in findings)
    table = Table(title="Findings by provider", title_justify="left")
    table.add_column("Provider")
    table.add_column("Findings", justify="right")
    for provider, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        table.add_row(Text(names.get(provider, provider)), Text(str(count)))
    return table


def _stats_lines(result: ScanResult) -> Iterator[Text]:
    stats = result.stats
    yield Text(
        f"Scanned {stats.files} files, {stats.bytes} bytes, {stats.blobs} blobs, "
        f"{stats.commits} commits in {stats.seconds:.2f} s; "
        f"{stats.findings} findings, {stats.suppressed} suppressed."
    )
    if stats.skipped:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(stats.skipped.items()))
        yield Text(f"Skipped: {reasons}")
    if result.notices:
        yield Text(f"Notices ({len(result.notices)}):", style="yellow")
    for notice in result.notices[:NOTICE_LIMIT]:
        detail = f" ({notice.detail})" if notice.detail else ""
        yield Text(f"  {notice.location}: {notice.reason}{detail}")
    if len(result.notices) > NOTICE_LIMIT:
        yield Text(f"  ... and {len(result.notices) - NOTICE_LIMIT} more")
