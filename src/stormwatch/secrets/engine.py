"""Match engines: one pass over the bytes finds every entry of a pattern table.

Hyperscan is the default: one multi-pattern database, leftmost start of match where the pattern
compiles that way, end-only reports (start found by the rule's own regex) where it does not.
google-re2 is the portable fallback. Engines only locate regions; turning a region into a secret
is the scanner's job and is the same code for both, so both give identical findings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from stormwatch.secrets.cache import cached, default_cache, store
from stormwatch.secrets.patterns import PatternEntry, PatternTable

# (entry index, start, end); start is -1 when the engine only knows where the match ends.
Hit = tuple[int, int, int]
MAX_SOM_WIDTH = 160


class EngineUnavailable(RuntimeError):
    """The requested engine's library is not installed on this machine."""


class MatchEngine(Protocol):
    """Finds the regions where pattern-table entries match."""

    @property
    def name(self) -> str:
        """The engine's name, as given to ``--engine``."""
        ...

    def hits(self, data: bytes) -> list[Hit]:
        """Every hit of every entry in ``data``, in no particular order."""
        ...


@dataclass(frozen=True)
class HyperscanEngine:
    """One Hyperscan block-mode database holding every entry."""

    table: PatternTable
    database: object
    som: tuple[bool, ...]
    name: str = "hyperscan"

    @classmethod
    def build(cls, table: PatternTable, cache: Path | None = None) -> HyperscanEngine:
        """Compile the table (or load it from ``cache``, a folder of compiled databases keyed
        by the table's content; a stale or unreadable entry is simply compiled again)."""
        try:
            import hyperscan
        except ImportError as exc:
            raise EngineUnavailable("hyperscan is not installed; use --engine re2") from exc
        cache = cache if cache is not None else default_cache()
        entry = (
            cache / f"hs-{table_digest(table, getattr(hyperscan, '__version__', '?'))}.bin"
            if cache
            else None
        )
        blob = cached(entry)
        if blob is not None:
            try:
                som, database = _load(hyperscan, blob, len(table.entries))
                return cls(table, database, som)
            except (ValueError, hyperscan.error):
                pass
        flags = [_hs_flags(hyperscan, e) for e in table.entries]
        som = tuple(bool(flag & hyperscan.HS_FLAG_SOM_LEFTMOST) for flag in flags)
        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        database.compile(
            expressions=[e.pattern for e in table.entries],
            ids=list(range(len(table.entries))),
            elements=len(table.entries),
            flags=flags,
        )
        if entry is not None:
            store(entry, bytes(som) + hyperscan.dumpb(database))
        return cls(table, database, som)

    def hits(self, data: bytes) -> list[Hit]:
        found: list[Hit] = []
        if data:
            add, som = found.append, self.som

            def on_match(index: int, start: int, end: int, _flags: int, _ctx: object) -> None:
                add((index, start if som[index] else -1, end))

            self.database.scan(data, match_event_handler=on_match)  # type: ignore[attr-defined]
        return found


def table_digest(table: PatternTable, version: str) -> str:
    """Content key of a pattern table (and the Hyperscan version that compiles it)."""
    digest = hashlib.sha256(version.encode())
    for entry in table.entries:
        digest.update(f"{entry.kind}\0{entry.max_width}\0".encode() + entry.pattern + b"\0")
    return digest.hexdigest()[:32]


def _load(hyperscan: object, blob: bytes, entries: int) -> tuple[tuple[bool, ...], object]:
    if len(blob) <= entries:
        raise ValueError("truncated cache entry")
    som = tuple(bool(b) for b in blob[:entries])
    database = hyperscan.loadb(blob[entries:], hyperscan.HS_MODE_BLOCK)  # type: ignore[attr-defined]
    database.scratch = hyperscan.Scratch(database)  # type: ignore[attr-defined]
    return som, database


def _hs_flags(hyperscan: object, entry: PatternEntry) -> int:
    """Leftmost start of match where the pattern compiles that way, else end-only reports.

    Hyperscan's start-of-match tracking cannot hold long variable-width patterns (it answers
    "Pattern is too large" after a costly attempt), so those are not even tried.
    """
    hs = hyperscan
    som: int = hs.HS_FLAG_SOM_LEFTMOST  # type: ignore[attr-defined]
    base: int = hs.HS_FLAG_CASELESS if entry.kind == "keyword" else 0  # type: ignore[attr-defined]
    if entry.max_width > MAX_SOM_WIDTH:
        return base
    probe = hs.Database(mode=hs.HS_MODE_BLOCK)  # type: ignore[attr-defined]
    try:
        probe.compile(expressions=[entry.pattern], ids=[0], elements=1, flags=[base | som])
    except hs.error:  # type: ignore[attr-defined]
        return base
    return base | som


@dataclass(frozen=True)
class Re2Engine:
    """Portable engine: RE2 for token patterns, a byte search for literal entries."""

    table: PatternTable
    compiled: tuple[object | None, ...]
    name: str = "re2"

    @classmethod
    def build(cls, table: PatternTable) -> Re2Engine:
        try:
            import re2
        except ImportError as exc:
            raise EngineUnavailable("google-re2 is not installed") from exc
        options = re2.Options()
        options.max_mem = 64 << 20
        compiled = tuple(
            None if entry.literal else re2.compile(entry.pattern, options)
            for entry in table.entries
        )
        return cls(table, compiled)

    def hits(self, data: bytes) -> list[Hit]:
        found: list[Hit] = []
        lowered: bytes | None = None
        for index, (entry, regex) in enumerate(zip(self.table.entries, self.compiled, strict=True)):
            if regex is not None:
                found.extend((index, m.start(), m.end()) for m in regex.finditer(data))  # type: ignore[attr-defined]
                continue
            needle = _unescape_literal(entry.pattern)
            haystack = data
            if entry.kind == "keyword":
                lowered = data.lower() if lowered is None else lowered
                haystack, needle = lowered, needle.lower()
            found.extend(_find_all(haystack, needle, index))
        return found


def _unescape_literal(pattern: bytes) -> bytes:
    out = bytearray()
    escaped = False
    for byte in pattern:
        if byte == 0x5C and not escaped:
            escaped = True
            continue
        out.append(byte)
        escaped = False
    return bytes(out)


def _find_all(haystack: bytes, needle: bytes, index: int) -> list[Hit]:
    found: list[Hit] = []
    position = haystack.find(needle)
    while position >= 0:
        found.append((index, position, position + len(needle)))
        position = haystack.find(needle, position + 1)
    return found


ENGINES: dict[str, Callable[[PatternTable], MatchEngine]] = {
    "hyperscan": HyperscanEngine.build,
    "re2": Re2Engine.build,
}


def build_engine(name: str, table: PatternTable) -> MatchEngine:
    """The named engine (``auto``: Hyperscan where installed, else RE2)."""
    if name == "auto":
        try:
            return HyperscanEngine.build(table)
        except EngineUnavailable:
            return Re2Engine.build(table)
    if name not in ENGINES:
        raise EngineUnavailable(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    return ENGINES[name](table)
