"""From engine hits to candidate secrets: the rules' own regexes run only on small regions.

The engine says where something may match; the rule's regex (Python ``re``, compiled for bytes)
extracts the secret from that region. Region shapes:
- a token hit with a known start: ``[start, end)``;
- a token hit with only its end: ``[end - max_width, end)``;
- a keyword hit of a context-only rule: the keyword ± the rule's context window.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

from stormwatch.secrets.engine import Hit
from stormwatch.secrets.patterns import PatternEntry, PatternTable, max_width, required_run
from stormwatch.secrets.ruleset import RuleSet, SecretRule

B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
_B64_MASK = bytes(1 if byte in B64_CHARS else 0 for byte in range(256))
MIN_B64_RUN = 16
MAX_B64_RUN = 1 << 20


@dataclass(frozen=True)
class Candidate:
    """A possible secret: the rule, and the span of the secret in the scanned bytes."""

    rule_index: int
    start: int
    end: int


@dataclass(frozen=True)
class EncodedRun:
    """A base64 run that holds a known marker, and its decoded bytes."""

    start: int
    end: int
    decoded: bytes


@dataclass(frozen=True)
class RunFloor:
    """A run of ``run`` bytes that every match of a rule holds, as a byte search: regions are
    translated with ``mask`` (1 for the run's bytes, 0 for others) and searched for ``run``.
    A match starts at most ``lead`` bytes before the run it holds, so none starts more than
    ``lead`` bytes before the first run of a region."""

    mask: bytes
    run: bytes
    lead: int = 0

    @classmethod
    def of(cls, pattern: str) -> RunFloor | None:
        found = required_run(pattern)
        if found is None:
            return None
        members, count = found
        mask = bytes(1 if b in members else 0 for b in range(256))
        return cls(mask, b"\1" * count, max(0, max_width(pattern) - count))

    def allows(self, region: bytes) -> bool:
        """False when ``region`` cannot hold a match."""
        return self.run in region.translate(self.mask)

    def first_start(self, data: bytes, lo: int, hi: int) -> int:
        """The first offset in ``data[lo:hi]`` where a match can start; -1 when none can."""
        at = data[lo:hi].translate(self.mask).find(self.run)
        return -1 if at < 0 else lo + max(0, at - self.lead)


# How one entry's hit becomes search regions: (rule index, bytes before, bytes after). A token
# hit (``before`` < 0) spans its own match, or ``after`` bytes back from its end when the engine
# only knows the end; a keyword hit spans the rule's context window on both sides.
RegionPlan = tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class CompiledRules:
    """The rule set with bytes regexes and per-entry region plans, compiled once per scan."""

    ruleset: RuleSet
    table: PatternTable
    regexes: tuple[re.Pattern[bytes], ...]
    index_of: dict[str, int]
    plans: tuple[RegionPlan, ...] = ()
    base64_entries: frozenset[int] = frozenset()
    floors: tuple[RunFloor | None, ...] = ()
    # Per rule: its context's ``same_line`` words as bytes (empty: no word is required).
    same_line: tuple[tuple[bytes, ...], ...] = ()

    @classmethod
    def build(cls, ruleset: RuleSet, table: PatternTable) -> CompiledRules:
        regexes = tuple(rule.bytes_regex for rule in ruleset.rules)
        index_of = {rule.id: i for i, rule in enumerate(ruleset.rules)}
        plans = tuple(_plan(entry, ruleset, table) for entry in table.entries)
        encoded = frozenset(i for i, e in enumerate(table.entries) if e.kind == "base64")
        floors = tuple(RunFloor.of(rule.pattern) for rule in ruleset.rules)
        same_line = tuple(
            tuple(w.encode() for w in rule.context.same_line) if rule.context else ()
            for rule in ruleset.rules
        )
        return cls(ruleset, table, regexes, index_of, plans, encoded, floors, same_line)

    def rule(self, index: int) -> SecretRule:
        return self.ruleset.rules[index]


def _plan(entry: PatternEntry, ruleset: RuleSet, table: PatternTable) -> RegionPlan:
    if entry.kind == "token":
        return ((entry.rules[0], -1, entry.max_width + 1),)
    if entry.kind != "keyword":
        return ()
    plan = []
    for index in entry.rules:
        context = ruleset.rules[index].context
        window = context.window if context else 0
        plan.append((index, window, window + table.widths[index] + 1))
    return tuple(plan)


def _merged(regions: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    regions.sort()
    current: tuple[int, int] | None = None
    for lo, hi in regions:
        if current and lo <= current[1]:
            current = (current[0], max(current[1], hi))
            continue
        if current:
            yield current
        current = (lo, hi)
    if current:
        yield current


def regions_by_rule(hits: list[Hit], rules: CompiledRules) -> dict[int, list[tuple[int, int]]]:
    """Search regions per rule index, from the token and keyword hits."""
    regions: dict[int, list[tuple[int, int]]] = {}
    plans = rules.plans
    for entry_index, start, end in hits:
        for rule_index, before, after in plans[entry_index]:
            if before < 0:
                region = (start if start >= 0 else max(0, end - after), end)
            else:
                region = (max(0, start - before), end + after)
            regions.setdefault(rule_index, []).append(region)
    return regions


def candidates(data: bytes, hits: list[Hit], rules: CompiledRules) -> list[Candidate]:
    """Every distinct (rule, secret span) that the rules' regexes confirm in the hit regions."""
    found: dict[tuple[int, int], Candidate] = {}
    for rule_index, spans in regions_by_rule(hits, rules).items():
        regex, floor = rules.regexes[rule_index], rules.floors[rule_index]
        group = 1 if regex.groups else 0
        for lo, hi in _merged(spans):
            # The regex starts where a match can first start: before the region's first run
            # of the rule's key characters no match can begin (and none at all without one).
            begin = lo if floor is None else floor.first_start(data, lo, hi)
            if begin < 0:
                continue
            for match in regex.finditer(data, begin, min(hi, len(data))):
                start, end = match.span(group)
                found.setdefault((rule_index, start), Candidate(rule_index, start, end))
    return sorted(found.values(), key=lambda c: (c.start, c.rule_index))


def encoded_runs(data: bytes, hits: list[Hit], rules: CompiledRules) -> list[EncodedRun]:
    """Base64 runs around marker hits, decoded (each run once)."""
    runs: dict[int, EncodedRun] = {}
    encoded = rules.base64_entries
    mask = b""
    for entry_index, start, end in hits:
        if entry_index not in encoded:
            continue
        # Run ends found by a byte search on a mask (0 where a byte is not base64), not by a
        # loop in Python: notebook images are runs of megabytes.
        mask = mask or data.translate(_B64_MASK)
        lo = max(start, 0) if start >= 0 else end - 1
        lo = max(mask.rfind(b"\0", 0, lo) + 1, min(lo, end - MAX_B64_RUN))
        if lo in runs:
            continue
        body_end = mask.find(b"\0", end)
        hi = max(end, min(len(data) if body_end < 0 else body_end, lo + MAX_B64_RUN))
        while hi < len(data) and data[hi] == 0x3D and hi - lo < MAX_B64_RUN:  # padding "="
            hi += 1
        decoded = decode_base64(data[lo:hi])
        if decoded is not None:
            runs[lo] = EncodedRun(lo, hi, decoded)
    return [runs[k] for k in sorted(runs)]


def decode_base64(run: bytes) -> bytes | None:
    """Decode a standard or URL-safe base64 run; None when it is not base64 after all."""
    body = run.rstrip(b"=")
    if len(body) < MIN_B64_RUN:
        return None
    altchars = b"-_" if (b"-" in body or b"_" in body) else None
    try:
        return base64.b64decode(body + b"=" * (-len(body) % 4), altchars=altchars)
    except (binascii.Error, ValueError):
        return None
