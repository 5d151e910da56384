"""Baselines: known findings to ignore, stored as sha256 fingerprints of (rule, secret) only.

No line numbers, paths or timestamps, so moving code or editing other lines never breaks a
baseline, and two branches that add different findings merge without conflicts (one sorted
fingerprint per line in a JSON list).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from stormwatch.secrets.model import Finding

FORMAT = "stormwatch-baseline/1"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BaselineError(ValueError):
    """The baseline file is unreadable or not a stormwatch baseline."""


def load_baseline(path: Path) -> frozenset[str]:
    """Fingerprints stored in a baseline file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: {exc}") from exc
    prints = document.get("fingerprints") if isinstance(document, dict) else None
    if document.get("format") != FORMAT or not isinstance(prints, list):
        raise BaselineError(f"{path}: not a {FORMAT} file")
    bad = [p for p in prints if not isinstance(p, str) or not _SHA256.match(p)]
    if bad:
        raise BaselineError(f"{path}: {len(bad)} entries are not sha256 fingerprints")
    return frozenset(prints)


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Write the fingerprints of ``findings``; returns how many distinct ones were written."""
    prints = sorted({finding.fingerprint for finding in findings})
    body = json.dumps({"format": FORMAT, "fingerprints": prints}, indent=1)
    path.write_text(body + "\n", encoding="utf-8")
    return len(prints)
