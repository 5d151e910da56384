"""Pure filters that tell a real-looking secret from a placeholder, an example or noise.

False positives are the field's first complaint about secret scanners, so every candidate passes
these checks before it becomes a finding. Each function is pure and cheap.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from stormwatch.secrets.model import Confidence

# Forms that mark a value as a placeholder or a redaction wherever they occur.
PLACEHOLDER_FORMS = (
    "xxxx", "XXXX", "<", ">", "${", "{{", "}}", "...", "…", "****", "####", "0000000",
    "1234567890", "abcdefgh", "ABCDEFGH",
)  # fmt: skip
# Words that mark a documentation example or a placeholder. Long words count anywhere in one
# case (random bodies practically never spell them); short ones only when they stand apart,
# since a random 40-character body spells "your" or "fake" once in a few thousand keys.
_LONG_WORDS = ("example", "placeholder", "redacted", "changeme", "replace", "insert", "sample")
_SHORT_WORDS = ("your", "fake", "dummy", "lorem", "qwerty", "test", "demo", "todo")
PLACEHOLDER_WORDS = re.compile(
    "|".join(
        [*(f"{w}|{w.upper()}|{w.capitalize()}" for w in _LONG_WORDS)]
        + [rf"(?<![A-Za-z])(?i:{w})(?![A-Za-z])" for w in _SHORT_WORDS]
    )
)
# Forms and words in one search: each candidate is checked, and hard negatives are many.
_PLACEHOLDER = re.compile(
    "|".join([*(re.escape(form) for form in PLACEHOLDER_FORMS), PLACEHOLDER_WORDS.pattern])
)
# Every word above, lower case: a value holding none of them (nor a form) cannot match.
_WORDS = tuple(word.lower() for word in (*_LONG_WORDS, *_SHORT_WORDS))
LONGEST_RUN = 6
_RUN = re.compile(rf"(.)\1{{{LONGEST_RUN},}}", re.DOTALL)  # maximal runs longer than the floor
ALLOW_MARKER = b"stormwatch:allow"
TEST_PATH = re.compile(
    r"(?:^|[/\\])(?:tests?|spec|specs|__tests__|fixtures?|mocks?|testdata)(?:[/\\])"
    r"|(?:^|[/\\])(?:test_[^/\\]*|[^/\\]*_test\.\w+|[^/\\]*\.(?:test|spec)\.\w+)$",
    re.IGNORECASE,
)
_LOWER = {"high": "medium", "medium": "low", "low": "low"}


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``."""
    if not text:
        return 0.0
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values())


def longest_run(text: str) -> int:
    """Length of the longest run of one repeated character."""
    best = run = 0
    previous = ""
    for char in text:
        run = run + 1 if char == previous else 1
        previous = char
        best = max(best, run)
    return best


def is_placeholder(secret: str) -> bool:
    """True when the value reads as a placeholder, a documented example or a redacted form."""
    if _may_be_placeholder(secret) and _PLACEHOLDER.search(secret) is not None:
        return True
    # A run longer than the limit, found by the regex engine instead of a loop in Python.
    limit = max(LONGEST_RUN, len(secret) // 10)
    return any(run.end() - run.start() > limit for run in _RUN.finditer(secret))


def _may_be_placeholder(secret: str) -> bool:
    """False when the placeholder search cannot match: substring tests are many times cheaper
    than the search, and most candidates hold no form and no word at all. Non-ASCII values
    always get the search (case-insensitive matching knows more letters than ``lower``)."""
    if not secret.isascii():
        return True
    lower = secret.lower()
    return any(form in secret for form in PLACEHOLDER_FORMS) or any(w in lower for w in _WORDS)


HASH_WORDS = re.compile(
    rb"(?:commit|sha\d*|revision|rev|etag|digest|checksum|hash|md5|integrity|version|uuid|"
    rb"/blob/|/tree/|/commits?/|@)[\s\"':=/#-]{0,4}$",
    re.IGNORECASE,
)
HEX = frozenset("0123456789abcdefABCDEF")


def looks_like_hash(before: bytes, secret: str) -> bool:
    """True for a hex value that the text right before it names as a hash, id or revision."""
    return all(c in HEX for c in secret) and HASH_WORDS.search(before[-24:]) is not None


def inside_base64(before: bytes, after: bytes) -> bool:
    """True when the value is a slice of a longer base64 blob (``+`` or ``/`` before it,
    ``+``, ``/`` or padding after it)."""
    return (before[-1:] in (b"+", b"/")) or (after[:1] in (b"+", b"/", b"="))


def too_uniform(secret: str, floor: float | None) -> bool:
    """True when the value's entropy is below the rule's floor (repeated or patterned bodies)."""
    return floor is not None and shannon_entropy(secret) < floor


def has_allow_marker(line: bytes) -> bool:
    """True when the line carries an inline ``stormwatch:allow`` suppression."""
    return ALLOW_MARKER in line


def is_test_path(path: str) -> bool:
    """True for paths of test code and fixtures, where confidence is lowered (never hidden)."""
    return TEST_PATH.search(path) is not None


def lowered(confidence: Confidence) -> Confidence:
    """One confidence level down."""
    result: Confidence = _LOWER[confidence]  # type: ignore[assignment]
    return result
