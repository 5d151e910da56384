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
from stormwatch.secrets.patterns import PatternTable
from stormwatch.secrets.ruleset import RuleSet, SecretRule

B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")
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
class CompiledRules:
    """The rule set with bytes regexes, compiled once per scan."""

    ruleset: RuleSet
    table: PatternTable
    regexes: tuple[re.Pattern[bytes], ...]
    index_of: dict[str, int]

    @classmethod
    def build(cls, ruleset: RuleSet, table: PatternTable) -> CompiledRules:
        regexes = tuple(re.compile(rule.pattern.encode()) for rule in ruleset.rules)
        index_of = {rule.id: i for i, rule in enumerate(ruleset.rules)}
        return cls(ruleset, table, regexes, index_of)

    def rule(self, index: int) -> SecretRule:
        return self.ruleset.rules[index]


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
    for entry_index, start, end in hits:
        entry = rules.table.entries[entry_index]
        if entry.kind == "token":
            lo = start if start >= 0 else max(0, end - entry.max_width - 1)
            regions.setdefault(entry.rules[0], []).append((lo, end))
        elif entry.kind == "keyword":
            for rule_index in entry.rules:
                rule = rules.rule(rule_index)
                window = rule.context.window if rule.context else 0
                width = rules.table.widths[rule_index]
                regions.setdefault(rule_index, []).append(
                    (max(0, start - window), end + window + width + 1)
                )
    return regions


def candidates(data: bytes, hits: list[Hit], rules: CompiledRules) -> list[Candidate]:
    """Every distinct (rule, secret span) that the rules' regexes confirm in the hit regions."""
    found: dict[tuple[int, int], Candidate] = {}
    for rule_index, spans in regions_by_rule(hits, rules).items():
        regex = rules.regexes[rule_index]
        group = 1 if regex.groups else 0
        for lo, hi in _merged(spans):
            for match in regex.finditer(data, lo, min(hi, len(data))):
                start, end = match.span(group)
                found.setdefault((rule_index, start), Candidate(rule_index, start, end))
    return sorted(found.values(), key=lambda c: (c.start, c.rule_index))


def encoded_runs(data: bytes, hits: list[Hit], rules: CompiledRules) -> list[EncodedRun]:
    """Base64 runs around marker hits, decoded (each run once)."""
    runs: dict[int, EncodedRun] = {}
    for entry_index, start, end in hits:
        if rules.table.entries[entry_index].kind != "base64":
            continue
        lo = max(start, 0) if start >= 0 else end - 1
        while lo > 0 and data[lo - 1] in B64_CHARS and end - lo < MAX_B64_RUN:
            lo -= 1
        if lo in runs:
            continue
        hi = end
        while hi < len(data) and data[hi] in B64_CHARS and hi - lo < MAX_B64_RUN:
            hi += 1
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
