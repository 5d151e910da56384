"""The pattern table: what the match engines search for, derived once from a rule set.

Three kinds of entries share one table so that one pass of the engine finds them all:
``token`` entries are the rules' own patterns (self-identifying keys, endpoints); ``keyword``
entries are the provider words that context-only rules need nearby (case-insensitive literals);
``base64`` entries are the base64 renderings, at the three byte alignments, of each token rule's
longest literal, so keys inside base64 blobs are found without decoding every blob; and the
base64 renderings of those renderings, for blobs encoded twice.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Literal

from stormwatch.secrets.ruleset import RuleSet

EntryKind = Literal["token", "keyword", "base64"]
MIN_MARKER = 3  # a 3-byte literal still has 4 stable base64 characters at offset 0
MIN_FORM = 4


@dataclass(frozen=True)
class PatternEntry:
    """One searched pattern and the rules (by index in the rule set) it serves."""

    kind: EntryKind
    pattern: bytes
    rules: tuple[int, ...]
    max_width: int = 0

    @property
    def literal(self) -> bool:
        return self.kind != "token"


@dataclass(frozen=True)
class PatternTable:
    """All entries for one rule set; entry index is the engine's pattern id."""

    entries: tuple[PatternEntry, ...]
    widths: tuple[int, ...] = ()


@functools.lru_cache(maxsize=512)
def _parsed(pattern: str) -> Any:
    """A pattern's parse tree (read only): the table, the widths and the run floors all read
    the same patterns, and parsing them is most of the cost of building a table (a pure memo)."""
    return sre_parse.parse(pattern)


def _literal_runs(parsed: Any) -> list[str]:
    runs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            runs.append("".join(current))
            current.clear()

    for op, arg in parsed:
        if op is sre_parse.LITERAL:
            current.append(chr(arg))
            continue
        flush()
        if op is sre_parse.SUBPATTERN:
            runs.extend(_literal_runs(arg[-1]))
        elif op is sre_parse.BRANCH:
            for branch in arg[1]:
                runs.extend(_literal_runs(branch))
    flush()
    return runs


def _prefixes(parsed: Any) -> set[str]:
    """Literal prefixes of a parsed pattern, expanding alternations of plain literals."""
    prefixes = {""}
    for op, arg in parsed:
        if op is sre_parse.AT:
            continue
        if op is sre_parse.LITERAL:
            prefixes = {p + chr(arg) for p in prefixes}
        elif op is sre_parse.SUBPATTERN:
            inner = _prefixes(arg[-1])
            return {p + q for p in prefixes for q in inner}
        elif op is sre_parse.BRANCH and all(
            all(o is sre_parse.LITERAL for o, _ in b) for b in arg[1]
        ):
            prefixes = {p + "".join(chr(a) for _, a in b) for p in prefixes for b in arg[1]}
        else:
            break
    return prefixes


def literal_markers(pattern: str) -> tuple[str, ...]:
    """The longest literals a pattern's match must contain (several when alternatives tie)."""
    parsed = _parsed(pattern)
    found = set(_literal_runs(parsed)) | _prefixes(parsed)
    runs = [r for r in found if len(r) >= MIN_MARKER]
    if not runs:
        return ()
    longest = max(len(r) for r in runs)
    return tuple(sorted(r for r in runs if len(r) == longest))


def required_run(pattern: str) -> tuple[frozenset[int], int] | None:
    """A run every match must hold: ``count`` consecutive bytes from one set (the longest such
    repeat in the pattern's main sequence), or None. A region without such a run cannot match,
    and a byte search finds that out many times faster than the regex does."""
    parsed = _parsed(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return None
    return _longest_class_run(parsed)


def _longest_class_run(parsed: Any) -> tuple[frozenset[int], int] | None:
    best: tuple[frozenset[int], int] | None = None
    for op, arg in parsed:
        found = None
        if op is sre_parse.SUBPATTERN and not arg[1] & re.IGNORECASE:
            found = _longest_class_run(arg[-1])
        elif op is sre_parse.MAX_REPEAT and arg[0] > 0 and len(arg[2]) == 1:
            members = _class_bytes(*arg[2][0])
            found = (members, arg[0]) if members else None
        if found is not None and (best is None or found[1] > best[1]):
            best = found
    return best


def _class_bytes(op: Any, arg: Any) -> frozenset[int] | None:
    """The ASCII bytes one pattern item matches (a literal or a plain class), else None."""
    if op is sre_parse.LITERAL:
        items = [(op, arg)]
    elif op is sre_parse.IN:
        items = arg
    else:
        return None
    members: set[int] = set()
    for kind, value in items:
        if kind is sre_parse.LITERAL:
            members.add(value)
        elif kind is sre_parse.RANGE:
            members.update(range(value[0], value[1] + 1))
        else:
            return None  # negated sets and categories: not worth deriving
    return frozenset(members) if max(members, default=128) < 128 else None


def base64_forms(marker: bytes) -> tuple[bytes, ...]:
    """The stable base64 characters of ``marker`` at byte offsets 0, 1 and 2 of a blob."""
    forms = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + marker)
        start = -(-offset * 8 // 6)
        stop = (offset + len(marker)) * 8 // 6
        if stop - start >= MIN_FORM:
            forms.append(encoded[start:stop])
    return tuple(forms)


def max_width(pattern: str) -> int:
    """Longest possible match of a pattern (bounded by the regex parser's own limit)."""
    return int(min(_parsed(pattern).getwidth()[1], 1 << 16))


def build_table(ruleset: RuleSet) -> PatternTable:
    """Derive the pattern table of a rule set."""
    entries: list[PatternEntry] = []
    keywords: dict[str, list[int]] = {}
    markers: dict[bytes, list[int]] = {}
    for index, rule in enumerate(ruleset.rules):
        if not rule.reported:
            continue
        if rule.context is not None:
            for word in rule.context.keywords:
                keywords.setdefault(word, []).append(index)
            continue
        entries.append(
            PatternEntry("token", rule.pattern.encode(), (index,), max_width(rule.pattern))
        )
        for marker in literal_markers(rule.pattern):
            for form in base64_forms(marker.encode()):
                markers.setdefault(form, []).append(index)
                # encoded twice (a Kubernetes secret of a key already in base64): the outer
                # blob is decoded where it holds the base64 of the inner one's marker form
                for twice in base64_forms(form):
                    markers.setdefault(twice, []).append(index)
    entries.extend(
        PatternEntry("keyword", re.escape(word).encode(), tuple(rules), len(word))
        for word, rules in sorted(keywords.items())
    )
    entries.extend(
        PatternEntry("base64", re.escape(form.decode()).encode(), tuple(rules), len(form))
        for form, rules in sorted(markers.items())
    )
    widths = tuple(max_width(rule.pattern) for rule in ruleset.rules)
    return PatternTable(tuple(entries), widths)
