"""One scan request, end to end: config, rules, source, scanner, optional verification."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from stormwatch.secrets.baseline import load_baseline
from stormwatch.secrets.model import Finding, Fragment, Origin, ScanResult, SkipNotice
from stormwatch.secrets.parallel import scan_history, scan_paths
from stormwatch.secrets.request import STDIN, ScanPathError, ScanRequest
from stormwatch.secrets.ruleset import RuleSet, builtin_rules
from stormwatch.secrets.scanner import Progress, Scanner, scan_fragments
from stormwatch.secrets.settings import ScanSettings, find_config, load_config
from stormwatch.secrets.sources.chunks import chunked
from stormwatch.secrets.sources.files import path_fragments

if TYPE_CHECKING:
    from datetime import datetime

    from stormwatch.secrets.sources.walker import WalkProcess

__all__ = ["STDIN", "ScanPathError", "ScanRequest", "first_introductions", "prepare", "run_scan"]


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
    if request.staged:
        yield from _staged_fragments(request)
        return
    for path in request.paths:
        if path == STDIN:
            yield from chunked(Origin("<stdin>"), b"", sys.stdin.buffer.read, settings.chunk_bytes)
        else:
            yield from path_fragments([Path(path)], settings)


def _staged_fragments(request: ScanRequest) -> Iterator[Fragment | SkipNotice]:
    from stormwatch.secrets.sources import git

    for path in request.paths:
        yield from git.staged_fragments(Path(path))


def _introduced(finding: Finding) -> tuple[datetime, str]:
    from datetime import UTC, datetime  # history scans only

    date = finding.origin.date
    when = datetime.fromisoformat(date.replace("Z", "+00:00")) if date else datetime.max
    return (when if when.tzinfo else when.replace(tzinfo=UTC), finding.origin.commit or "")


def first_introductions(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """History findings, one per (path, rule, secret): the commit that first introduced the
    secret there (later versions of the file carry it too), present at HEAD if any blob at HEAD
    still holds it."""
    in_head = {f.secret for f in findings if f.origin.in_head}
    earliest: dict[tuple[str, str, str], Finding] = {}
    for finding in sorted(findings, key=_introduced):
        key = (finding.origin.path, finding.rule_id, finding.secret)
        earliest.setdefault(key, finding)
    return tuple(
        replace(f, origin=replace(f.origin, in_head=f.secret in in_head)) for f in earliest.values()
    )


def run_scan(
    request: ScanRequest, on_progress: Progress | None = None, walk: WalkProcess | None = None
) -> tuple[ScanResult, RuleSet]:
    """Scan what the request names; returns the result and the rule set it used. ``walk`` is
    the request's ``early_walk``, if one was started."""
    missing = [p for p in request.paths if p != STDIN and not os.path.lexists(p)]
    if missing:
        raise ScanPathError(f"no such file or directory: {', '.join(missing)}")
    ruleset, settings = prepare(request)
    scanner = Scanner(ruleset, settings)
    if request.history:
        repos = [Path(p) for p in request.paths]
        result = scan_history(repos, scanner, on_progress)
        return replace(result, findings=first_introductions(result.findings)), ruleset
    if not request.of_paths:
        return scan_fragments(_fragments(request, settings), scanner, on_progress), ruleset
    roots = [Path(p) for p in request.paths]
    return scan_paths(roots, scanner, on_progress, walk=walk), ruleset
