"""The built-in secret rules: every example expands and scans as its rule promises.

Examples are templates, expanded here with a seed derived from the rule id and the example's
index, so every run sees the same random keys and none is ever committed. Positives must yield a
finding of their rule whose secret sits in the text; negatives must yield none of that rule.
``context`` rules (endpoints) are never reported: their examples are checked against the rule's
own regex instead.
"""

from __future__ import annotations

import random
import re
import zlib
from pathlib import Path

import pytest

from stormwatch.secrets.ruleset import SecretRule, builtin_rules, expand_template
from stormwatch.secrets.scanner import scan_text

RULES = builtin_rules()
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _expanded(rule: SecretRule, sign: str, index: int, template: str) -> str:
    seed = zlib.crc32(f"{rule.id}:{sign}:{index}".encode())
    return expand_template(template, random.Random(seed))


def _cases(sign: str) -> list[pytest.param]:  # type: ignore[valid-type]
    return [
        pytest.param(rule, _expanded(rule, sign, i, t), id=f"{rule.id}-{sign}-{i}")
        for rule in RULES.rules
        for i, t in enumerate(rule.positive if sign == "pos" else rule.negative)
    ]


@pytest.mark.parametrize(("rule", "text"), _cases("pos"))
def test_positive_example_is_found(rule: SecretRule, text: str) -> None:
    if not rule.reported:
        assert rule.regex.search(text), text
        return
    secrets = [f.secret for f in scan_text(text) if f.rule_id == rule.id]
    assert secrets, f"{rule.id} found nothing in {text!r}"
    assert all(secret in text for secret in secrets)


@pytest.mark.parametrize(("rule", "text"), _cases("neg"))
def test_negative_example_is_not_found(rule: SecretRule, text: str) -> None:
    if not rule.reported:
        assert not rule.regex.search(text), text
        return
    found = [f.secret for f in scan_text(text) if f.rule_id == rule.id]
    assert found == [], f"{rule.id} reported {found} in {text!r}"


def test_every_rule_has_two_examples_of_each_kind() -> None:
    thin = [r.id for r in RULES.rules if len(r.positive) < 2 or len(r.negative) < 2]
    assert thin == []


def test_rule_ids_are_unique_kebab_case() -> None:
    ids = [rule.id for rule in RULES.rules]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not KEBAB.match(i)] == []


def test_every_rule_has_lowercase_keywords() -> None:
    bad = [r.id for r in RULES.rules if not r.keywords or any(k != k.lower() for k in r.keywords)]
    assert bad == []


def test_every_pattern_compiles_under_re2() -> None:
    re2 = pytest.importorskip("re2")
    options = re2.Options()
    options.max_mem = 64 << 20
    for rule in RULES.rules:
        re2.compile(rule.pattern, options)


def test_all_patterns_compile_into_one_hyperscan_database() -> None:
    hyperscan = pytest.importorskip("hyperscan")
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[rule.pattern.encode() for rule in RULES.rules],
        ids=list(range(len(RULES.rules))),
        elements=len(RULES.rules),
        flags=[0] * len(RULES.rules),
    )


def test_pairs_name_a_context_rule_or_a_secret_rule() -> None:
    ids = RULES.by_id()
    assert all(r.pairs.rule in ids for r in RULES.rules if r.pairs)


def test_cached_rule_files_give_the_rules_parsed_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORMWATCH_CACHE", "")
    fresh = builtin_rules()
    monkeypatch.setenv("STORMWATCH_CACHE", str(tmp_path))
    written = builtin_rules()  # parses, writes the cache
    (entry,) = tmp_path.glob("rules-*.marshal")
    assert builtin_rules() == written == fresh  # read from the cache
    entry.write_bytes(b"\x00broken")
    assert builtin_rules() == fresh  # an unreadable entry is parsed again
