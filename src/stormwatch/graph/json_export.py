"""The JSON export: every field of every case, for machines and for diffs between runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime

from stormwatch.graph.model import Case
from stormwatch.graph.presentation import iso_utc


def plain(value: object) -> object:
    """``value`` as JSON-ready data: dataclasses become objects, tuples lists, datetimes ISO UTC."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if is_dataclass(value) and not isinstance(value, type):
        return record_of(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def record_of(instance: object) -> dict[str, object]:
    """The fields of a dataclass instance as a JSON-ready object."""
    return {f.name: plain(getattr(instance, f.name)) for f in fields(instance)}  # type: ignore[arg-type]


def case_record(case: Case) -> dict[str, object]:
    """One case as a JSON object; entity records also carry their ``key`` for edge lookups."""
    record = record_of(case)
    record["entities"] = [{"key": e.key, **record_of(e)} for e in case.entities]
    return record


def cases_to_json(cases: Sequence[Case]) -> str:
    """A JSON list of case objects with all their fields; ASCII-escaped, newline-terminated."""
    return json.dumps([case_record(c) for c in cases], indent=2) + "\n"
