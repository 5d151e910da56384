"""Every parser takes any JSON value in any field without raising, and what it accepts can be
stored: each field of each source's record (native, and as a Log Analytics row), nested ones
included, replaced by odd values."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.events.test_log_analytics import (
    _activity_row,
    _cloudtrail_row,
    _diagnostics_row,
    _gateway_row,
    _llm_row,
)

from stormwatch.events import PARSERS, EventStore, Location, detect_source
from stormwatch.events.parsing import parse_file

ODD_VALUES: tuple[Any, ...] = (
    None,
    "",
    "035.249.253.232",
    "x" * 300,
    "9" * 30,
    -1,
    0,
    2**63 - 1,
    -(2**63),
    1.5e300,
    True,
    [],
    [None, {"a": 1}],
    {},
    {"nested": {"deeper": [1, "two"]}},
)
HERE = Location("fuzz.jsonl", 1)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key or index path in a decoded JSON value."""
    items: Any = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        yield (*prefix, key)
        if isinstance(child, dict | list) and child:
            yield from _paths(child, (*prefix, key))


def _replaced(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(record)
    parent: Any = mutated
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return mutated


def _samples(records: Any) -> dict[str, dict[str, Any]]:
    body = json.dumps(
        {
            "choices": [
                {"content_filter_results": {"hate": {"filtered": True, "severity": "high"}}}
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3},
        }
    )
    activity = records.activity(
        "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/RAIPOLICIES/WRITE",
        "/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/A",
    )
    return {
        "cloudtrail": records.cloudtrail(),
        "cloudtrail_row": _cloudtrail_row(records.cloudtrail()),
        "diagnostics_row": _diagnostics_row(records.azure_openai()),
        "gateway_row": _gateway_row(records.apim(body)),
        "llm_row": _llm_row(records.apim_llm()),
        "activity_row": _activity_row(activity),
        "azure_openai": records.azure_openai(),
        "azure_openai_text": records.azure_openai(properties_as_string=True),
        "apim": records.apim(body),
        "apim_llm": records.apim_llm(),
        "activity": activity,
        "invocation": records.invocation(),
        "litellm": records.litellm(),
        "litellm_payload": records.litellm_payload(),
        "openai_audit": records.openai_audit(),
    }


def test_odd_values_anywhere_never_raise_and_accepted_events_store(
    records: Any, tmp_path: Path
) -> None:
    lines = []
    parsed = 0
    for name, record in _samples(records).items():
        source = detect_source(record)
        assert source is not None, name
        for path in _paths(record):
            for value in ODD_VALUES:
                mutated = _replaced(record, path, value)
                detect_source(mutated)
                event, problems = PARSERS[source].parse(mutated, HERE)
                assert event is not None or problems, (name, path, value)
                parsed += 1
                lines.append(json.dumps(mutated))
    assert parsed > 2000
    # the same records through the whole path: packed, spooled and inserted by DuckDB
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with EventStore.open(tmp_path / "odd.duckdb") as store:
        batches = parse_file(path, "auto", 1000)
        try:
            while True:
                store.insert(next(batches))
        except StopIteration as finished:
            report = finished.value
        assert store.count() > 0
    assert report.records == len(lines) and report.error is None


@pytest.mark.parametrize("text", ["[]", "{}", "null", "1", '"s"', "[[[]]]", '{"records": {}}'])
def test_odd_documents_are_read_without_raising(text: str, tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(text + "\n")
    batches = parse_file(path, "auto", 10)
    with pytest.raises(StopIteration) as finished:
        next(batches)
    assert finished.value.value.error is None
