"""Secret rules as data: the TOML schema, its loader, and the example templates rules carry.

Each provider has one TOML file under ``secrets/rules``. A file looks like::

    provider = "openai"
    provider_name = "OpenAI"

    [[rules]]
    id = "openai-project-key"                 # stable, kebab case
    description = "OpenAI project API key"
    access = "Models, completions, images and files of one OpenAI project, billed to it"
    pattern = '''\\b(sk-proj-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})(?:[^A-Za-z0-9_-]|$)'''
    keywords = ["sk-proj-"]                   # literals (case-insensitive) that must occur
    confidence = "high"                        # high | medium | low
    entropy = 3.0                              # optional floor (Shannon bits per char)
    kind = "secret"                            # secret (reported) | context (only paired with)
    verify = "openai"                          # optional verifier name
    context = { keywords = ["mistral"], window = 80, lines = 1 }  # optional: keyword nearby
    # (context also takes same_line = [...]: words one of which must be on the secret's line;
    #  default: key, token, secret, password, passwd, auth, credential, client(; [] for none)
    pairs = { rule = "azure-openai-endpoint", window = 400, required = true }   # optional
    # (a pair that is not required lowers confidence when missing, unless lower_if_missing = false)
    examples.positive = ['OPENAI_API_KEY="sk-proj-{{alnum:74}}T3BlbkFJ{{alnum:74}}"']
    examples.negative = ['OPENAI_API_KEY="sk-proj-xxxxxxxxxxxxxxxxxxxx"']

The pattern's first capture group is the secret (the whole match when it has none). Examples are
templates: ``{{alnum:N}}``, ``{{alnum_:N}}`` (letters, digits, ``_`` and ``-``), ``{{hex:N}}``,
``{{HEX:N}}``, ``{{lower:N}}``, ``{{upper:N}}``, ``{{b32:N}}`` (A-Z2-7), ``{{b64:N}}``
(A-Za-z0-9+/), ``{{digits:N}}`` and ``{{b64of:TEXT}}`` expand at test time to random strings, so the
repository never holds a secret-looking literal.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import marshal
import random
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast

from stormwatch.secrets.cache import cached, default_cache, store
from stormwatch.secrets.model import Confidence

RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CONFIDENCES = ("high", "medium", "low")
# Words on a line that assigns a credential; the default ``same_line`` of context rules.
CREDENTIAL_WORDS = (
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "auth",
    "credential",
    "client(",
)
KINDS = ("secret", "context")


class RuleError(ValueError):
    """A rule file is invalid; the message names the file and the rule."""


@dataclass(frozen=True)
class ContextRequirement:
    """A provider keyword must occur within ``window`` characters and ``lines`` line breaks of
    the secret (``lines = 0``: on the same line), and when ``same_line`` is not empty, one of
    those words on the secret's own line (``key``, ``token``: it is being assigned as a
    credential, not a hash that happens to sit near a provider's name)."""

    keywords: tuple[str, ...]
    window: int = 80
    lines: int = 1
    same_line: tuple[str, ...] = ()


@dataclass(frozen=True)
class PairRequirement:
    """Another rule's match (e.g. an endpoint, or the other half of a key) near the secret.

    Without its pair a finding is dropped (``required``) or, unless ``lower_if_missing`` is
    false, reported one confidence level lower.
    """

    rule: str
    window: int = 400
    required: bool = False
    lower_if_missing: bool = True


@dataclass(frozen=True)
class SecretRule:
    """One detection rule; see the module docstring for the file format."""

    id: str
    provider: str
    provider_name: str
    description: str
    access: str
    pattern: str
    keywords: tuple[str, ...] = ()
    confidence: Confidence = "high"
    entropy: float | None = None
    kind: str = "secret"
    verify: str | None = None
    context: ContextRequirement | None = None
    pairs: PairRequirement | None = None
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    # What scans run (on bytes); compiling it also checks the pattern when the rule is made.
    bytes_regex: re.Pattern[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bytes_regex", re.compile(self.pattern.encode()))

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        """The pattern on text (examples, tests), compiled on first use."""
        return re.compile(self.pattern)

    @property
    def reported(self) -> bool:
        return self.kind == "secret"


@dataclass(frozen=True)
class RuleSet:
    """All rules in force, by id."""

    rules: tuple[SecretRule, ...]

    def by_id(self) -> dict[str, SecretRule]:
        return {rule.id: rule for rule in self.rules}

    def extended(self, extra: Iterable[SecretRule]) -> RuleSet:
        """This set with ``extra`` rules added; an extra rule replaces a built-in of the same id."""
        merged = self.by_id()
        merged.update({rule.id: rule for rule in extra})
        return RuleSet(tuple(merged.values()))


def _rule_from_table(table: Mapping[str, Any], provider: str, name: str, where: str) -> SecretRule:
    rid = str(table.get("id", ""))
    if not RULE_ID.match(rid):
        raise RuleError(f"{where}: rule id {rid!r} is not kebab case")
    for key in ("description", "access", "pattern"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise RuleError(f"{where}: rule {rid}: '{key}' is required")
    confidence = table.get("confidence", "high")
    kind = table.get("kind", "secret")
    if confidence not in CONFIDENCES or kind not in KINDS:
        raise RuleError(f"{where}: rule {rid}: bad confidence {confidence!r} or kind {kind!r}")
    ctx, pair = table.get("context"), table.get("pairs")
    examples = table.get("examples", {})
    try:
        return SecretRule(
            id=rid,
            provider=str(table.get("provider", provider)),
            provider_name=str(table.get("provider_name", name)),
            description=table["description"],
            access=table["access"],
            pattern=table["pattern"],
            keywords=tuple(str(k).lower() for k in table.get("keywords", ())),
            confidence=cast(Confidence, confidence),
            entropy=float(table["entropy"]) if "entropy" in table else None,
            kind=kind,
            verify=table.get("verify"),
            context=ContextRequirement(
                tuple(str(k).lower() for k in ctx["keywords"]),
                int(ctx.get("window", 80)),
                int(ctx.get("lines", 1)),
                tuple(str(w).lower() for w in ctx.get("same_line", CREDENTIAL_WORDS)),
            )
            if ctx
            else None,
            pairs=PairRequirement(
                str(pair["rule"]),
                int(pair.get("window", 400)),
                bool(pair.get("required", False)),
                bool(pair.get("lower_if_missing", True)),
            )
            if pair
            else None,
            positive=tuple(examples.get("positive", ())),
            negative=tuple(examples.get("negative", ())),
        )
    except (re.error, KeyError, TypeError, ValueError) as exc:
        raise RuleError(f"{where}: rule {rid}: {exc}") from exc


def parse_rules(document: Mapping[str, Any], where: str) -> list[SecretRule]:
    """Rules of one parsed TOML document (a provider file or a user config)."""
    provider = str(document.get("provider", "custom"))
    name = str(document.get("provider_name", provider))
    tables = document.get("rules", [])
    if not isinstance(tables, list):
        raise RuleError(f"{where}: 'rules' must be an array of tables")
    return [
        _rule_from_table(t, provider, name, f"{where}[rules #{i + 1}]")
        for i, t in enumerate(tables)
    ]


def load_rule_file(path: Path) -> list[SecretRule]:
    """Rules of one TOML file."""
    import tomllib

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path}: {exc}") from exc
    return parse_rules(document, str(path))


def builtin_rules() -> RuleSet:
    """The rules shipped with stormwatch, one TOML file per provider."""
    folder = resources.files("stormwatch.secrets") / "rules"
    files = [
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    ]
    rules = [
        rule
        for name, document in _rule_documents(files)
        for rule in parse_rules(document, f"rules/{name}")
    ]
    ruleset = RuleSet(tuple(rules))
    _check_references(ruleset)
    return ruleset


def _rule_documents(files: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
    """Each rule file's name and parsed TOML. Parsed documents are cached by the files' content
    (``marshal``): TOML parsing is pure Python, and was a tenth of a small scan's start-up."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for name, text in files:
        digest.update(f"{name}\0{text}\0".encode())
    folder = default_cache()
    entry = folder / f"rules-{digest.hexdigest()[:32]}.marshal" if folder else None
    blob = cached(entry)
    if blob is not None:
        try:
            documents: list[tuple[str, dict[str, Any]]] = marshal.loads(blob)
            return documents
        except (EOFError, ValueError, TypeError):
            pass
    import tomllib

    documents = [(name, tomllib.loads(text)) for name, text in files]
    store(entry, marshal.dumps(documents))
    return documents


def _check_references(ruleset: RuleSet) -> None:
    ids = ruleset.by_id()
    if len(ids) != len(ruleset.rules):
        raise RuleError("duplicate rule ids among the built-in rules")
    for rule in ruleset.rules:
        if rule.pairs and rule.pairs.rule not in ids:
            raise RuleError(f"rule {rule.id} pairs with unknown rule {rule.pairs.rule}")


_ALPHABETS = {
    "alnum": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "alnum_": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "b32": "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
    "b64": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "digits": "0123456789",
}
_TEMPLATE = re.compile(r"\{\{(\w+):([^}]*)\}\}")


def expand_template(template: str, rng: random.Random) -> str:
    """Replace every ``{{class:N}}`` (or ``{{b64of:TEXT}}``) in ``template`` with random text."""

    def fill(match: re.Match[str]) -> str:
        kind, arg = match.group(1), match.group(2)
        if kind == "b64of":
            return base64.b64encode(
                expand_template(arg.replace("[[", "{{").replace("]]", "}}"), rng).encode()
            ).decode()
        if kind not in _ALPHABETS:
            raise RuleError(f"unknown template class {kind!r} in {template!r}")
        alphabet = _ALPHABETS[kind]
        return "".join(rng.choice(alphabet) for _ in range(int(arg)))

    return _TEMPLATE.sub(fill, template)
