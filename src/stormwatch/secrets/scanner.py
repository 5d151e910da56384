"""The scanner: fragments in, findings out.

For each fragment one engine pass finds every region of interest; the rules' regexes extract the
candidates; the filters drop placeholders, examples and noise; pairs and context are checked;
base64 runs holding a known marker are decoded and scanned again (bounded depth); suppressions
(inline marker, allowlists, baseline) are applied last and counted.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from stormwatch.secrets.candidates import Candidate, CompiledRules, candidates, encoded_runs
from stormwatch.secrets.engine import MatchEngine, build_engine
from stormwatch.secrets.filters import (
    has_allow_marker,
    inside_base64,
    is_placeholder,
    is_test_path,
    looks_like_hash,
    lowered,
    too_uniform,
)
from stormwatch.secrets.model import (
    Finding,
    Fragment,
    Origin,
    ScanResult,
    ScanStats,
    SkipNotice,
)
from stormwatch.secrets.patterns import build_table
from stormwatch.secrets.ruleset import RuleSet, builtin_rules
from stormwatch.secrets.settings import ScanSettings

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Position:
    """Where a candidate sits in the original fragment (for decoded content: the encoded run)."""

    line: int
    column: int
    line_text: bytes


class LineCursor:
    """Line numbers of ascending offsets in one buffer, counting each newline once."""

    def __init__(self, data: bytes, line_offset: int) -> None:
        self.data, self.offset, self.line = data, 0, line_offset + 1

    def locate(self, offset: int) -> Position:
        """1-based line and column (in characters) of ``offset``, and the text of its line."""
        data = self.data
        if offset < self.offset:  # an encoded run before the last candidate: count back
            self.line -= data.count(b"\n", offset, self.offset)
        else:
            self.line += data.count(b"\n", self.offset, offset)
        self.offset = offset
        line_start = data.rfind(b"\n", 0, offset) + 1
        line_end = data.find(b"\n", offset)
        return Position(
            line=self.line,
            column=len(data[line_start:offset].decode("utf-8", "replace")) + 1,
            line_text=data[line_start : line_end if line_end >= 0 else len(data)],
        )


class Scanner:
    """A compiled rule set and engine, ready to scan fragments (immutable after construction)."""

    def __init__(self, ruleset: RuleSet, settings: ScanSettings) -> None:
        self.settings = settings
        self.rules = CompiledRules.build(ruleset, build_table(ruleset))
        self.engine: MatchEngine = build_engine(settings.engine, self.rules.table)

    def scan_fragment(self, fragment: Fragment) -> list[Finding]:
        """Findings in one fragment, before suppression by allowlists and baseline."""
        found = _nearest_claims(self._scan_bytes(fragment.data, fragment, depth=0, at=None))
        kept = [f for f in found if f.encoding == "plain"]
        seen = {(f.rule_id, f.secret) for f in kept}
        for finding in found:
            if (finding.rule_id, finding.secret) not in seen:
                seen.add((finding.rule_id, finding.secret))
                kept.append(finding)
        return sorted(kept, key=lambda f: (f.line, f.column, f.rule_id))

    def _scan_bytes(
        self, data: bytes, fragment: Fragment, depth: int, at: Position | None
    ) -> list[Finding]:
        hits = self.engine.hits(data)
        if not hits:
            return []
        cursor = LineCursor(data, fragment.line_offset)
        findings: list[Finding] = []
        spans: list[tuple[int, int]] = []
        for candidate in candidates(data, hits, self.rules):
            finding = self._finding(data, candidate, fragment, at or cursor)
            if finding is not None:
                findings.append(finding)
                spans.append((candidate.start, candidate.end))
        if depth < self.settings.max_decode_depth:
            for run in encoded_runs(data, hits, self.rules):
                if any(lo <= run.start and run.end <= hi for lo, hi in spans):
                    continue  # the encoded part of a secret already found (a Bedrock API key)
                where = at or cursor.locate(run.start)
                for inner in self._scan_bytes(run.decoded, fragment, depth + 1, where):
                    findings.append(replace(inner, encoding="base64"))
        return findings

    def _finding(
        self, data: bytes, candidate: Candidate, fragment: Fragment, at: Position | LineCursor
    ) -> Finding | None:
        rule = self.rules.rule(candidate.rule_index)
        secret = data[candidate.start : candidate.end].decode("utf-8", "replace")
        # Context checks first: most context candidates are hex or words on a line that assigns
        # nothing, and those checks cost less than the placeholder and entropy checks.
        distance = 0 if rule.context is None else self._context_check(data, candidate, secret)
        if distance is None or is_placeholder(secret) or too_uniform(secret, rule.entropy):
            return None
        confidence = rule.confidence
        pair = self._pair(data, candidate)
        if rule.pairs and pair is None:
            if rule.pairs.required:
                return None
            if rule.pairs.lower_if_missing:
                confidence = lowered(confidence)
        where = at.locate(candidate.start) if isinstance(at, LineCursor) else at
        if is_test_path(fragment.origin.path):
            confidence = lowered(confidence)
        notes = ("inline-allow",) if has_allow_marker(where.line_text) else ()
        return Finding(
            rule_id=rule.id,
            provider=rule.provider_name,
            description=rule.description,
            access=rule.access,
            secret=secret,
            origin=fragment.origin,
            line=where.line,
            column=where.column,
            confidence=confidence,
            pair_secret=pair,
            notes=notes,
            context_distance=distance,
        )

    def _context_check(self, data: bytes, candidate: Candidate, secret: str) -> int | None:
        """Distance to the provider keyword near a context rule's candidate; None when there is
        none, when no credential word is on its line, or when it reads as a named hash or a
        slice of a base64 blob."""
        if not _assigned(data, candidate, self.rules.same_line[candidate.rule_index]):
            return None
        before = data[max(0, candidate.start - 32) : candidate.start]
        after = data[candidate.end : candidate.end + 1]
        if looks_like_hash(before, secret) or inside_base64(before, after):
            return None
        return self._context_distance(data, candidate)

    def _context_distance(self, data: bytes, candidate: Candidate) -> int | None:
        """Distance to the nearest provider keyword within the window and the rule's number of
        lines; None when there is none."""
        context = self.rules.rule(candidate.rule_index).context
        assert context is not None
        lo = _line_start(data, candidate.start, context.lines, context.window)
        hi = _line_end(data, candidate.end, context.lines, context.window)
        before = data[lo : candidate.start].lower()
        after = data[candidate.end : hi].lower()
        distances = []
        for word in context.keywords:
            needle = word.encode()
            if (at := before.rfind(needle)) >= 0:
                distances.append(len(before) - at - len(needle))
            if (at := after.find(needle)) >= 0:
                distances.append(at)
        return min(distances, default=None)

    def _pair(self, data: bytes, candidate: Candidate) -> str | None:
        pairs = self.rules.rule(candidate.rule_index).pairs
        if pairs is None:
            return None
        regex = self.rules.regexes[self.rules.index_of[pairs.rule]]
        lo = max(0, candidate.start - pairs.window)
        hi = min(len(data), candidate.end + pairs.window)
        group = 1 if regex.groups else 0
        for match in regex.finditer(data, lo, hi):
            if match.end(group) <= candidate.start or match.start(group) >= candidate.end:
                return match.group(group).decode("utf-8", "replace")
        return None

    def suppressed(self, finding: Finding) -> bool:
        """True when the user allowed this finding (inline marker, allowlist, baseline)."""
        settings = self.settings
        return (
            "inline-allow" in finding.notes
            or finding.fingerprint in settings.baseline
            or finding.fingerprint in settings.allow_fingerprints
            or any(p.search(finding.secret) for p in settings.allow_secrets)
        )

    def path_allowed(self, path: str) -> bool:
        """True when the user's allowlist excludes this path from scanning."""
        return any(p.search(path) for p in self.settings.allow_paths)


def _line_start(data: bytes, offset: int, lines: int, window: int) -> int:
    """Start of the window before ``offset``: at most ``window`` bytes and ``lines`` breaks."""
    lo = max(0, offset - window)
    for _ in range(lines + 1):
        at = data.rfind(b"\n", lo, offset)
        if at < 0:
            return lo
        offset = at
    return offset + 1


def _line_end(data: bytes, offset: int, lines: int, window: int) -> int:
    """End of the window after ``offset``: at most ``window`` bytes and ``lines`` breaks."""
    hi = min(len(data), offset + window)
    for _ in range(lines + 1):
        at = data.find(b"\n", offset, hi)
        if at < 0:
            return hi
        offset = at + 1
    return offset - 1


def _assigned(data: bytes, candidate: Candidate, words: tuple[bytes, ...]) -> bool:
    """True when the candidate's line holds one of ``words`` (or none is required)."""
    if not words:
        return True
    start = data.rfind(b"\n", 0, candidate.start) + 1
    end = data.find(b"\n", candidate.end)
    line = data[start : end if end >= 0 else len(data)].lower()
    return any(word in line for word in words)


def _nearest_claims(found: list[Finding]) -> list[Finding]:
    """Where several context rules claim the same secret at the same place, keep the rule whose
    provider keyword stands nearest (a 40-hex key between DEEPGRAM_ and WANDB_ lines)."""
    best: dict[tuple[int, int, str], Finding] = {}
    for finding in found:
        key = (finding.line, finding.column, finding.secret)
        if key not in best or finding.context_distance < best[key].context_distance:
            best[key] = finding
    return list(best.values())


@dataclass
class Tally:
    """Running totals of one scan (local to the scan or to one worker's batch)."""

    findings: dict[tuple[object, ...], Finding] = field(default_factory=dict)
    notices: list[SkipNotice] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    units: int = 0
    size: int = 0
    suppressed: int = 0
    blobs: int = 0  # of the units, those read from git history
    commits: int = 0

    def add(self, item: Fragment | SkipNotice, scanner: Scanner) -> None:
        """Scan a fragment (or count a notice) into the totals."""
        if isinstance(item, SkipNotice):
            self.notices.append(item)
            self.skipped[item.reason] += 1
            return
        if scanner.path_allowed(item.origin.path):
            self.skipped["allowlisted-path"] += item.unit
            return
        self.units += item.unit
        self.blobs += item.unit and item.origin.commit is not None
        self.size += len(item.data)
        for finding in scanner.scan_fragment(item):
            if scanner.suppressed(finding):
                self.suppressed += 1
                continue
            key = (finding.origin, finding.rule_id, finding.line, finding.column, finding.secret)
            self.findings.setdefault(key, finding)

    def merge(self, other: Tally) -> None:
        """Add another tally's totals (a worker's batch) to this one."""
        for key, finding in other.findings.items():
            self.findings.setdefault(key, finding)
        self.notices.extend(other.notices)
        self.skipped.update(other.skipped)
        self.units += other.units
        self.size += other.size
        self.suppressed += other.suppressed
        self.blobs += other.blobs
        self.commits += other.commits

    def result(self, seconds: float) -> ScanResult:
        """The final, immutable result."""
        stats = ScanStats(
            files=self.units - self.blobs,
            bytes=self.size,
            blobs=self.blobs,
            commits=self.commits,
            findings=len(self.findings),
            suppressed=self.suppressed,
            seconds=seconds,
            skipped=dict(self.skipped),
        )
        return ScanResult(tuple(self.findings.values()), stats, tuple(self.notices))


def scan_fragments(
    items: Iterable[Fragment | SkipNotice], scanner: Scanner, on_progress: Progress | None = None
) -> ScanResult:
    """Scan every fragment; count files, bytes, skipped inputs and suppressions."""
    started = time.perf_counter()
    tally = Tally()
    for item in items:
        tally.add(item, scanner)
        if on_progress is not None and isinstance(item, Fragment):
            on_progress(item.unit, len(item.data))
    return tally.result(time.perf_counter() - started)


@functools.lru_cache(maxsize=8)
def compiled_scanner(ruleset: RuleSet, settings: ScanSettings) -> Scanner:
    """A scanner for this rule set and settings, compiled once per process (a pure memo)."""
    return Scanner(ruleset, settings)


def scan_text(
    text: str,
    ruleset: RuleSet | None = None,
    path: str = "example.txt",
    settings: ScanSettings | None = None,
) -> list[Finding]:
    """Findings in a string (rule examples, tests, snippets); suppressed ones are dropped."""
    scanner = compiled_scanner(ruleset or builtin_rules(), settings or ScanSettings())
    fragment = Fragment(Origin(path), text.encode("utf-8", "surrogateescape"))
    return [f for f in scanner.scan_fragment(fragment) if not scanner.suppressed(f)]
