"""A git repository with thousands of commits, built in seconds with ``git fast-import``.

One stream describes the whole history: an initial tree of source-like files, then commits that
edit, add, rename and delete files, add keys (planted positives) and later delete most of them,
add hard negatives, a side branch merged back into ``main`` and an unmerged experiment branch.
Authors are fictional. ``history_truth.jsonl`` lists every key added, with its introducing commit.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from plants import Plant, plan_plants, sha256_hex
from pools import FIRST, LAST, ORGS, WORDS, LinePool, build_pools
from stormwatch.secrets.ruleset import RuleSet

GENERATOR = 5
KINDS = ("py", "py", "js", "ts", "yaml", "md", "tf", "env")
OPS = {"edit": 70, "add": 8, "rename": 4, "delete": 2, "plant": 11, "unkey": 5}
SUFFIX = {"env": ".env"}


@dataclass
class _State:
    """The tree of one branch: path → lines (a planted block is one element)."""

    files: dict[str, list[str]]
    keys: list[tuple[str, Plant]] = field(default_factory=list)

    def copy(self) -> _State:
        return _State({p: list(lines) for p, lines in self.files.items()}, list(self.keys))


@dataclass
class _Writer:
    """Writes the fast-import stream; marks number commits from 1."""

    out: IO[bytes]
    rng: random.Random
    pools: dict[str, LinePool]
    clock: int = 1_609_459_200
    mark: int = 0
    truth: list[dict[str, object]] = field(default_factory=list)

    def commit(
        self, branch: str, changes: list[bytes], parent: int | None = None, merge: int | None = None
    ) -> int:
        """Write one commit on ``branch``; returns its mark."""
        self.mark += 1
        self.clock += self.rng.randint(600, 30_000)
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        who = f"{first} {last} <{first.lower()}.{last.lower()}@{self.rng.choice(ORGS)}.example>"
        verb = self.rng.choice(("Fix", "Add", "Refactor", "Update", "Remove", "Tune", "Document"))
        message = f"{verb} {self.rng.choice(WORDS)} {self.rng.choice(WORDS)} handling\n".encode()
        head = (
            f"commit refs/heads/{branch}\nmark :{self.mark}\n"
            f"author {who} {self.clock} +0000\ncommitter {who} {self.clock} +0000\n"
            f"data {len(message)}\n"
        ).encode()
        links = (f"from :{parent}\n" if parent else "") + (f"merge :{merge}\n" if merge else "")
        self.out.write(head + message + links.encode() + b"".join(changes) + b"\n")
        return self.mark


def _put(path: str, lines: list[str]) -> bytes:
    data = ("\n".join(lines) + "\n").encode()
    return f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"


def _new_path(rng: random.Random, state: _State) -> str:
    kind = rng.choice(KINDS)
    while True:
        folder = rng.choice(("src", "app", "deploy", "docs", "infra", "web/src", "scripts"))
        stem = "_".join(rng.choices(WORDS, k=2))
        path = f"{folder}/{rng.choice(WORDS)}/{stem}{SUFFIX.get(kind, '.' + kind)}"
        if path not in state.files:
            return path


def _pool_of(path: str, pools: dict[str, LinePool]) -> LinePool:
    return pools.get(path.rsplit(".", 1)[-1], pools["py"])


def _new_file(w: _Writer, state: _State) -> bytes:
    path = _new_path(w.rng, state)
    state.files[path] = _pool_of(path, w.pools).draw(w.rng, w.rng.randint(1_500, 24_000))
    return _put(path, state.files[path])


def _edit(w: _Writer, state: _State, path: str, block: str | None = None) -> bytes:
    lines = list(state.files[path])
    pool = _pool_of(path, w.pools)
    keys = {plant.text for _, plant in state.keys}
    for _ in range(w.rng.randint(1, 12)):
        at = w.rng.randrange(len(lines) + 1)
        if at < len(lines) and lines[at] not in keys:
            lines[at] = w.rng.choice(pool.lines)
        else:
            lines.insert(at, w.rng.choice(pool.lines))
    if block is not None:
        lines.insert(w.rng.randrange(len(lines) + 1), block)
    state.files[path] = lines
    return _put(path, lines)


def _operation(
    w: _Writer, state: _State, op: str, plants: Iterator[Plant], branch: str, touched: set[str]
) -> bytes:
    """One change of a commit; never two on one path, so a later one cannot undo a plant."""
    rng, paths = w.rng, list(state.files)
    path = rng.choice([p for p in paths if p not in touched] or paths)
    touched.add(path)
    if op == "add" or len(paths) < 20:
        return _new_file(w, state)
    if op == "rename":
        new = _new_path(rng, state)
        touched.add(new)
        state.files[new] = state.files.pop(path)
        state.keys = [(new if p == path else p, k) for p, k in state.keys]
        return f"R {path} {new}\n".encode()
    if op == "delete":
        del state.files[path]
        state.keys = [(p, k) for p, k in state.keys if p != path]
        return f"D {path}\n".encode()
    removable = [i for i, (p, _) in enumerate(state.keys) if p not in touched]
    if op == "unkey" and removable:
        kpath, plant = state.keys.pop(rng.choice(removable))
        touched.add(kpath)
        state.files[kpath] = [line for line in state.files[kpath] if line != plant.text]
        return _put(kpath, state.files[kpath])
    if op == "plant":
        plant = next(plants)
        if not plant.positive:
            shas = [sha256_hex(s) for s in plant.secrets + plant.others]
            w.truth.append(
                {
                    "mark": w.mark + 1,
                    "negative": True,
                    "path": path,
                    "rule_id": plant.rule_id,
                    "example": plant.example,
                    "match_sha256": shas,
                }
            )
        else:
            state.keys.append((path, plant))
            w.truth.append(
                {
                    "mark": w.mark + 1,  # the commit being written
                    "branch": branch,
                    "path": path,
                    "rule_id": plant.rule_id,
                    "example": plant.example,
                    "secret_sha256": [sha256_hex(s) for s in plant.secrets],
                    "other_sha256": [sha256_hex(s) for s in plant.others],
                }
            )
        return _edit(w, state, path, plant.text)
    return _edit(w, state, path)


def _commits(
    w: _Writer,
    state: _State,
    branch: str,
    count: int,
    plants: Iterator[Plant],
    parent: int | None = None,
) -> int:
    ops, weights = list(OPS), list(OPS.values())
    mark = parent or 0
    for i in range(count):
        touched: set[str] = set()
        changes = [
            _operation(w, state, op, plants, branch, touched)
            for op in w.rng.choices(ops, weights=weights, k=w.rng.randint(1, 3))
        ]
        mark = w.commit(branch, changes, parent if i == 0 else None)
    return mark


def _plants(rules: RuleSet, commits: int, rng: random.Random) -> Iterator[Plant]:
    plants, _ = plan_plants(rules, max(commits // 10, 60), max(commits // 8, 100), rng)
    positives = [p for p in plants if p.positive]
    negatives = [p for p in plants if not p.positive]
    while True:  # keys and hard negatives in turn; repeats once all have been used
        yield from (p for pair in zip(positives, negatives, strict=False) for p in pair)


def write_history(w: _Writer, rules: RuleSet, commits: int) -> None:
    """The whole history: main, a side branch merged back, an unmerged experiment branch."""
    state = _State({})
    plants = _plants(rules, commits, w.rng)
    initial = [_new_file(w, state) for _ in range(max(40, commits // 5))]
    w.commit("main", initial)
    side_len, exp_len = max(3, commits // 25), max(2, commits // 100)
    first = int(commits * 0.4)
    fork = _commits(w, state, "main", first, plants)
    base, side = state.copy(), state.copy()
    side_tip = _commits(w, side, "feature/streaming", side_len, plants, parent=fork)
    _commits(w, state, "main", int(commits * 0.3), plants)
    # The merge takes the side branch's version of every file it touched.
    touched = {p: lines for p, lines in side.files.items() if base.files.get(p) != lines}
    state.files.update(touched)
    state.keys.extend(k for k in side.keys if k[0] in touched and k not in state.keys)
    merge = w.commit("main", [_put(p, lines) for p, lines in touched.items()], merge=side_tip)
    _commits(w, state.copy(), "experiment/cache", exp_len, plants, parent=merge)
    _commits(w, state, "main", max(1, commits - w.mark), plants)


@dataclass(frozen=True)
class Repo:
    """A generated (or reused) history repository."""

    path: Path
    commits: int
    keys: int
    seconds: float
    reused: bool

    @property
    def truth(self) -> Path:
        return self.path.parent / f"{self.path.name}.truth.jsonl"


def _marks(path: Path) -> dict[int, str]:
    marks = {}
    for line in path.read_text().splitlines():
        mark, sha = line.split()
        marks[int(mark[1:])] = sha
    return marks


def generate(path: Path, commits: int, seed: int, rules: RuleSet) -> dict[str, object]:
    """Build the repository at ``path``; returns the manifest's figures."""
    started = time.perf_counter()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    marks = path.parent / f"{path.name}.marks"
    command = ["git", "-C", str(path), "fast-import", "--quiet", f"--export-marks={marks}"]
    with subprocess.Popen(command, stdin=subprocess.PIPE) as proc:
        assert proc.stdin is not None
        pools = build_pools(random.Random(f"{seed}-history-pools"), 3000)
        writer = _Writer(proc.stdin, random.Random(f"{seed}-history"), pools)
        write_history(writer, rules, commits)
        proc.stdin.close()
    if proc.returncode:
        raise RuntimeError(f"git fast-import failed ({proc.returncode})")
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard"], check=True)
    shas = _marks(marks)
    rows = [{**row, "commit": shas[int(str(row.pop("mark")))]} for row in writer.truth]
    truth = path.parent / f"{path.name}.truth.jsonl"
    truth.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    seconds = round(time.perf_counter() - started, 2)
    keys = sum(1 for row in rows if not row.get("negative"))
    return {"commits": writer.mark, "keys": keys, "seconds": seconds}


def ensure_repo(work: Path, commits: int, seed: int, rules_digest: str, rules: RuleSet) -> Repo:
    """The history repository for these parameters: reused when its manifest matches."""
    path = work / f"repo-{commits}c-seed{seed}"
    manifest = work / f"{path.name}.json"
    params = {"generator": GENERATOR, "commits": commits, "seed": seed, "rules": rules_digest}
    if manifest.is_file() and json.loads(manifest.read_text()).get("params") == params:
        figures = json.loads(manifest.read_text())["figures"]
        return Repo(path, figures["commits"], figures["keys"], figures["seconds"], True)
    shutil.rmtree(path, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    figures = generate(path, commits, seed, rules)
    manifest.write_text(json.dumps({"params": params, "figures": figures}, indent=2))
    return Repo(
        path,
        int(str(figures["commits"])),
        int(str(figures["keys"])),
        float(str(figures["seconds"])),
        False,
    )
