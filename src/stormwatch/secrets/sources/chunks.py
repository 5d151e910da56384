"""Streaming large content as fragments: memory stays flat whatever the file size.

Chunks end at a line break, and each chunk after the first starts a few KiB earlier (at a line
start), so a secret or its context that straddles a boundary is still seen whole; the scanner's
de-duplication by absolute line and column removes the double sighting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from stormwatch.secrets.model import Fragment, Origin

OVERLAP = 4096


def chunked(
    origin: Origin, first: bytes, read: Callable[[int], bytes], chunk_bytes: int
) -> Iterator[Fragment]:
    """Fragments of a stream whose first bytes are ``first`` and the rest come from ``read``."""
    pending, line_offset, unit, eof = first, 0, True, False
    while True:
        while not eof and len(pending) < chunk_bytes:
            block = read(chunk_bytes - len(pending))
            eof = not block
            pending += block
        if eof:
            yield Fragment(origin, pending, line_offset, unit)
            return
        cut = pending.rfind(b"\n") + 1
        if cut <= OVERLAP:
            cut = len(pending)
        yield Fragment(origin, pending[:cut], line_offset, unit)
        unit = False
        keep = pending.rfind(b"\n", 0, cut - OVERLAP) + 1 if cut > OVERLAP else cut
        keep = keep or cut
        line_offset += pending.count(b"\n", 0, keep)
        pending = pending[keep:]
