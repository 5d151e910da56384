"""What a file's first bytes say it is, for scan and ingest alike: an archive (by its magic
bytes), text with a byte order mark, and UTF-16 text (Windows PowerShell 5.1's ``Out-File`` and
``>``) read as UTF-8. Standard library only: both commands import it at start-up.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

Read = Callable[[int], bytes]


def archive_kind(label: str, head: bytes) -> str | None:
    """The archive format of content starting with ``head``, by its magic bytes."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and label.endswith((".bz2", ".tbz", ".tbz2")):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    return None


def utf16_as_utf8(read: Read, head: bytes = b"") -> Read:
    """``read`` of UTF-16 bytes (``head`` already taken from it) as a read of UTF-8 bytes: each
    call gives the text decoded so far, ``head``'s first; empty only at the end."""
    decoder = codecs.getincrementaldecoder("utf-16")("replace")
    pending = [head] if head else []

    def read_utf8(size: int) -> bytes:
        while True:
            data = pending.pop() if pending else read(size)
            text = decoder.decode(data, final=not data)
            if text or not data:
                return text.encode()

    return read_utf8
