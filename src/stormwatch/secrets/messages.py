"""Messages between this process and the ones it forks: bytes with their length in front.

Reads take exactly one message and never more, so a process that polls a pipe for the next
message never finds it already swallowed by a buffer.
"""

from __future__ import annotations

import os
import struct

_LENGTH = struct.Struct("<Q")


def framed(payload: bytes) -> bytes:
    """``payload`` as one message."""
    return _LENGTH.pack(len(payload)) + payload


def write_message(fd: int, payload: bytes) -> None:
    """Write one message whole (blocking)."""
    view = memoryview(framed(payload))
    while view:
        view = view[os.write(fd, view) :]


def read_message(fd: int) -> bytes | None:
    """The next message; None at the end of input (or input that ends inside a message)."""
    head = _read_exactly(fd, _LENGTH.size)
    if head is None:
        return None
    (length,) = _LENGTH.unpack(head)
    return _read_exactly(fd, length)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
