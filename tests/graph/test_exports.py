"""JSON, Markdown and text exports, and the registry that names them."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from tests.graph.cases_fixture import all_cases, azure_proxy_case, bedrock_case

from stormwatch.graph.exporters import EXPORTERS, ExportOptions, export_cases
from stormwatch.graph.json_export import cases_to_json
from stormwatch.graph.markdown import cases_to_markdown
from stormwatch.graph.model import Entity
from stormwatch.graph.text import cases_to_rich, cases_to_text

OPTIONS = ExportOptions(tool_version="0.1.0", generated_at=datetime(2025, 3, 5, tzinfo=UTC))


def test_json_holds_every_field_with_utc_times() -> None:
    records = json.loads(cases_to_json(all_cases()))
    first = records[0]
    assert set(first) == {f.name for f in dataclasses.fields(bedrock_case())}
    assert first["first_seen"] == "2025-03-04T09:12:00Z"
    assert first["alerts"][0]["techniques"] == ["AML.T0012", "T1078.004"]
    assert first["figures"]["estimated_cost_usd"] == 56700.0
    assert first["entities"][0]["key"].startswith("exposure:")
    assert records[1]["figures"]["exposure_to_first_use_seconds"] is None


def test_json_treats_naive_times_as_utc() -> None:
    case = dataclasses.replace(azure_proxy_case(), first_seen=datetime(2025, 1, 2, 3, 4, 5))
    assert json.loads(cases_to_json([case]))[0]["first_seen"] == "2025-01-02T03:04:05Z"


def test_markdown_reads_as_a_ticket() -> None:
    text = cases_to_markdown(all_cases())
    assert text.index("## Leaked Bedrock key") < text.index("## Azure OpenAI key")
    assert "| Estimated cost | $56,700.00 |" in text
    assert "- [ ] **rotate-key** `azure:northwind-openai-eastus`: key used through a proxy" in text
    assert "- Hypothesis (high confidence): `ip:203.0.113.45` as **key-checker**" in text
    assert "**probe**: InvokeModel with max\\_tokens\\_to\\_sample -1" in text


def test_markdown_keeps_hostile_values_inert() -> None:
    agent = Entity("user_agent", "a|b `tick` [x](javascript:alert(1))\nsecond line", count=1)
    case = dataclasses.replace(azure_proxy_case(), entities=(agent,), title="<b>x</b> | y")
    text = cases_to_markdown([case])
    assert "``a|b `tick` [x](javascript:alert(1)) second line``" in text
    assert "## \\<b\\>x\\</b\\> \\| y" in text
    assert "No cases." in cases_to_markdown([])


def test_text_view_shows_the_story_without_reading_markup() -> None:
    agent = Entity("user_agent", "[bold red]not markup[/]", count=1)
    case = dataclasses.replace(bedrock_case(), entities=(*bedrock_case().entities, agent))
    text = cases_to_text([case], width=300)
    assert "[bold red]not markup[/]" in text
    for word in ("CRITICAL", "Timeline", "Role hypotheses", "key-checker", "[ ]", "$56,700.00"):
        assert word in text
    assert cases_to_rich([]) is not None


@pytest.mark.parametrize("name", sorted(EXPORTERS))
def test_every_registered_format_exports(name: str) -> None:
    out = export_cases(name, all_cases(), OPTIONS)
    assert bedrock_case().title.split(" (")[0] in out or name == "stix"


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="choose one of text, json, markdown, html, stix"):
        export_cases("pdf", all_cases(), OPTIONS)


def test_registry_does_not_import_rich_or_stix() -> None:
    code = (
        "import sys, stormwatch.graph.exporters; "
        "print(sorted(m for m in ('rich', 'stix2', 'jinja2', 'networkx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
