"""Azure AI content-filter results read from a response body.

Bodies carry ``prompt_filter_results[].content_filter_results`` (older API versions:
``prompt_annotations``), ``choices[].content_filter_results``, and for a blocked prompt an HTTP 400
``error`` with ``code = "content_filter"`` and ``innererror.content_filter_result``. Image
generation answers with ``data[].content_filter_results`` and ``data[].prompt_filter_results``;
DALL-E 3 blocks with ``code = "content_policy_violation"`` (``contentFilter`` in older versions)
and ``inner_error.content_filter_results``. Harm
categories (``hate``, ``sexual``, ``violence``, ``self_harm``) report ``filtered`` and
``severity``; ``jailbreak`` and ``indirect_attack`` report ``filtered`` and ``detected``;
``custom_blocklists`` is a list of ``{"filtered", "id"}``, one per blocklist.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stormwatch.events.parsers.protocol import as_mapping

SEVERITY_RANK = {"safe": 0, "low": 1, "medium": 2, "high": 3}
ATTACKS = ("jailbreak", "indirect_attack")
BLOCKING_CODES = frozenset({"content_filter", "content_policy_violation", "contentFilter"})
# Lists of items holding results: (the body's key, the item keys holding a result set).
RESULT_LISTS = (
    ("prompt_filter_results", ("content_filter_results",)),
    ("prompt_annotations", ("content_filter_results",)),
    ("choices", ("content_filter_results",)),
    ("data", ("content_filter_results", "prompt_filter_results")),
)


@dataclass(frozen=True, slots=True)
class FilterVerdict:
    """What the content filter said about one call; ``None`` fields mean "not reported"."""

    blocked: bool | None = None
    categories: str | None = None
    severity: str | None = None
    jailbreak: bool | None = None


NO_VERDICT = FilterVerdict()


def verdict_of(body: Mapping[str, Any]) -> FilterVerdict:
    """The combined verdict of every filter result in a response body."""
    error = as_mapping(body.get("error"))
    code = error.get("code")
    blocked_by_error = isinstance(code, str) and code in BLOCKING_CODES
    results = list(_result_sets(body, error))
    if not results and not blocked_by_error:
        return NO_VERDICT
    filtered: set[str] = set()
    rank = -1
    attack = False
    # the gateway's hottest loop (a dozen outcomes per answer): plain dicts go straight through
    for result in results:
        for category, outcome in result.items():
            if type(outcome) is not dict:
                outcome = as_mapping(_merged(outcome))
            blocked = outcome.get("filtered")
            if blocked is True:
                filtered.add(category)
            severity = outcome.get("severity")
            if severity is not None:
                rank = max(rank, SEVERITY_RANK.get(str(severity), -1))
            if category in ATTACKS and (outcome.get("detected") or blocked):
                attack = True
    severity = next((name for name, value in SEVERITY_RANK.items() if value == rank), None)
    return FilterVerdict(
        blocked=blocked_by_error or bool(filtered),
        categories=",".join(sorted(filtered)) or None,
        severity=severity,
        jailbreak=attack,
    )


def _merged(outcome: Any) -> Any:
    """``custom_blocklists`` is a list, one entry per blocklist that matched: filtered if any is."""
    if not isinstance(outcome, list):
        return outcome
    return {"filtered": any(as_mapping(item).get("filtered") is True for item in outcome)}


def _result_sets(body: Mapping[str, Any], error: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key, fields in RESULT_LISTS:
        items = body.get(key)
        for item in items if isinstance(items, list) else ():
            item = as_mapping(item)
            for field in fields:
                result = as_mapping(item.get(field))
                if result:
                    yield result
    inner = as_mapping(error.get("innererror") or error.get("inner_error"))
    result = as_mapping(inner.get("content_filter_result") or inner.get("content_filter_results"))
    if result:
        yield result
