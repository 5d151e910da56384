"""The cheap checks that spare the regexes work must never change an answer."""

from __future__ import annotations

import random
import re

import pytest

from stormwatch.secrets import filters
from stormwatch.secrets.candidates import RunFloor
from stormwatch.secrets.patterns import required_run
from stormwatch.secrets.ruleset import SecretRule, builtin_rules, expand_template

ALPHABET = "abcdef0123456789XYZ_-+/=<>{}$.*# \n"
WORDS = ("example", "EXAMPLE", "Example", "eXample", "your", "yOuR", "TEST", "fake", "xxxx")


def _reference_placeholder(secret: str) -> bool:
    """``is_placeholder`` without its shortcuts: the full search, then the run regex."""
    if filters._PLACEHOLDER.search(secret) is not None:
        return True
    limit = max(filters.LONGEST_RUN, len(secret) // 10)
    return re.search(f"(.)\\1{{{limit}}}", secret, re.DOTALL) is not None


def _noise(rng: random.Random, size: int, alphabet: str = ALPHABET) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\b([A-Za-z0-9]{40})(?:[^A-Za-z0-9_-]|$)", (62, 40)),
        (r"\b(sk-[a-f0-9]{32})\b", (16, 32)),
        (r"(?:AKIA|ASIA)[A-Z2-7]{16}", (32, 16)),
        (r"(?i)\b[a-f0-9]{32}\b", None),
        (r"x[^a-z]{20}", None),
        (r"(?:abc|[0-9]{30})", None),
    ],
)
def test_required_run(pattern: str, expected: tuple[int, int] | None) -> None:
    found = required_run(pattern)
    assert (None if found is None else (len(found[0]), found[1])) == expected


def _floored_rules() -> list[tuple[SecretRule, RunFloor, re.Pattern[bytes]]]:
    """Each built-in rule that has a run floor, with the floor and the rule's bytes regex."""
    found = []
    for rule in builtin_rules().rules:
        floor = RunFloor.of(rule.pattern)
        if floor is not None:
            found.append((rule, floor, re.compile(rule.pattern.encode())))
    return found


def test_run_floor_never_rejects_a_region_that_matches() -> None:
    rng = random.Random(11)
    for rule, floor, regex in _floored_rules():
        samples = [expand_template(t, rng) for t in (*rule.positive, *rule.negative)]
        for sample in samples * 3:
            region = f"{_noise(rng, rng.randint(0, 60))}{sample}{_noise(rng, 5)}".encode()
            cut = region[rng.randint(0, 40) :]
            if regex.search(cut):
                assert floor.allows(cut), (rule.id, cut)
            if not floor.allows(cut):
                assert regex.search(cut) is None, (rule.id, cut)


def test_placeholder_shortcut_gives_the_full_answer() -> None:
    rng = random.Random(5)
    for _ in range(20000):
        value = _noise(rng, rng.randint(1, 90), ALPHABET + "ſK…é")
        if rng.random() < 0.3:
            at = rng.randint(0, len(value))
            value = value[:at] + rng.choice(WORDS) + value[at:]
        if rng.random() < 0.2:
            value += rng.choice(ALPHABET) * rng.randint(5, 15)
        assert filters.is_placeholder(value) == _reference_placeholder(value), value


def test_regexes_start_where_a_match_can_first_start() -> None:
    """The regex of a region starts ``lead`` bytes before its first run: it finds what a
    search of the whole region finds."""
    rng = random.Random(11)
    for rule, floor, regex in _floored_rules():
        examples = [expand_template(t, rng).encode() for t in rule.positive]
        for _ in range(300):
            data = (_noise(rng, rng.randint(0, 60)) + "\n").encode().join(
                rng.sample(examples, k=min(2, len(examples)))
            ) + _noise(rng, rng.randint(0, 60)).encode()
            lo, hi = sorted(rng.randint(0, len(data)) for _ in range(2))
            whole = [m.span() for m in regex.finditer(data, lo, hi)]
            begin = floor.first_start(data, lo, hi)
            shortcut = [] if begin < 0 else [m.span() for m in regex.finditer(data, begin, hi)]
            assert shortcut == whole, (rule.id, data, lo, hi)
