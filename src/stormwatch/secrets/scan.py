"""One scan request, end to end: config, rules, source, scanner, optional verification."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from stormwatch.secrets.baseline import load_baseline
from stormwatch.secrets.model import Fragment, Origin, ScanResult, SkipNotice
from stormwatch.secrets.parallel import scan_paths
from stormwatch.secrets.ruleset import RuleSet, builtin_rules
from stormwatch.secrets.scanner import Progress, Scanner, scan_fragments
from stormwatch.secrets.settings import ScanSettings, find_config, load_config
from stormwatch.secrets.sources.chunks import chunked
from stormwatch.secrets.sources.files import path_fragments

STDIN = "-"


@dataclass(frozen=True)
class ScanRequest:
    """What the user asked to scan and how."""

    paths: tuple[str, ...] = (".",)
    staged: bool = False
    history: bool = False
    config: Path | None = None
    baseline: Path | None = None
    engine: str = "auto"


def prepare(request: ScanRequest) -> tuple[RuleSet, ScanSettings]:
    """Built-in rules plus the user's config and baseline."""
    settings = ScanSettings(engine=request.engine)
    if request.baseline is not None:
        settings = replace(settings, baseline=load_baseline(request.baseline))
    roots = [Path(p) for p in request.paths if p != STDIN]
    config = request.config or find_config(roots)
    ruleset = builtin_rules()
    if config is not None:
        ruleset, settings = load_config(config).apply(ruleset, settings)
    return ruleset, settings


def _fragments(request: ScanRequest, settings: ScanSettings) -> Iterator[Fragment | SkipNotice]:
    if request.history or request.staged:
        yield from _git_fragments(request)
        return
    for path in request.paths:
        if path == STDIN:
            yield from chunked(Origin("<stdin>"), b"", sys.stdin.buffer.read, settings.chunk_bytes)
        else:
            yield from path_fragments([Path(path)], settings)


def _git_fragments(request: ScanRequest) -> Iterator[Fragment | SkipNotice]:
    from stormwatch.secrets.sources import git

    if request.history:
        for path in request.paths:
            yield from git.history_fragments(Path(path))
        return
    for path in request.paths:
        yield from git.staged_fragments(Path(path))


def run_scan(
    request: ScanRequest, on_progress: Progress | None = None
) -> tuple[ScanResult, RuleSet]:
    """Scan what the request names; returns the result and the rule set it used."""
    ruleset, settings = prepare(request)
    scanner = Scanner(ruleset, settings)
    if request.history or request.staged or STDIN in request.paths:
        return scan_fragments(_fragments(request, settings), scanner, on_progress), ruleset
    return scan_paths([Path(p) for p in request.paths], scanner, on_progress), ruleset
