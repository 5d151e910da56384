"""Source-like text made fast: line templates filled once into pools, then sampled per file.

Generating 200 MB line by line in Python would take minutes; filling a few thousand template
lines per file type and drawing files from them with ``random.choices`` takes seconds, while the
text keeps what matters to a scanner: identifiers, hashes, UUIDs, base64 blobs, URLs and a few
provider names in ordinary code. Every person, organisation and domain here is fictional.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable
from dataclasses import dataclass


def _split(text: str) -> list[str]:
    return text.split()


WORDS = _split(
    """account action adapter agent alert allocate archive audit batch bucket buffer build cache
callback channel checkpoint client cluster config consumer context counter cursor dataset deploy
digest dispatch document embedding encoder endpoint entry event export feature fetch filter
flush format gateway handler header index inference ingest invoice job kernel label ledger limit
loader logger manifest matrix message metric migrate model monitor node notify offset order
packet parser partition payload pipeline policy pool prompt queue quota reader record region
registry render replica report request resolve response retry route runner schema scope session
shard signal snapshot source stream summary table task tenant topic trace transform upload user
vector version worker writer"""
)
FIRST = _split(
    "Maren Tobias Ilse Oren Priya Caspian Linnea Dario Yusra Emeric Solveig Anselm Tamsin"
)
LAST = _split("Holloway Brightwater Quenby Ashdown Marlowe Fairbairn Castellane Thornbury Ridgely")
ORGS = _split("quillfeather bramblecode larkspurlabs tidewell corvidworks amberline fernhollow")
# Provider names appear in ordinary code too (imports, model names): realistic context for the
# context-only rules, which must not fire on the hashes around them.
PROVIDER_WORDS = _split("openai anthropic mistral cohere deepseek groq replicate wandb pinecone")
MODEL_VENDORS = _split("openai anthropic mistral cohere deepseek groq")
TYPES = _split("int str float bool bytes dict list")


def _pick(seq: list[str]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(seq)


def _hex(bits: int) -> Callable[[random.Random], str]:
    return lambda rng: f"{rng.getrandbits(bits):0{bits // 4}x}"


def _ident(rng: random.Random) -> str:
    return "_".join(rng.choices(WORDS, k=rng.randint(1, 3)))


def _camel(rng: random.Random) -> str:
    return "".join(w.title() for w in rng.choices(WORDS, k=rng.randint(1, 3)))


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _b64(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(rng.choice((18, 24, 48, 96, 180, 300)))).decode()


def _url(rng: random.Random) -> str:
    org, word, other = rng.choice(ORGS), rng.choice(WORDS), rng.choice(WORDS)
    return rng.choice(
        (
            f"https://{word}.{org}.example/v{rng.randint(1, 3)}/{other}?n={rng.randint(1, 999)}",
            f"https://git.{org}.example/{word}/{other}/commit/{rng.getrandbits(160):040x}",
            f"https://docs.{org}.example/{word}-{other}.html#{word}",
        )
    )


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(5, 14)))


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}@{rng.choice(ORGS)}.example"


def _model(rng: random.Random) -> str:
    return f"{rng.choice(MODEL_VENDORS)}-{rng.choice(WORDS)}-{rng.randint(1, 9)}"


FIELDS: dict[str, Callable[[random.Random], str]] = {
    "ident": _ident,
    "Ident": _camel,
    "IDENT": lambda rng: _ident(rng).upper(),
    "int": lambda rng: str(rng.randint(0, 65535)),
    "type": _pick(TYPES),
    "word": _pick(WORDS),
    "org": _pick(ORGS),
    "provider": _pick(PROVIDER_WORDS),
    "model": _model,
    "sha1": _hex(160),
    "md5": _hex(128),
    "sha256": _hex(256),
    "uuid": _uuid,
    "b64": _b64,
    "url": _url,
    "sentence": _sentence,
    "person": _person,
    "email": _email,
    "semver": lambda rng: f"{rng.randint(0, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
}
_FIELD = re.compile(r"\{(" + "|".join(FIELDS) + r")\}")


def fill(template: str, rng: random.Random) -> str:
    """One line from a template: every ``{field}`` replaced by a fresh random value."""
    return _FIELD.sub(lambda m: FIELDS[m.group(1)](rng), template)


# (weight, template) per file type; provider lines are rare, as in real code.
PYTHON = [
    (4, "import {ident}"), (4, "from {ident}.{ident} import {Ident}"), (10, ""),
    (6, "def {ident}({ident}, {ident}={int}):"), (4, '    """{sentence}."""'),
    (12, "    {ident} = {ident}.{ident}({ident}, {ident}={ident})"), (6, "    return {ident}"),
    (4, "    if {ident} is None:"), (3, '        raise {Ident}Error("{sentence}")'),
    (6, "    # {sentence}"), (2, '{IDENT} = "{sha1}"'), (2, '    checksum = "{sha256}"'),
    (2, '    request_id = "{uuid}"'), (2, '    url = "{url}"'), (1, '    blob = "{b64}"'),
    (3, "class {Ident}({Ident}):"), (4, "    {ident}: {type} = {int}"),
    (4, '    logger.info("{sentence} %s", {ident})'), (4, "    for {ident} in {ident}.{ident}():"),
    (4, "        {ident}.append({ident}[{int}])"), (2, '    etag = "{md5}"'),
    (1, '__author__ = "{person} <{email}>"'), (1, '    model = "{model}"'),
    (1, "from {provider} import {Ident}"), (1, '    wandb.log({{"{ident}": {ident}}})'),
]  # fmt: skip
JAVASCRIPT = [
    (5, 'const {ident} = require("{ident}");'), (5, 'import {{ {Ident} }} from "./{ident}";'),
    (8, ""), (6, "export function {ident}({ident}, {ident}) {{"), (4, "}}"),
    (10, "  const {ident} = await {ident}.{ident}({ident});"), (4, "  return {ident};"),
    (5, "  // {sentence}"), (2, '  const requestId = "{uuid}";'), (2, '  const url = "{url}";'),
    (2, '  const commit = "{sha1}";'), (1, '  const integrity = "sha256-{b64}";'),
    (4, "  if (!{ident}) throw new Error(`{sentence}`);"), (3, "  {ident}.{ident}({int});"),
    (2, "interface {Ident} {{ {ident}: {type}; {ident}?: string }}"),
    (1, '  const model = "{model}";'), (1, 'import {Ident} from "{provider}";'),
]  # fmt: skip
YAML = [
    (6, "{ident}:"), (10, "  {ident}: {ident}"), (4, "  - name: {ident}"),
    (4, '    value: "{url}"'), (3, "    image: registry.{org}.example/{ident}:{semver}"),
    (2, "    digest: sha256:{sha256}"), (3, "  replicas: {int}"), (3, "# {sentence}"),
    (2, "  uid: {uuid}"), (2, "  revision: {sha1}"), (1, "  ca_bundle: {b64}"), (4, ""),
    (3, "      run: {ident} --{ident} {int}"), (1, "  model: {model}"),
    (1, "  maintainer: {person} <{email}>"),
]  # fmt: skip
JSON_LINES = [
    (8, '  "{ident}": "{ident}",'), (4, '  "{ident}": {int},'), (3, '  "resolved": "{url}",'),
    (2, '  "integrity": "sha512-{b64}",'), (2, '  "id": "{uuid}",'), (2, '  "sha": "{sha1}",'),
    (2, '  "md5": "{md5}",'), (1, '  "description": "{sentence}",'),
]  # fmt: skip
ENV = [
    (6, "{IDENT}={ident}"), (3, "{IDENT}={int}"), (2, "{IDENT}_URL={url}"), (2, "# {sentence}"),
    (1, "{IDENT}_ID={uuid}"), (1, "BUILD_SHA={sha1}"), (2, ""), (1, "MODEL={model}"),
]  # fmt: skip
MARKDOWN = [
    (3, "## {Ident}"), (12, "{sentence}. {sentence}."), (6, ""), (3, "- {sentence}"),
    (2, "See [{word}]({url}) for the {word} {word}."), (1, "Fixed in commit {sha1}."),
    (1, "`{ident}` returns `{type}`; request id `{uuid}`."), (1, "Use the `{model}` model."),
]  # fmt: skip
TERRAFORM = [
    (3, 'resource "{ident}" "{ident}" {{'), (3, "}}"), (3, ""), (10, '  {ident} = "{ident}"'),
    (3, "  {ident} = {int}"), (2, '  tags = {{ Owner = "{person}", Team = "{word}" }}'),
    (1, '  source_hash = "{sha256}"'), (1, '  endpoint = "{url}"'), (2, "# {sentence}"),
]  # fmt: skip
MINIFIED = [
    (6, "var {ident}=function({ident},{ident}){{return {ident}.{ident}({ident})}}"),
    (4, '{ident}.{ident}("{ident}",{int})'), (2, 'fetch("{url}")'), (1, 'var {ident}="{b64}"'),
    (2, "if(!{ident})throw new Error(\"{sentence}\")"), (1, 'x.commit="{sha1}"'),
]  # fmt: skip
TEMPLATES = {
    "py": PYTHON,
    "js": JAVASCRIPT,
    "ts": JAVASCRIPT,
    "yaml": YAML,
    "json": JSON_LINES,
    "env": ENV,
    "md": MARKDOWN,
    "tf": TERRAFORM,
    "min.js": MINIFIED,
}


@dataclass(frozen=True)
class LinePool:
    """Pre-filled lines of one file type and their mean length (to size files)."""

    lines: tuple[str, ...]
    mean: float

    def draw(self, rng: random.Random, size: int) -> list[str]:
        """About ``size`` characters of lines, sampled with replacement."""
        return rng.choices(self.lines, k=max(1, int(size / (self.mean + 1))))


def build_pool(templates: list[tuple[int, str]], rng: random.Random, size: int) -> LinePool:
    """``size`` lines filled from weighted templates (braces doubled in templates are literal)."""
    weights = [w for w, _ in templates]
    chosen = rng.choices([t for _, t in templates], weights=weights, k=size)
    lines = tuple(fill(t, rng).replace("{{", "{").replace("}}", "}") for t in chosen)
    return LinePool(lines, sum(map(len, lines)) / len(lines))


def build_pools(rng: random.Random, size: int = 6000) -> dict[str, LinePool]:
    """One pool per file type."""
    return {kind: build_pool(templates, rng, size) for kind, templates in TEMPLATES.items()}
