"""The on-disk cache of what every start would otherwise rebuild, each entry named by its content.

Compiled Hyperscan databases and the parsed built-in rule files live here. An entry is written
atomically and read back as bytes; one that is missing, stale or unreadable is rebuilt by the
caller, and a cache that cannot be written is not an error.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache() -> Path | None:
    """``$STORMWATCH_CACHE``, else ``$XDG_CACHE_HOME/stormwatch``, else ``~/.cache/stormwatch``;
    ``STORMWATCH_CACHE=""`` turns caching off."""
    configured = os.environ.get("STORMWATCH_CACHE")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stormwatch"


def cached(entry: Path | None) -> bytes | None:
    """The bytes of a cache entry; None when caching is off or the entry cannot be read."""
    if entry is None:
        return None
    try:
        return entry.read_bytes()
    except OSError:
        return None


def store(entry: Path | None, blob: bytes) -> None:
    """Write a cache entry atomically (nothing when caching is off or cannot be written)."""
    if entry is None:
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(blob)
        partial.replace(entry)
    except OSError:
        pass
