"""Recall and precision of a scan against the ground truth, by the secret's sha256.

A finding is a true positive when its ``secret_sha256`` is that of a planted key (or of the
JSON-escaped form the key takes in a notebook); a finding of another rule's secret that sits
inside a planted example (an AWS secret next to its key id, an endpoint's key) is counted apart
and not held against precision; anything else is a false positive, classified as a hard negative
of a given rule and example, or as background text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Accuracy:
    """What a scan found of what was planted."""

    planted: int
    found: int
    findings: int
    true_positives: int
    companions: int
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    misses: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    rule_mismatches: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        if not self.findings:
            return 1.0
        return (self.true_positives + self.companions) / self.findings

    def summary(self) -> dict[str, Any]:
        """Figures and the first problems, for the JSON report."""
        return {
            "planted": self.planted,
            "found": self.found,
            "findings": self.findings,
            "true_positives": self.true_positives,
            "companions": self.companions,
            "false_positives": len(self.false_positives),
            "false_positive_values": len({f["secret_sha256"] for f in self.false_positives}),
            "recall": round(self.recall, 5),
            "precision": round(self.precision, 5),
            "misses": [
                {"rule_id": r, "where": w, "example": e, "count": n}
                for (r, w, e), n in sorted(self.misses.items())
            ],
            "false_positive_classes": fp_classes(self.false_positives),
            "false_positive_samples": self.false_positives[:50],
            "rule_mismatches": [
                {"planted": p, "reported": r, "count": n}
                for (p, r), n in sorted(self.rule_mismatches.items())
            ],
        }


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_findings(path: Path) -> list[dict[str, Any]]:
    """Findings of a stormwatch JSON report."""
    findings: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["findings"]
    return findings


def fp_classes(false_positives: Iterable[Row]) -> list[dict[str, Any]]:
    """False positives counted by (reported rule, cause)."""
    counts = Counter((f["rule_id"], f["cause"]) for f in false_positives)
    return [{"rule_id": r, "cause": c, "count": n} for (r, c), n in counts.most_common()]


NEAR_LINES = 6


def _negative_causes(negatives: Iterable[Row]) -> dict[str, str]:
    causes = {}
    for row in negatives:
        for sha in row["match_sha256"]:
            causes[sha] = f"hard negative {row['rule_id']} #{row['example']}"
    return causes


def _planted_lines(rows: Iterable[Row]) -> dict[str, list[tuple[int, str]]]:
    """(line, rule id) of every planted example, by file, to tell background text that sits next
    to a planted example (whose provider keyword or endpoint is then nearby) from the rest."""
    where: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        if row.get("line") is not None:
            where.setdefault(row["path"], []).append((row["line"], row["rule_id"]))
    return where


def _background_cause(finding: Row, planted: Mapping[str, list[tuple[int, str]]]) -> str:
    line = finding.get("line") or 0
    near = sorted(
        {
            rule
            for at, rule in planted.get(finding.get("file", ""), ())
            if abs(at - line) <= NEAR_LINES
        }
    )
    return f"background text near a planted {'/'.join(near)} example" if near else "background text"


def evaluate(findings: list[Row], truth: Iterable[Row], negatives: Iterable[Row]) -> Accuracy:
    """Directory scan against ``truth.jsonl`` and ``negatives.jsonl``."""
    truth, negatives = list(truth), list(negatives)
    planted: dict[str, Row] = {}
    alias: dict[str, str] = {}
    companions: set[str] = set()
    for row in truth:
        if row["role"] != "planted":
            companions.add(row["secret_sha256"])
            continue
        planted[row["secret_sha256"]] = row
        alias[row["secret_sha256"]] = row["secret_sha256"]
        alias.update(dict.fromkeys(row.get("alt_sha256", ()), row["secret_sha256"]))
    causes = _negative_causes(negatives)
    nearby = _planted_lines([*truth, *negatives])
    found: set[str] = set()
    true_positives = companion_hits = 0
    false_positives: list[dict[str, Any]] = []
    mismatches: Counter[tuple[str, str]] = Counter()
    for finding in findings:
        sha = finding["secret_sha256"]
        if sha in alias:
            true_positives += 1
            found.add(alias[sha])
            if finding["rule_id"] != planted[alias[sha]]["rule_id"]:
                mismatches[(planted[alias[sha]]["rule_id"], finding["rule_id"])] += 1
        elif sha in companions:
            companion_hits += 1
        else:
            cause = causes.get(sha) or _background_cause(finding, nearby)
            false_positives.append(_false_positive(finding, cause))
    misses = Counter(
        (row["rule_id"], row["where"], row["example"])
        for sha, row in planted.items()
        if sha not in found
    )
    return Accuracy(
        len(planted),
        len(found),
        len(findings),
        true_positives,
        companion_hits,
        false_positives,
        misses,
        mismatches,
    )


def _false_positive(finding: Row, cause: str) -> dict[str, Any]:
    keep = ("rule_id", "file", "line", "commit", "redacted", "secret_sha256", "confidence")
    return {**{k: finding.get(k) for k in keep}, "cause": cause}


def evaluate_history(findings: list[Row], truth: Iterable[Row]) -> tuple[Accuracy, float]:
    """History scan against ``history_truth.jsonl``; also the share of planted keys whose
    finding names the commit that introduced them."""
    introduced: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    negatives: list[Row] = []
    for row in truth:
        if row.get("negative"):
            negatives.append(row)
            continue
        for sha in row["secret_sha256"]:
            introduced.setdefault(sha, row["commit"])
            rows.append(
                {
                    "role": "planted",
                    "secret_sha256": sha,
                    "rule_id": row["rule_id"],
                    "where": row["branch"],
                    "example": row["example"],
                }
            )
        rows.extend({"role": "other", "secret_sha256": s} for s in row["other_sha256"])
    accuracy = evaluate(findings, rows, negatives)
    attributed = {
        f["secret_sha256"]
        for f in findings
        if introduced.get(f["secret_sha256"]) not in (None, "")
        and f.get("commit") == introduced[f["secret_sha256"]]
    }
    return accuracy, len(attributed) / len(introduced) if introduced else 1.0
