"""``simulate()``: write raw logs of a fictional organisation, with injected attacks and labels.

The run is cut into days. Each day walks its hours: benign traffic, scheduled routine and the
attack records that fall in the hour are buffered, then the hour's files are written. Every hour
and every playbook has its own random stream derived from the seed, so output is identical
whether days run in one process or several.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from stormwatch.simulate.attack import Context, Injected, Recorder
from stormwatch.simulate.background import generate_hour
from stormwatch.simulate.identifiers import HOUR_US, SimRandom
from stormwatch.simulate.model import (
    FORMATS,
    SCENARIOS,
    PlaybookLabel,
    SimulationSummary,
    UnknownScenarioError,
)
from stormwatch.simulate.organisation import build_world
from stormwatch.simulate.plan import DEFAULT_START, Plan, from_us, to_us
from stormwatch.simulate.playbooks import PLAYBOOKS
from stormwatch.simulate.routine import benign_labels, routine_hour
from stormwatch.simulate.sinks import Sink
from stormwatch.simulate.world import ORGANISATION

# Top-level entries the simulator owns in the output directory (cleared before a run).
OWNED = ("azure", "aws", "siem", "litellm", "openai", "labels.json")
# Below this many expected events, extra processes cost more than they save.
PARALLEL_THRESHOLD = 400_000
EVENTS_PER_DAY_AT_SCALE_1 = 30_000

DayResult = tuple[dict[str, int], dict[str, set[str]]]


def simulate(
    out_dir: Path,
    *,
    scenarios: Sequence[str] = SCENARIOS,
    days: int = 7,
    scale: float = 1.0,
    seed: int = 7,
    start: datetime | None = None,
    formats: Sequence[str] = FORMATS,
    workers: int | None = None,
) -> SimulationSummary:
    """Write ``days`` of raw logs under ``out_dir`` and return what was written.

    ``scale`` multiplies benign volume (1.0 ≈ 30k events a day); attack volume does not scale.
    ``start`` defaults to a fixed Monday so that runs are reproducible; it is floored to the
    hour. ``formats`` limits the sources written (see ``FORMATS``). ``workers`` processes
    generate days in parallel (default: one, or all CPUs for large runs).
    """
    plan = _plan(scenarios, days, scale, seed, start, formats)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear(out_dir)
    world = build_world(seed)
    injected, labels = _inject(plan)
    labels.extend(benign_labels(world, plan))
    counts, files = _run_days(out_dir, plan, injected, _workers(plan, workers))
    labels = [_with_files(label, files) for label in labels]
    labels_file = out_dir / "labels.json"
    labels_file.write_text(json.dumps(_labels_document(plan, counts, labels), indent=2) + "\n")
    return SimulationSummary(
        out_dir=out_dir,
        start=from_us(plan.start_us),
        end=from_us(plan.end_us),
        seed=seed,
        scale=scale,
        files=tuple(out_dir / rel for rel in sorted(files)),
        counts={fmt: counts.get(fmt, 0) for fmt in FORMATS if fmt in plan.formats},
        labels=tuple(labels),
        labels_file=labels_file,
    )


def _plan(
    scenarios: Sequence[str],
    days: int,
    scale: float,
    seed: int,
    start: datetime | None,
    formats: Sequence[str],
) -> Plan:
    unknown = [s for s in scenarios if s not in PLAYBOOKS]
    if unknown:
        raise UnknownScenarioError(
            f"unknown scenario {', '.join(unknown)}; known: {', '.join(SCENARIOS)}"
        )
    bad_formats = [f for f in formats if f not in FORMATS]
    if bad_formats:
        raise UnknownScenarioError(
            f"unknown format {', '.join(bad_formats)}; known: {', '.join(FORMATS)}"
        )
    if days < 1 or scale < 0:
        raise ValueError("days must be >= 1 and scale >= 0")
    start_us = to_us(start or DEFAULT_START)
    return Plan(
        seed=seed,
        start_us=start_us - start_us % HOUR_US,
        days=days,
        scale=scale,
        formats=frozenset(formats),
        scenarios=tuple(dict.fromkeys(scenarios)),
    )


def _clear(out_dir: Path) -> None:
    for name in OWNED:
        path = out_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _inject(plan: Plan) -> tuple[list[Injected], list[PlaybookLabel]]:
    world = build_world(plan.seed)
    injected: list[Injected] = []
    labels: list[PlaybookLabel] = []
    for name in plan.scenarios:
        recorder = Recorder(plan, name)
        ctx = Context(world, plan, SimRandom(f"{plan.seed}:playbook:{name}"), recorder)
        labels.append(PLAYBOOKS[name](ctx))
        injected.extend(recorder.records)
    return injected, labels


def _workers(plan: Plan, workers: int | None) -> int:
    if workers is not None:
        return max(1, min(workers, plan.days))
    expected = EVENTS_PER_DAY_AT_SCALE_1 * plan.scale * plan.days
    if expected < PARALLEL_THRESHOLD:
        return 1
    return max(1, min(os.cpu_count() or 1, plan.days))


def _run_days(
    out_dir: Path, plan: Plan, injected: list[Injected], workers: int
) -> tuple[dict[str, int], dict[str, set[str]]]:
    per_day: list[list[Injected]] = [[] for _ in range(plan.days)]
    for record in injected:
        per_day[(record[0][2] - plan.first_hour) // 24].append(record)
    jobs = [(out_dir, plan, day, per_day[day]) for day in range(plan.days)]
    if workers == 1:
        results = [_run_day(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_run_day, *zip(*jobs, strict=True)))
    counts: dict[str, int] = defaultdict(int)
    files: dict[str, set[str]] = defaultdict(set)
    for day_counts, day_files in results:
        for fmt, n in day_counts.items():
            counts[fmt] += n
        for rel, tags in day_files.items():
            files[rel].update(tags)
    return dict(counts), dict(files)


def _run_day(out_dir: Path, plan: Plan, day: int, injected: list[Injected]) -> DayResult:
    """Generate and write one day of the window (runs in a worker process when parallel)."""
    world = build_world(plan.seed)
    sink = Sink(out_dir, plan.formats, plan.seed, plan.first_hour)
    by_hour: dict[int, list[Injected]] = defaultdict(list)
    for record in injected:
        by_hour[record[0][2]].append(record)
    first = plan.first_hour + 24 * day
    for hour in range(first, first + 24):
        generate_hour(sink.add, world, plan, hour)
        routine_hour(sink.add, world, plan, hour)
        for key, us, line, tag in by_hour.pop(hour, ()):
            sink.add(key, us, line, tag)
        sink.flush_hour(hour)
    sink.flush_all()
    return dict(sink.counts), sink.files


def _with_files(label: PlaybookLabel, files: dict[str, set[str]]) -> PlaybookLabel:
    carried = tuple(sorted(rel for rel, tags in files.items() if label.scenario in tags))
    return replace(label, files=carried)


def _labels_document(
    plan: Plan, counts: dict[str, int], labels: list[PlaybookLabel]
) -> dict[str, object]:
    return {
        "generator": "stormwatch.simulate",
        "organisation": ORGANISATION,
        "seed": plan.seed,
        "scale": plan.scale,
        "days": plan.days,
        "window": {
            "start": from_us(plan.start_us).isoformat().replace("+00:00", "Z"),
            "end": from_us(plan.end_us).isoformat().replace("+00:00", "Z"),
        },
        "formats": sorted(plan.formats),
        "counts": counts,
        "playbooks": [label.to_dict() for label in labels if label.kind == "attack"],
        "benign_anomalies": [label.to_dict() for label in labels if label.kind == "benign"],
        "canary_keys": [
            label.details["canary_key_id"] for label in labels if "canary_key_id" in label.details
        ],
        "exposed_credentials": [
            {k: v for k, v in label.details.items() if k.startswith("exposed")}
            for label in labels
            if any(k.startswith("exposed_") for k in label.details)
        ],
    }
