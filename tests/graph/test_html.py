"""The HTML report: self-contained, escaped, usable for huge cases, clean in a real browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from markupsafe import escape
from tests.graph.browser import run_chromium
from tests.graph.cases_fixture import HOSTILE_AGENT, all_cases, bedrock_case, huge_case

from stormwatch.graph.drawing import NODE_LIMIT, draw_case
from stormwatch.graph.html import cases_to_html
from stormwatch.graph.model import Case

GENERATED = datetime(2025, 3, 5, 8, 0, tzinfo=UTC)


def render(cases: list[Case], **summary: object) -> str:
    return cases_to_html(
        cases,
        title="Northwind Labs investigation",
        generated_at=GENERATED,
        tool_version="0.1.0",
        summary=summary or None,
    )


@pytest.fixture(scope="module")
def page() -> str:
    return render(all_cases(), events_read="1,204,332")


def test_page_loads_nothing_from_anywhere(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(", page, re.IGNORECASE)


def test_hostile_values_are_shown_escaped(page: str) -> None:
    assert HOSTILE_AGENT not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &#34;quoted&#34; back\\slash" in page


def test_page_holds_every_part_of_a_case(page: str) -> None:
    case = bedrock_case()
    for text in (
        case.title,
        "Exposure to first use",
        "$56,700.00",
        "<svg",
        "Hypothesis · high confidence",
        "invalid InvokeModel right after exposure",
        "aws-bedrock-validation-probe",
        "T1136.003",
        'type="checkbox"',
        "cloudtrail/2025/03/04/0937.json:2",
        "events_read",
        "@media print",
    ):
        assert text in page, text
    for entity in case.entities:
        assert f">{escape(entity.value)}<" in page, entity.value
    assert page.count('class="stage"') == len(case.timeline) + len(all_cases()[1].timeline)


def test_cases_come_most_severe_first(page: str) -> None:
    assert page.index("case-0001") < page.index("case-0002")


def test_no_cases_still_renders() -> None:
    assert "No cases" in render([])


def test_huge_case_is_drawn_in_part_and_listed_in_full() -> None:
    case = huge_case()
    drawing = draw_case(case)
    assert len(drawing.nodes) == NODE_LIMIT
    assert drawing.left_out == len(case.entities) - NODE_LIMIT
    html = render([case])
    assert f"Showing the {NODE_LIMIT} most connected of 3,000 entities" in html
    assert "2,960 left out of the drawing" in html
    assert html.count("<tr>") > len(case.entities)
    assert html.count("<circle") <= NODE_LIMIT * 2


def test_role_bearing_entities_are_always_drawn() -> None:
    drawing = draw_case(bedrock_case(), limit=3)
    keys = {n.key for n in drawing.nodes}
    assert keys == {r.entity for r in bedrock_case().roles}
    assert all(n.role_colour for n in drawing.nodes)


def test_chromium_renders_the_page_without_console_errors(page: str) -> None:
    result = run_chromium(page, "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert bedrock_case().title in result.stdout
    assert "<svg" in result.stdout
    problems = [
        line for line in result.stderr.splitlines() if "Uncaught" in line or "ERROR:CONSOLE" in line
    ]
    assert not problems, "\n".join(problems)
