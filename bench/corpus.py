"""The benchmark corpus: many source-like files of mixed sizes, planted keys and the ground truth.

Layout of ``<work>/corpus-<mb>mb-seed<seed>/``: ``tree/`` is what the tools scan;
``truth.jsonl`` lists every planted positive (path, line, rule id, sha256 and sha1 of the
secret, where it was planted); ``negatives.jsonl`` lists the hard negatives and the sha256 of
anything a pattern matches in them; ``manifest.json`` holds the parameters, so a corpus with the
same parameters, seed and rules is reused instead of regenerated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from plants import Plant, by_where, plan_plants, sha1_hex, sha256_hex
from pools import ORGS, WORDS, LinePool, build_pools, fill
from stormwatch.secrets.ruleset import RuleSet

GENERATOR = 4
MB = 1_000_000
KIND_WEIGHTS = {
    "py": 26,
    "js": 12,
    "ts": 10,
    "yaml": 10,
    "json": 10,
    "md": 10,
    "ipynb": 8,
    "tf": 5,
    "env": 4,
}
PLAIN_KINDS = ("py", "js", "ts", "yaml", "env", "md", "tf")
FOLDERS = {
    "py": "src/{word}",
    "js": "web/src",
    "ts": "web/src/{word}",
    "yaml": "deploy/{word}",
    "json": "config",
    "md": "docs",
    "ipynb": "notebooks",
    "tf": "infra/{word}",
    "env": "",
    "k8s": "deploy/k8s",
    "min.js": "web/dist",
}
SUFFIX = {"ipynb": ".ipynb", "k8s": ".yaml", "min.js": ".min.js", "env": ".env"}


@dataclass(frozen=True)
class FileSpec:
    """One file to write: where, what kind of text, about how many bytes."""

    path: str
    kind: str
    size: int
    plants: tuple[Plant, ...] = ()


@dataclass(frozen=True)
class Corpus:
    """A generated (or reused) corpus and what the benchmark needs to know about it."""

    root: Path
    tree: Path
    files: int
    bytes: int
    planted: int
    negatives: int
    problems: tuple[str, ...]
    seconds: float
    reused: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def truth(self) -> Path:
        return self.root / "truth.jsonl"

    @property
    def negatives_file(self) -> Path:
        return self.root / "negatives.jsonl"


def rules_digest(rules: RuleSet) -> str:
    """Changes whenever a rule's pattern or examples change, so the corpus is regenerated."""
    state = [(r.id, r.pattern, r.positive, r.negative, r.context, r.pairs) for r in rules.rules]
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


class _Paths:
    """Unique, realistic paths: ``<org>-<project>/<folder>/<name><suffix>``."""

    def __init__(self, rng: random.Random, projects: int) -> None:
        self.rng = rng
        self.projects = [f"{rng.choice(ORGS)}-{rng.choice(WORDS)}" for _ in range(projects)]
        self.taken: set[str] = set()

    def new(self, kind: str) -> str:
        rng = self.rng
        folder = FOLDERS.get(kind, "data").replace("{word}", rng.choice(WORDS))
        if kind == "env":
            name = rng.choice(("", ".local", ".staging", ".production", f".{rng.choice(WORDS)}"))
            stem = ".env" + name if rng.random() < 0.7 else f"{rng.choice(WORDS)}"
            suffix = "" if stem.startswith(".env") else ".env"
        else:
            stem = "_".join(rng.choices(WORDS, k=rng.randint(1, 2)))
            suffix = SUFFIX.get(kind, f".{kind}")
        base = "/".join(p for p in (rng.choice(self.projects), folder) if p)
        path, n = f"{base}/{stem}{suffix}", 1
        while path in self.taken:
            n += 1
            path = f"{base}/{stem}_{n}{suffix}"
        self.taken.add(path)
        return path


def _size(rng: random.Random, kind: str) -> int:
    low, high = (200, 3000) if kind == "env" else (600, 120_000)
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def plan_files(mb: int, rng: random.Random, plants: Sequence[Plant]) -> list[FileSpec]:
    """Files of every kind adding up to ``mb`` MB, with each plant assigned to one of them."""
    paths = _Paths(rng, max(8, mb // 5))
    target = mb * MB
    big = [
        (paths.new(kind), kind, int(min(rng.uniform(2, 8) * MB, target * 0.05)))
        for kind in rng.choices(("py", "json", "md", "yaml"), k=max(2, mb // 40))
    ]
    minified = [
        (paths.new("min.js"), "min.js", int(min(rng.uniform(0.3, 1.5) * MB, target * 0.02)))
        for _ in range(max(3, mb // 25))
    ]
    groups = by_where(plants)
    k8s = [(paths.new("k8s"), "k8s", 0) for _ in range(-(-len(groups.get("k8s", [])) // 2))]
    total = sum(s for *_, s in big + minified)
    ordinary = []
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    while total < target:
        kind = rng.choices(kinds, weights=weights)[0]
        size = _size(rng, kind)
        ordinary.append((paths.new(kind), kind, size))
        total += size
    slots = {
        "plain": [f for f in ordinary if f[1] in PLAIN_KINDS],
        "notebook": [f for f in ordinary if f[1] == "ipynb"],
        "k8s": k8s,
        "minified": minified,
        "big": big,
    }
    return _assign(big + minified + k8s + ordinary, slots, groups, rng)


def _assign(
    files: list[tuple[str, str, int]],
    slots: dict[str, list[tuple[str, str, int]]],
    groups: dict[str, list[Plant]],
    rng: random.Random,
) -> list[FileSpec]:
    placed: dict[str, list[Plant]] = {}
    for where, plants in groups.items():
        targets = slots[where] or slots["plain"]
        if where == "k8s":
            for i, plant in enumerate(plants):
                placed.setdefault(targets[i // 2][0], []).append(plant)
            continue
        for plant in plants:
            placed.setdefault(rng.choice(targets)[0], []).append(plant)
    return [FileSpec(p, k, s, tuple(placed.get(p, ()))) for p, k, s in files]


def _insert(lines: list[str], blocks: Iterable[str], rng: random.Random) -> list[str]:
    for block in blocks:
        lines.insert(rng.randrange(len(lines) + 1), block)
    return lines


def _lines(spec: FileSpec, pool: LinePool, rng: random.Random) -> str:
    blocks = [p.text for p in spec.plants]
    if spec.kind == "md":
        blocks = [f"```\n{b}\n```" for b in blocks]
    lines = _insert(pool.draw(rng, spec.size), blocks, rng)
    if spec.kind == "json":
        return "{\n" + "\n".join(lines) + '\n  "_": 0\n}\n'
    return "\n".join(lines) + "\n"


def _cell(lines: Sequence[str], code: bool) -> dict[str, object]:
    source = [line + "\n" for line in lines[:-1]] + list(lines[-1:])
    if not code:
        return {"cell_type": "markdown", "metadata": {}, "source": source}
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def _output(rng: random.Random, pools: dict[str, LinePool]) -> dict[str, object]:
    if rng.random() < 0.2:
        png = base64.b64encode(rng.randbytes(rng.randint(2_000, 30_000))).decode()
        return {
            "output_type": "display_data",
            "metadata": {},
            "data": {"image/png": png, "text/plain": ["<Figure>"]},
        }
    text = [line + "\n" for line in pools["md"].draw(rng, 300)]
    return {"output_type": "stream", "name": "stdout", "text": text}


def _notebook(spec: FileSpec, pools: dict[str, LinePool], rng: random.Random) -> str:
    cells: list[dict[str, object]] = []
    size = 0
    while size < spec.size:
        code = rng.random() < 0.7
        lines = pools["py" if code else "md"].draw(rng, 500)
        cell = _cell(lines, code)
        if code and rng.random() < 0.5:
            cell["outputs"] = [_output(rng, pools)]
        cells.append(cell)
        size += len(json.dumps(cell))
    for plant in spec.plants:
        cells.insert(rng.randrange(len(cells) + 1), _cell(plant.text.split("\n"), True))
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1) + "\n"


def _k8s(spec: FileSpec, rng: random.Random) -> str:
    entries = [
        (fill("{IDENT}", rng), base64.b64encode(fill(t, rng).encode()).decode())
        for t in rng.choices(("{url}", "{ident}", "{uuid}", "{int}"), k=rng.randint(2, 5))
    ]
    for plant in spec.plants:
        entries.extend(
            (f"{plant.rule_id.upper().replace('-', '_')}", base64.b64encode(s.encode()).decode())
            for s in plant.secrets
        )
    rng.shuffle(entries)
    name = fill("{ident}", rng).replace("_", "-")
    head = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {name}\n"
    return head + "type: Opaque\ndata:\n" + "".join(f"  {k}: {v}\n" for k, v in entries)


def _minified(spec: FileSpec, pool: LinePool, rng: random.Random) -> str:
    parts = _insert(pool.draw(rng, spec.size), [p.text for p in spec.plants], rng)
    return ";".join(parts) + "\n"


def render(spec: FileSpec, pools: dict[str, LinePool], rng: random.Random) -> str:
    """The text of one file, with its plants in place."""
    if spec.kind == "ipynb":
        return _notebook(spec, pools, rng)
    if spec.kind == "k8s":
        return _k8s(spec, rng)
    if spec.kind == "min.js":
        return _minified(spec, pools["min.js"], rng)
    return _lines(spec, pools[spec.kind], rng)


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _as_written(secret: str, where: str) -> tuple[str, list[str]]:
    """How a secret appears in its file, and the sha256 of that form when it differs: a notebook
    holds JSON-escaped text, so a scanner that does not unescape reports the escaped form."""
    if where == "k8s":
        return base64.b64encode(secret.encode()).decode(), []
    if where == "notebook":
        escaped = json.dumps(secret)[1:-1]
        if escaped != secret:
            return escaped, [sha256_hex(escaped)]
    return secret, []


def truth_rows(
    spec: FileSpec, text: str
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Ground-truth rows of one written file: planted positives, and hard negatives."""
    positives: list[dict[str, object]] = []
    negatives: list[dict[str, object]] = []
    for plant in spec.plants:
        base = {"path": spec.path, "rule_id": plant.rule_id, "example": plant.example}
        if not plant.positive:
            shas = [sha256_hex(s) for s in plant.secrets + plant.others]
            first = plant.text.split("\n")[0]
            if plant.where == "notebook":
                first = json.dumps(first)[1:-1]
            negatives.append({**base, "line": _line_of(text, first), "match_sha256": shas})
            continue
        for role, values in (("planted", plant.secrets), ("other", plant.others)):
            for secret in values:
                needle, alt = _as_written(secret, plant.where)
                positives.append(
                    {
                        **base,
                        "line": _line_of(text, needle),
                        "where": plant.where,
                        "role": role,
                        "secret_sha256": sha256_hex(secret),
                        "alt_sha256": alt,
                        "secret_sha1": sha1_hex(secret),
                    }
                )
    return positives, negatives


def _write_jsonl(path: Path, rows: Iterable[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, sort_keys=True) + "\n" for row in rows)


def generate(root: Path, mb: int, seed: int, rules: RuleSet) -> dict[str, object]:
    """Write the corpus under ``root``; returns the manifest's figures."""
    started = time.perf_counter()
    pools = build_pools(random.Random(f"{seed}-pools"))
    plants, problems = plan_plants(rules, max(mb * 2, 100), max(mb * 20, 1000), random.Random(seed))
    rng = random.Random(f"{seed}-files")
    specs = plan_files(mb, rng, plants)
    tree = root / "tree"
    positives, negatives = [], []
    total = 0
    for spec in specs:
        text = render(spec, pools, rng)
        target = tree / spec.path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        target.write_bytes(data)
        total += len(data)
        pos, neg = truth_rows(spec, text)
        positives.extend(pos)
        negatives.extend(neg)
    _write_jsonl(root / "truth.jsonl", positives)
    _write_jsonl(root / "negatives.jsonl", negatives)
    counts: dict[str, int] = {}
    for spec in specs:
        counts[spec.kind] = counts.get(spec.kind, 0) + 1
    planted = sum(1 for row in positives if row["role"] == "planted")
    return {
        "files": len(specs),
        "bytes": total,
        "planted": planted,
        "negatives": len(negatives),
        "problems": problems,
        "seconds": round(time.perf_counter() - started, 2),
        "counts": counts,
    }


def ensure_corpus(work: Path, mb: int, seed: int, rules: RuleSet) -> Corpus:
    """The corpus for these parameters: reused when its manifest matches, else regenerated."""
    root = work / f"corpus-{mb}mb-seed{seed}"
    params = {"generator": GENERATOR, "mb": mb, "seed": seed, "rules": rules_digest(rules)}
    manifest = root / "manifest.json"
    reused = False
    if manifest.is_file() and json.loads(manifest.read_text()).get("params") == params:
        figures = json.loads(manifest.read_text())["figures"]
        reused = True
    else:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        figures = generate(root, mb, seed, rules)
        manifest.write_text(json.dumps({"params": params, "figures": figures}, indent=2))
    return Corpus(
        root,
        root / "tree",
        figures["files"],
        figures["bytes"],
        figures["planted"],
        figures["negatives"],
        tuple(figures["problems"]),
        figures["seconds"],
        reused,
        figures["counts"],
    )
