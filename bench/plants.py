"""Keys and hard negatives to plant, expanded from the rules' own example templates.

Every reported rule gets planted positives (its ``positive`` templates filled with random values
by ``expand_template``) in several settings: plain text, JSON-escaped notebook cells, base64 in a
Kubernetes Secret, minified bundles and multi-MB files. Every rule's ``negative`` templates
(placeholders, documentation values, low entropy) are planted many times. Nothing secret-looking
is written in this file: all of it comes from the templates at run time.
"""

from __future__ import annotations

import hashlib
import random
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from stormwatch.secrets.ruleset import (
    RuleError,
    RuleSet,
    SecretRule,
    builtin_rules,
    expand_template,
    load_rule_file,
)

# Where a planted positive goes, and how often (negatives go to plain text and notebooks).
WHERE_WEIGHTS = {"plain": 64, "notebook": 12, "k8s": 12, "minified": 6, "big": 6}


@dataclass(frozen=True)
class Plant:
    """One expanded example and the secrets it holds.

    ``secrets`` are the planted rule's matches (for a positive: what must be found); ``others``
    are other rules' matches inside the same text, which a scanner may report as well.
    """

    rule_id: str
    example: int
    positive: bool
    text: str
    secrets: tuple[str, ...]
    others: tuple[str, ...]
    where: str


def load_rules() -> tuple[RuleSet, list[str]]:
    """The built-in rules; when a file does not load (rules are being edited), the others, and
    what went wrong."""
    try:
        return builtin_rules(), []
    except (RuleError, tomllib.TOMLDecodeError) as exc:
        problems = [f"built-in rules do not load: {exc}"]
    rules: list[SecretRule] = []
    folder = Path(str(resources.files("stormwatch.secrets") / "rules"))
    for path in sorted(folder.glob("*.toml")):
        try:
            rules.extend(load_rule_file(path))
        except RuleError as exc:
            problems.append(f"skipped {path.name}: {exc}")
    return RuleSet(tuple(rules)), problems


def sha256_hex(text: str) -> str:
    """Hex sha256 of a string, as stormwatch's ``secret_sha256``."""
    return hashlib.sha256(text.encode()).hexdigest()


def sha1_hex(text: str) -> str:
    """Hex sha1 of a string, as detect-secrets' ``hashed_secret``."""
    return hashlib.sha1(text.encode()).hexdigest()


def matches(rule: SecretRule, text: str) -> list[str]:
    """What a rule's pattern extracts from text: its first group, else the whole match."""
    found = []
    for match in rule.regex.finditer(text):
        value = match.group(1) if rule.regex.groups and match.group(1) else match.group(0)
        found.append(value)
    return found


def encodable(rule: SecretRule) -> bool:
    """Whether a bare secret of this rule, base64-encoded alone, should still be found: only
    self-identifying keys, since the context keyword or the pair is lost in the blob."""
    return rule.context is None and (rule.pairs is None or not rule.pairs.required)


def _where(rule: SecretRule, text: str, rng: random.Random) -> str:
    choices = dict(WHERE_WEIGHTS)
    if not encodable(rule):
        del choices["k8s"]
    if "\n" in text:
        del choices["minified"]
    return rng.choices(list(choices), weights=list(choices.values()))[0]


def _plant(
    rules: RuleSet, rule: SecretRule, index: int, positive: bool, rng: random.Random
) -> Plant:
    templates = rule.positive if positive else rule.negative
    text = expand_template(templates[index], rng)
    own = tuple(matches(rule, text))
    if positive:
        where = _where(rule, text, rng)
    else:
        where = rng.choices(("plain", "notebook"), weights=(85, 15))[0]
    others: tuple[str, ...] = ()
    if where != "k8s":  # only the bare secret goes into the Secret's data
        others = tuple(
            s
            for other in rules.rules
            if other is not rule and other.reported
            for s in matches(other, text)
            if s not in own
        )
    return Plant(rule.id, index, positive, text, own, others, where)


def plan_plants(
    rules: RuleSet, positives: int, negatives: int, rng: random.Random
) -> tuple[list[Plant], list[str]]:
    """About ``positives`` planted keys spread over every reported rule and its templates, and
    ``negatives`` hard negatives over every rule; plus the problems met (a positive template that
    its own pattern does not match)."""
    reported = [r for r in rules.rules if r.reported and r.positive]
    with_negatives = [r for r in rules.rules if r.negative]
    plants: list[Plant] = []
    problems: list[str] = []
    per_rule = max(3, -(-positives // max(1, len(reported))))
    for rule in reported:
        for n in range(per_rule):
            plant = _plant(rules, rule, n % len(rule.positive), True, rng)
            if plant.secrets:
                plants.append(plant)
            elif n < len(rule.positive):
                problems.append(
                    f"{rule.id}: positive example #{plant.example} does not match its pattern"
                )
    per_rule = max(5, -(-negatives // max(1, len(with_negatives))))
    for rule in with_negatives:
        plants.extend(
            _plant(rules, rule, n % len(rule.negative), False, rng) for n in range(per_rule)
        )
    rng.shuffle(plants)
    return plants, problems


def by_where(plants: Sequence[Plant]) -> dict[str, list[Plant]]:
    """Plants grouped by destination."""
    groups: dict[str, list[Plant]] = {}
    for plant in plants:
        groups.setdefault(plant.where, []).append(plant)
    return groups
