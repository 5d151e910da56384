"""Figures of the scan benchmark: the measured runs, the targets with pass or fail, and the
accuracy breakdown that tells the lead which rules and examples to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accuracy import Accuracy
from corpus import MB
from measure import Run

SHOWN_CLASSES = 12
TARGETS = {
    "dir_mbps": 150.0,
    "history_ratio": 1.5,
    "rss_mb": 500.0,
    "recall": 0.99,
    "precision": 0.99,
    "vs_detect_secrets": 200.0,
}


@dataclass
class Report:
    """Everything measured; printed as tables and optionally written as JSON."""

    params: dict[str, Any]
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, result: Run, size: int | None, **extra: Any) -> None:
        entry: dict[str, Any] = {
            "command": result.shell,
            "seconds": round(result.seconds, 3),
            "peak_rss_mb": round(result.peak_rss_mb, 1),
            "tree_mb": round(result.tree_mb, 1),
            "cpu_seconds": round(result.cpu_seconds, 3),
            "load": round(result.load, 2),
            "returncode": result.returncode,
            **extra,
        }
        if size is not None:
            entry["bytes"] = size
            rate = size / MB / result.seconds if result.seconds else None
            entry["mb_per_s"] = None if rate is None else float(f"{rate:.3g}")
        self.runs[name] = entry

    def note(self, text: str) -> None:
        print(f"  note: {text}")
        self.notes.append(text)


def print_accuracy(label: str, accuracy: Accuracy) -> None:
    """Recall, precision and what went wrong, for the lead to fix."""
    distinct = len({f["secret_sha256"] for f in accuracy.false_positives})
    print(
        f"  {label}: recall {accuracy.recall:.2%} ({accuracy.found}/{accuracy.planted}), "
        f"precision {accuracy.precision:.2%} ({accuracy.true_positives} planted + "
        f"{accuracy.companions} companions of {accuracy.findings} findings; "
        f"{len(accuracy.false_positives)} false positives, {distinct} distinct values)"
    )
    for (rule, where, example), count in sorted(accuracy.misses.items()):
        print(f"    missed: {rule} positive #{example} in {where}: {count}")
    classes = accuracy.summary()["false_positive_classes"]
    for row in classes[:SHOWN_CLASSES]:
        print(f"    false positive: {row['rule_id']} from {row['cause']}: {row['count']}")
    if len(classes) > SHOWN_CLASSES:
        print(f"    ... {len(classes) - SHOWN_CLASSES} more classes in the JSON results")
    first = {f["rule_id"]: f for f in reversed(accuracy.false_positives)}
    for row in sorted(first.values(), key=lambda f: f["rule_id"]):
        print(f"      e.g. {row['file']}:{row['line']} {row['redacted']} ({row['rule_id']})")
    for (planted, reported), count in sorted(accuracy.rule_mismatches.items()):
        print(f"    planted {planted} reported as {reported}: {count}")


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _row(
    name: str, value: float | None, test: Callable[[float], bool] | None, unit: str = ""
) -> tuple[str, str, bool | None]:
    if value is None:
        return name, "n/a", None
    return name, f"{value:g}{unit}", test(value) if test else None


def targets(report: Report) -> list[tuple[str, str, bool | None]]:
    """(target, measured, pass) rows; pass is None when not measured or informational."""
    runs, fig, t = report.runs, report.figures, TARGETS
    mbps = runs.get("stormwatch", {}).get("mb_per_s")
    memory = [r["tree_mb"] for name, r in runs.items() if name.startswith("stormwatch")]
    acc, parity = fig.get("accuracy", {}), fig.get("parity")
    return [
        _row(f"directory scan >= {t['dir_mbps']:g} MB/s", mbps, lambda v: v >= t["dir_mbps"]),
        _row("  same, startup excluded (information)", fig.get("dir_mbps_after_startup"), None),
        _row(
            "faster than rg with the same patterns",
            _ratio(mbps, runs.get("rg", {}).get("mb_per_s")),
            lambda v: v > 1,
            "x",
        ),
        _row(
            f"history <= {t['history_ratio']:g}x the cat-file floor",
            fig.get("history_ratio"),
            lambda v: v <= t["history_ratio"],
            "x",
        ),
        _row(
            f"memory <= {t['rss_mb']:g} MB (process tree)",
            max(memory, default=None),
            lambda v: v <= t["rss_mb"],
            " MB",
        ),
        _row(f"recall >= {t['recall']:.0%}", acc.get("recall"), lambda v: v >= t["recall"]),
        _row(
            f"precision >= {t['precision']:.0%}",
            acc.get("precision"),
            lambda v: v >= t["precision"],
        ),
        _row(
            f">= {t['vs_detect_secrets']:g}x faster than detect-secrets",
            _ratio(mbps, runs.get("detect-secrets (slice)", {}).get("mb_per_s")),
            lambda v: v >= t["vs_detect_secrets"],
            "x",
        ),
        _row(
            "hyperscan and re2 findings identical",
            None if parity is None else float(parity["identical"]),
            lambda v: v == 1,
        ),
    ]


def print_tables(report: Report) -> None:
    """The results table, then the targets with pass/fail."""
    print("\n== Results ==")
    print(
        f"{'run':<28}{'seconds':>9}{'CPU s':>8}{'load':>6}{'MB/s':>9}{'peak RSS':>10}"
        f"{'tree MB':>9}  command"
    )
    for name, r in report.runs.items():
        mbps = f"{r['mb_per_s']:g}" if r.get("mb_per_s") else "-"
        print(
            f"{name:<28}{r['seconds']:>9.3f}{r['cpu_seconds']:>8.2f}{r['load']:>6.1f}{mbps:>9}"
            f"{r['peak_rss_mb']:>10.0f}{r['tree_mb']:>9.0f}  {r['command']}"
        )
    print("\n== Targets ==")
    rows = targets(report)
    report.figures["targets"] = [{"target": t, "measured": m, "pass": ok} for t, m, ok in rows]
    for name, measured, ok in rows:
        verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        print(f"  [{verdict:^4}] {name:<42} {measured}")
