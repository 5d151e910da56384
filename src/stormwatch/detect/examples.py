"""Expand the event specs rules carry as examples into rows of the ``events`` table.

A spec is a mapping of event columns plus ``at`` (offset from the anchor time, e.g. ``-10d``,
``90m``), ``repeat`` (how many events), ``every`` (spacing) and ``days`` (repeat the whole
pattern on that many consecutive days). In string values ``{i}`` is the
repetition index, a list value cycles with it, and ``{{akia:NAME}}`` / ``{{asia:NAME}}`` become an
AWS-style key id generated at run time (the same NAME gives the same id within one example), so
rule files hold no secret-looking literal.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from stormwatch.events.model import COLUMN_NAMES

ANCHOR = datetime(2025, 6, 1, 12, 0, 0)
DURATION = re.compile(r"^(-?\d+(?:\.\d+)?)([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
KEY_TEMPLATE = re.compile(r"\{\{(akia|asia):(\w+)\}\}")
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def duration(text: object) -> timedelta:
    """``"-3d"``, ``"90m"``, ``"30s"`` or a number of seconds as a ``timedelta``."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return timedelta(seconds=text)
    match = DURATION.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like -3d, 90m, 30s")
    return timedelta(seconds=float(match.group(1)) * UNIT_SECONDS[match.group(2)])


def _key(prefix: str, name: str, seed: int) -> str:
    rng = random.Random(f"{seed}:{prefix}:{name}")
    return prefix.upper() + "".join(rng.choice(BASE32) for _ in range(16))


def _value(raw: object, index: int, seed: int) -> object:
    if isinstance(raw, list):
        return _value(raw[index % len(raw)], index, seed)
    if isinstance(raw, str):
        text = KEY_TEMPLATE.sub(lambda m: _key(m.group(1), m.group(2), seed), raw)
        return text.replace("{i}", str(index))
    return raw


def expand_spec(spec: Mapping[str, object], seed: int, first_line: int) -> list[dict[str, Any]]:
    """The events one spec describes, as column -> value mappings."""
    start = ANCHOR + duration(spec.get("at", 0))
    step = duration(spec.get("every", "1m"))
    repeat = int(str(spec.get("repeat", 1)))
    rows = []
    for i in range(repeat * int(str(spec.get("days", 1)))):
        row: dict[str, Any] = {"source": "example", "provider": "aws"}
        row.update({k: _value(v, i, seed) for k, v in spec.items() if k in COLUMN_NAMES})
        row["time"] = start + timedelta(days=i // repeat) + (i % repeat) * step
        row.setdefault("raw_file", "example.jsonl")
        row.setdefault("raw_line", first_line + i)
        digest = hashlib.sha256(repr((seed, first_line + i, sorted(row.items()))).encode())
        row.setdefault("event_id", digest.hexdigest())
        rows.append(row)
    return rows


def expand_example(specs: Iterable[Mapping[str, object]], seed: int = 0) -> list[dict[str, Any]]:
    """All events of one example, ordered by time."""
    rows: list[dict[str, Any]] = []
    for spec in specs:
        rows.extend(expand_spec(spec, seed, len(rows) + 1))
    return sorted(rows, key=lambda r: r["time"])


def insert_events(con: Any, rows: Iterable[Mapping[str, Any]], table: str = "events") -> int:
    """Insert event mappings into ``table`` (a DuckDB connection); missing columns are NULL."""
    values = [[row.get(c) for c in COLUMN_NAMES] for row in rows]
    if values:
        marks = ", ".join("?" for _ in COLUMN_NAMES)
        con.executemany(f"INSERT INTO {table} ({', '.join(COLUMN_NAMES)}) VALUES ({marks})", values)
    return len(values)
