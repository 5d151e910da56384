"""Scan benchmark: stormwatch next to ripgrep and detect-secrets on one generated corpus.

    python bench/scan_bench.py            # 200 MB corpus, 2,000-commit repository
    python bench/scan_bench.py --quick    # 20 MB, 300 commits
    python bench/scan_bench.py --json results.json --skip ds,parity

Generates (or reuses) a corpus with planted keys and hard negatives and a git history built with
``git fast-import``, then measures, printing every command it runs: the stormwatch directory scan
(recall and precision against the ground truth), ripgrep with the rules' patterns (default
threads and one thread), detect-secrets on a slice, the history scan against the
``git cat-file --batch-all-objects`` floor, and Hyperscan/RE2 parity. Not a test: it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accuracy import evaluate, evaluate_history, read_findings, read_jsonl
from corpus import MB, Corpus, ensure_corpus, rules_digest
from figures import Report, print_accuracy, print_tables
from history import Repo, ensure_repo
from measure import Run, repeated
from plants import load_rules
from stormwatch.secrets.ruleset import RuleSet

HERE = Path(__file__).resolve().parent
RG = ("rg", "--no-config", "--hidden", "--no-ignore", "--count")
RG_FALLBACKS = ((), ("--regex-size-limit", "2G", "--dfa-size-limit", "2G"), ("--engine", "auto"))
SKIPPABLE = ("rg", "ds", "history", "parity")


def timed(label: str, command: Sequence[str], repeat: int, **kwargs: Path | None) -> Run:
    """Run and print one measured command."""
    print(f"\n[{label}]\n$ {' '.join(map(str, command))}", flush=True)
    result = repeated([str(c) for c in command], repeat, **kwargs)
    print(
        f"  {result.seconds:.3f} s (median of {repeat}), CPU {result.cpu_seconds:.2f} s, "
        f"load {result.load:.1f}, exit {result.returncode}, "
        f"peak RSS {result.peak_rss_mb:.0f} MB, tree {result.tree_mb:.0f} MB"
    )
    if result.returncode > 1:
        print("  stderr: " + result.stderr.strip().replace("\n", "\n  stderr: "))
    return result


def stormwatch_command() -> list[str] | None:
    """The stormwatch CLI, if its scan command runs."""
    exe = shutil.which("stormwatch")
    if exe is None:
        return None
    probe = subprocess.run([exe, "scan", "--help"], capture_output=True, text=True)
    ok = probe.returncode == 0 and "--history" in probe.stdout and "--format" in probe.stdout
    return [exe] if ok else None


def warm(paths: Sequence[Path]) -> None:
    """Read everything once so that every tool sees the same warm page cache."""
    for root in paths:
        for folder, _, names in os.walk(root):
            for name in names:
                with open(os.path.join(folder, name), "rb") as handle:
                    while handle.read(1 << 20):
                        pass


def scan_dir(sw: list[str], tree: Path, out: Path, repeat: int, engine: str | None = None) -> Run:
    """stormwatch directory scan to a JSON report."""
    command = [*sw, "scan", str(tree), "--format", "json", "--output", str(out), "--quiet"]
    if engine:
        command += ["--engine", engine]
    return timed(f"stormwatch scan{' --engine ' + engine if engine else ''}", command, repeat)


def run_stormwatch(sw: list[str], corpus: Corpus, work: Path, repeat: int, report: Report) -> None:
    """Directory scan, timed, then recall and precision against the ground truth; the fixed
    cost of starting (imports, rule loading, pattern compilation) is measured on an empty
    directory and shown apart."""
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    start = scan_dir(sw, empty, work / "stormwatch-empty.json", repeat)
    report.add("stormwatch startup (empty)", start, None)
    out = work / "stormwatch-dir.json"
    result = scan_dir(sw, corpus.tree, out, repeat)
    report.add("stormwatch", result, corpus.bytes, threads=os.cpu_count())
    if result.seconds > start.seconds:
        steady = corpus.bytes / MB / (result.seconds - start.seconds)
        report.figures["dir_mbps_after_startup"] = round(steady, 1)
        print(f"  {steady:.1f} MB/s once started ({start.seconds:.2f} s startup)")
    if result.returncode > 1 or not out.is_file():
        report.note("stormwatch directory scan failed; no accuracy figures")
        return
    accuracy = evaluate(
        read_findings(out), read_jsonl(corpus.truth), read_jsonl(corpus.negatives_file)
    )
    report.figures["accuracy"] = accuracy.summary()
    print_accuracy("directory scan", accuracy)


def rule_patterns(rules: RuleSet, work: Path) -> Path:
    """Every rule's pattern, one per line, for ``rg -f``."""
    path = work / "patterns.txt"
    path.write_text("".join(rule.pattern + "\n" for rule in rules.rules))
    return path


def table_patterns(rules: RuleSet, work: Path) -> Path:
    """What stormwatch's engine pass searches (token patterns, provider keywords, base64 forms of
    markers), for a second ripgrep run that does the same first-pass work."""
    from stormwatch.secrets.patterns import build_table

    path = work / "patterns-table.txt"
    entries = build_table(rules).entries
    lines = [("(?i)" if e.kind == "keyword" else "") + e.pattern.decode() for e in entries]
    path.write_text("".join(line + "\n" for line in lines))
    return path


def run_rg(corpus: Corpus, rules: RuleSet, work: Path, repeat: int, report: Report) -> None:
    """ripgrep with the rules' patterns at its default thread count and on one thread, and with
    stormwatch's engine table."""
    patterns = rule_patterns(rules, work)
    variants = [("rg", (), patterns, repeat), ("rg -j1", ("-j1",), patterns, repeat)]
    try:  # informational and slow (case-insensitive keywords): timed once
        variants.append(("rg (engine table)", (), table_patterns(rules, work), 1))
    except ImportError:
        report.note("stormwatch.secrets.patterns not importable: no engine-table rg run")
    for name, threads, path, times in variants:
        for extra in RG_FALLBACKS:
            command = [*RG, *threads, *extra, "-f", str(path), str(corpus.tree)]
            result = timed(name, command, times, stdout=work / f"{_slug(name)}.txt")
            if result.returncode <= 1:
                break
            report.note(f"{name}: rejected the pattern set; retrying with {RG_FALLBACKS[1:]}")
        lines = _count_lines(work / f"{_slug(name)}.txt")
        report.add(
            name,
            result,
            corpus.bytes,
            options=" ".join(extra),
            matching_lines=lines,
            threads=1 if threads else os.cpu_count(),
        )
        if extra:
            report.note(f"{name} needed {' '.join(extra)}")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)


def _count_lines(path: Path) -> int:
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        total += int(line.rsplit(":", 1)[-1]) if line.rsplit(":", 1)[-1].isdigit() else 0
    return total


def make_slice(corpus: Corpus, work: Path, mb: float, seed: int) -> tuple[Path, int]:
    """Ordinary files (no multi-MB or minified ones) hard-linked until ``mb`` MB."""
    root = work / "ds-slice"
    shutil.rmtree(root, ignore_errors=True)
    files = sorted(
        p
        for p in corpus.tree.rglob("*")
        if p.is_file() and p.stat().st_size < 200_000 and not p.name.endswith(".min.js")
    )
    random.Random(seed).shuffle(files)
    size = 0
    for path in files:
        if size >= mb * MB:
            break
        target = root / path.relative_to(corpus.tree)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
        size += path.stat().st_size
    return root, size


def run_detect_secrets(
    sw: list[str] | None, corpus: Corpus, work: Path, mb: float, seed: int, report: Report
) -> None:
    """detect-secrets on a slice (it is too slow for the whole corpus), MB/s extrapolated."""
    exe = shutil.which("detect-secrets")
    if exe is None:
        report.note("detect-secrets: not installed")
        return
    root, size = make_slice(corpus, work, mb, seed)
    out = work / "detect-secrets.json"
    result = timed(
        f"detect-secrets on a {size / MB:.1f} MB slice",
        [exe, "scan", "--all-files", "."],
        1,
        stdout=out,
        cwd=root,
    )
    report.add("detect-secrets (slice)", result, size, **_ds_recall(out, corpus, root))
    if sw is not None:
        mine = work / "stormwatch-slice.json"
        result = scan_dir(sw, root, mine, 1)
        report.add("stormwatch (same slice)", result, size)


def _ds_recall(out: Path, corpus: Corpus, root: Path) -> dict[str, Any]:
    if not out.is_file() or not out.stat().st_size:
        return {}
    found = {s["hashed_secret"] for v in json.loads(out.read_text())["results"].values() for s in v}
    planted = {
        r["secret_sha1"]
        for r in read_jsonl(corpus.truth)
        if r["role"] == "planted" and (root / r["path"]).exists()
    }
    return {"planted_in_slice": len(planted), "planted_found": len(planted & found)}


def run_history(sw: list[str] | None, repo: Repo, work: Path, repeat: int, report: Report) -> None:
    """History scan against the floor: reading every object once with git cat-file."""
    floor = ["git", "-C", str(repo.path), "cat-file", "--batch-all-objects", "--batch"]
    result = timed("git cat-file floor", floor, repeat)
    size = _object_bytes(repo.path)
    report.add("git cat-file (floor)", result, size)
    if sw is None:
        return
    out = work / "stormwatch-history.json"
    command = [
        *sw,
        "scan",
        str(repo.path),
        "--history",
        "--format",
        "json",
        "--output",
        str(out),
        "--quiet",
    ]
    mine = timed("stormwatch scan --history", command, repeat)
    report.add("stormwatch --history", mine, size, commits=repo.commits)
    if mine.returncode > 1 or not out.is_file():
        report.note("stormwatch history scan failed")
        return
    report.figures["history_ratio"] = round(mine.seconds / result.seconds, 2)
    accuracy, attributed = evaluate_history(read_findings(out), read_jsonl(repo.truth))
    report.figures["history_accuracy"] = {**accuracy.summary(), "attributed": round(attributed, 4)}
    print_accuracy("history scan", accuracy)
    print(f"    keys attributed to the commit that introduced them: {attributed:.1%}")


def _object_bytes(repo: Path) -> int:
    command = ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch-check"]
    listing = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return sum(int(line.split()[2]) for line in listing.splitlines() if line.strip())


def run_parity(sw: list[str], corpus: Corpus, work: Path, report: Report) -> None:
    """Hyperscan and RE2 must report the same findings."""
    sets = {}
    for engine in ("hyperscan", "re2"):
        out = work / f"stormwatch-{engine}.json"
        result = scan_dir(sw, corpus.tree, out, 1, engine)
        report.add(f"stormwatch --engine {engine}", result, corpus.bytes)
        if result.returncode > 1 or not out.is_file():
            report.note(f"engine {engine}: scan failed")
            return
        keys = ("file", "line", "column", "rule_id", "secret_sha256", "encoding")
        sets[engine] = {tuple(f.get(k) for k in keys) for f in read_findings(out)}
    only_hs, only_re2 = sets["hyperscan"] - sets["re2"], sets["re2"] - sets["hyperscan"]
    report.figures["parity"] = {
        "identical": not only_hs and not only_re2,
        "hyperscan": len(sets["hyperscan"]),
        "re2": len(sets["re2"]),
        "only_hyperscan": sorted(map(list, only_hs))[:20],
        "only_re2": sorted(map(list, only_re2))[:20],
    }
    print(
        f"  parity: {'identical' if not only_hs and not only_re2 else 'DIFFERENT'} "
        f"({len(sets['hyperscan'])} vs {len(sets['re2'])} findings)"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 MB, 300 commits")
    parser.add_argument("--mb", type=int, help="corpus size in MB (default 200)")
    parser.add_argument("--commits", type=int, help="history commits (default 2000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=HERE / "_work")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--ds-mb", type=float, help="detect-secrets slice, MB (default 5)")
    parser.add_argument("--skip", default="", help=f"comma list of {','.join(SKIPPABLE)}")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    args.mb = args.mb or (20 if args.quick else 200)
    args.commits = args.commits or (300 if args.quick else 2000)
    args.ds_mb = args.ds_mb or (1.0 if args.quick else 5.0)
    args.skip = {s for s in args.skip.split(",") if s}
    if args.skip - set(SKIPPABLE):
        parser.error(f"--skip takes {','.join(SKIPPABLE)}")
    return args


def prepare(args: argparse.Namespace, report: Report) -> tuple[RuleSet, Corpus, Repo | None]:
    """Rules, corpus and repository, generated or reused."""
    rules, problems = load_rules()
    for problem in problems:
        report.note(problem)
    print(f"rules: {len(rules.rules)} ({sum(r.reported for r in rules.rules)} reported)")
    corpus = ensure_corpus(args.work, args.mb, args.seed, rules)
    for problem in corpus.problems:
        report.note(problem)
    verb = "reused" if corpus.reused else f"generated in {corpus.seconds:.1f} s"
    print(
        f"corpus: {corpus.tree} ({verb}): {corpus.files} files, {corpus.bytes / MB:.1f} MB, "
        f"{corpus.planted} planted keys, {corpus.negatives} hard negatives"
    )
    report.figures["corpus"] = {
        "path": str(corpus.tree),
        "files": corpus.files,
        "bytes": corpus.bytes,
        "planted": corpus.planted,
        "negatives": corpus.negatives,
        "kinds": corpus.counts,
        "generated_seconds": None if corpus.reused else corpus.seconds,
    }
    repo = None
    if "history" not in args.skip:
        repo = ensure_repo(args.work, args.commits, args.seed, rules_digest(rules), rules)
        verb = "reused" if repo.reused else f"generated in {repo.seconds:.1f} s"
        print(f"repository: {repo.path} ({verb}): {repo.commits} commits, {repo.keys} keys added")
        report.figures["repository"] = {
            "path": str(repo.path),
            "commits": repo.commits,
            "keys": repo.keys,
        }
    return rules, corpus, repo


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    report = Report(
        {
            "mb": args.mb,
            "commits": args.commits,
            "seed": args.seed,
            "repeat": args.repeat,
            "cpus": os.cpu_count(),
        }
    )
    rules, corpus, repo = prepare(args, report)
    warm([corpus.tree] + ([repo.path] if repo else []))
    sw = stormwatch_command()
    if sw is None:
        report.note("stormwatch: not available")
    else:
        run_stormwatch(sw, corpus, args.work, args.repeat, report)
    if "rg" not in args.skip:
        run_rg(corpus, rules, args.work, args.repeat, report)
    if "ds" not in args.skip:
        run_detect_secrets(sw, corpus, args.work, args.ds_mb, args.seed, report)
    if repo is not None:
        run_history(sw, repo, args.work, args.repeat, report)
    if sw is not None and "parity" not in args.skip:
        run_parity(sw, corpus, args.work, report)
    print_tables(report)
    if args.json:
        document = {
            "params": report.params,
            "runs": report.runs,
            "figures": report.figures,
            "notes": report.notes,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
