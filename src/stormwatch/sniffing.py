"""What a file's first bytes say it is, for scan and ingest alike: an archive or a compression
(by its magic bytes), text with a byte order mark, and UTF-16 text (Windows PowerShell 5.1's
``Out-File`` and ``>``) read as UTF-8. Standard library only: both commands import it at
start-up.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

Read = Callable[[int], bytes]


ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")  # a member's header; an empty zip's end record
TAR_NAMES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
TAR_BLOCK = 512
GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
# after bzip2's magic and block size digit: the first block's magic, or the end of an empty stream
BZIP2_STARTS = (b"1AY&SY", b"\x17rE8P\x90")
XZ_MAGIC = b"\xfd7zXZ\x00"


def archive_kind(label: str, head: bytes) -> str | None:
    """The archive format of content starting with ``head``, by its magic bytes (a tar: by its
    first header's magic and checksum, or, empty, by zero blocks under a tar's name)."""
    if head.startswith(ZIP_STARTS):
        return "zip"
    if _tar_header(head[:TAR_BLOCK]) or (
        len(head) >= TAR_BLOCK and not head.strip(b"\0") and label.lower().endswith(TAR_NAMES)
    ):
        return "tar"
    if head.startswith(BZIP2_MAGIC):  # "BZh" starts text too: a bzip2 file is named so
        return "bzip2" if label.endswith((".bz2", ".tbz", ".tbz2")) else None
    return compression_of(head)


def compression_of(head: bytes) -> str | None:
    """``gzip``, ``bzip2`` or ``xz`` when content starting with ``head`` (10 bytes suffice) is
    compressed so, whatever its name: bzip2 by its magic, block size and first block's magic."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(BZIP2_MAGIC) and head[3:4].isdigit() and head[4:10] in BZIP2_STARTS:
        return "bzip2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    return None


def _tar_header(block: bytes) -> bool:
    """A tar header: ``ustar`` at byte 257 and a checksum that adds up (text that merely holds
    the word there is no tar)."""
    if len(block) < TAR_BLOCK or block[257:262] != b"ustar":
        return False
    field = block[148:156].replace(b"\0", b" ").strip()
    if not field or field.strip(b"01234567"):
        return False
    rest = block[:148] + block[156:]  # the checksum field counts as eight spaces
    unsigned = 8 * 32 + sum(rest)
    signed = unsigned - 256 * sum(byte > 127 for byte in rest)  # old tars summed signed bytes
    return int(field, 8) in (unsigned, signed)


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
