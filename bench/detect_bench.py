"""Detect benchmark: simulated raw logs → store → alerts, next to DuckDB's own floors.

Runs, on one set of simulated logs (default ≈ 10 million events, seven days of a fictional
organisation with every attack playbook injected):

- ingest: `stormwatch ingest` (raw JSON → normalized, deduplicated store) against the floor of
  DuckDB reading the same JSON files (`read_json_auto`, no normalization);
- detect: `stormwatch detect` over the store against the floor of one grouped full scan;
- investigate: `stormwatch investigate` (cases and the HTML report) over the same store;
- accuracy: every labelled playbook must be hit by an alert naming one of its entities, and
  high-severity alerts on benign entities are counted per million benign events.

    python bench/detect_bench.py                  # ≈ 10M events (generated once, reused)
    python bench/detect_bench.py --events 1000000 # smaller, for iteration
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from stormwatch.simulate import simulate

EVENTS_PER_SCALE_WEEK = 238_000  # simulate(days=7, scale=1) writes about this many events
ENTITY_KEYS = ("credential_ids", "ips", "networks", "principals")
# An alert on a resource or account a playbook attacked is about that playbook (tampering
# alerts name the resource, not the key); benign anomalies are matched on the narrow keys only.
ATTACK_KEYS = (*ENTITY_KEYS, "resources", "accounts")
HIGH = ("high", "critical")


def _measure(command: list[str]) -> dict[str, Any]:
    """Run ``command``: wall time, CPU and peak RSS of that command's own process tree.

    ``os.wait4`` gives the finished child's usage (its waited-for workers included); the
    process-wide ``RUSAGE_CHILDREN`` peak would carry an earlier command's peak into later ones.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        run = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(run.pid, 0)
        seconds = time.perf_counter() - started
        run.returncode = returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    print(f"$ {shlex.join(command)}  # {seconds:.1f} s, exit {returncode}")
    if returncode not in (0, 1, 3):
        print(stderr[-2000:], file=sys.stderr)
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "returncode": returncode,
        "stdout": stdout,
    }


def _logs(work: Path, events: int, seed: int) -> tuple[Path, dict[str, Any]]:
    folder = work / f"logs-{events}-seed{seed}"
    labels = folder / "labels.json"
    if not labels.exists():
        scale = max(events / EVENTS_PER_SCALE_WEEK, 0.05)
        started = time.perf_counter()
        summary = simulate(folder, days=7, scale=scale, seed=seed)
        print(f"simulated {summary.total_events:,} events in {time.perf_counter() - started:.0f} s")
    return folder, json.loads(labels.read_text())


def _floor_read(folder: Path) -> dict[str, Any]:
    """DuckDB reading every raw JSON file once: the physical floor of ingest."""
    started = time.perf_counter()
    con = duckdb.connect()
    rows = 0
    for pattern in ("**/*.json", "**/*.jsonl", "**/*.json.gz"):
        query = (
            f"SELECT COUNT(*) FROM read_json_auto('{folder}/{pattern}', format='auto', "
            "union_by_name=true, ignore_errors=true, maximum_object_size=268435456)"
        )
        try:
            rows += con.execute(query).fetchone()[0]  # type: ignore[index]
        except duckdb.Error as exc:
            print(f"floor read of {pattern}: {exc}", file=sys.stderr)
    return {"seconds": time.perf_counter() - started, "rows": rows}


def _floor_scan(db: Path) -> float:
    """One grouped full scan of the store: the floor of any detection pass."""
    with duckdb.connect(str(db), read_only=True) as con:
        started = time.perf_counter()
        con.execute(
            "SELECT credential_id, src_ip, COUNT(*), SUM(tokens_in), MIN(time), MAX(time) "
            "FROM events GROUP BY ALL"
        ).fetchall()
        return time.perf_counter() - started


def _names(alert: dict[str, Any]) -> set[str]:
    return {str(v).lower() for values in alert["entities"].values() for v in values if v}


def _label_names(label: dict[str, Any], keys: tuple[str, ...] = ENTITY_KEYS) -> set[str]:
    names = {str(v).lower() for k in keys for v in label["entities"].get(k, ())}
    return names | {f"litellm:{v}" for v in label["entities"].get("credential_ids", ())}


def _hits(alert: set[str], label: set[str]) -> bool:
    """The alert names an entity of the label (an id, or an account within a resource id)."""
    return bool(alert & label) or any(a in b for a in alert if len(a) >= 8 for b in label)


def _accuracy(alerts: list[dict[str, Any]], labels: dict[str, Any], events: int) -> dict[str, Any]:
    attack_names = set().union(*(_label_names(p, ATTACK_KEYS) for p in labels["playbooks"]))
    detected = {
        p["scenario"]: any(_hits(_names(a), _label_names(p, ATTACK_KEYS)) for a in alerts)
        for p in labels["playbooks"]
    }
    benign_names = set().union(*(_label_names(b) for b in labels["benign_anomalies"]))
    false_high = [a for a in alerts if a["severity"] in HIGH and not (_names(a) & attack_names)]
    on_benign = [a for a in false_high if _hits(_names(a), benign_names)]
    return {
        "detected": detected,
        "false_high": len(false_high),
        "false_high_on_benign_anomalies": len(on_benign),
        "false_high_per_million": len(false_high) / max(events, 1) * 1e6,
        "false_high_rules": sorted({a["rule_id"] for a in false_high}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "_work" / "detect")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--reingest", action="store_true", help="time a second, idempotent run")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    folder, labels = _logs(args.work, args.events, args.seed)
    db = args.work / f"store-{args.events}.duckdb"
    db.unlink(missing_ok=True)
    ingest = _measure(["stormwatch", "ingest", str(folder), "--db", str(db)])
    with duckdb.connect(str(db), read_only=True) as con:
        events = int(con.execute("SELECT COUNT(*) FROM events").fetchone()[0])  # type: ignore[index]
    again = (
        _measure(["stormwatch", "ingest", str(folder), "--db", str(db)])
        if args.reingest
        else {"seconds": float("nan")}
    )
    floor_read = _floor_read(folder)
    canaries = labels.get("canary_keys", [])
    for key in canaries:
        _measure(["stormwatch", "canary", "add", key, "--label", "bench", "--db", str(db)])
    detect = _measure(["stormwatch", "detect", "--db", str(db), "--format", "json"])
    alerts = json.loads(detect["stdout"] or "[]")
    floor_scan = _floor_scan(db)
    investigate = _measure(
        [
            "stormwatch",
            "investigate",
            "--db",
            str(db),
            "--format",
            "json",
            "--html",
            str(args.work / "report.html"),
        ]
    )
    cases = json.loads(investigate["stdout"] or "[]")
    accuracy = _accuracy(alerts, labels, events)
    figures = {
        "events": events,
        "ingest_seconds": ingest["seconds"],
        "ingest_events_per_s": events / ingest["seconds"],
        "ingest_events_per_cpu_s": events / max(ingest["cpu"], 1e-9),
        "ingest_peak_rss_mb": ingest["peak_rss_mb"],
        "reingest_seconds": again["seconds"],
        "floor_read_seconds": floor_read["seconds"],
        "floor_rows": floor_read["rows"],
        "ingest_vs_floor": ingest["seconds"] / floor_read["seconds"],
        "detect_seconds": detect["seconds"],
        "detect_peak_rss_mb": detect["peak_rss_mb"],
        "floor_scan_seconds": floor_scan,
        "detect_vs_floor": detect["seconds"] / floor_scan,
        "alerts": len(alerts),
        "investigate_seconds": investigate["seconds"],
        "cases": len(cases),
        **accuracy,
    }
    _print(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))


def _print(f: dict[str, Any]) -> None:
    cores = os.cpu_count() or 1
    rows = [
        ("events stored", f"{f['events']:,}", ""),
        (
            "ingest",
            f"{f['ingest_seconds']:.1f} s",
            f"{f['ingest_events_per_s']:,.0f} events/s "
            f"({f['ingest_events_per_cpu_s']:,.0f} per CPU-second), target ≥ 150,000/s",
        ),
        ("ingest again (idempotent)", f"{f['reingest_seconds']:.1f} s", ""),
        (
            "floor: DuckDB read_json_auto",
            f"{f['floor_read_seconds']:.1f} s",
            f"ingest = {f['ingest_vs_floor']:.1f}× floor",
        ),
        ("detect", f"{f['detect_seconds']:.1f} s", "target ≤ 30 s"),
        (
            "floor: one grouped scan",
            f"{f['floor_scan_seconds']:.2f} s",
            f"detect = {f['detect_vs_floor']:.0f}× floor",
        ),
        (
            "peak RSS ingest / detect",
            f"{f['ingest_peak_rss_mb']:.0f} / {f['detect_peak_rss_mb']:.0f} MB",
            "target ≤ 4,096 MB",
        ),
        ("alerts", f"{f['alerts']:,}", ""),
        ("investigate (cases + HTML)", f"{f['investigate_seconds']:.1f} s", f"{f['cases']} cases"),
        (
            "playbooks detected",
            f"{sum(f['detected'].values())}/{len(f['detected'])}",
            ", ".join(k for k, v in f["detected"].items() if not v) or "all",
        ),
        (
            "false high-severity alerts",
            f"{f['false_high']}",
            f"{f['false_high_per_million']:.2f} per million events (target ≤ 1); on benign "
            f"anomalies: {f['false_high_on_benign_anomalies']}; rules: "
            f"{', '.join(f['false_high_rules']) or '-'}",
        ),
    ]
    print(f"\nmachine: {cores} cores")
    for name, value, note in rows:
        print(f"{name:32} {value:>16}  {note}")


if __name__ == "__main__":
    main()
