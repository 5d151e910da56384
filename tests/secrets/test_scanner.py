"""The scanner core: engines, decoding, filters, suppressions, chunking."""

from __future__ import annotations

import base64
import io
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from stormwatch.secrets.model import Fragment, Origin
from stormwatch.secrets.ruleset import builtin_rules, expand_template
from stormwatch.secrets.scanner import LineCursor, Scanner, scan_fragments, scan_text
from stormwatch.secrets.settings import ScanSettings
from stormwatch.secrets.sources.chunks import chunked

RULES = builtin_rules()
OPENAI_KEY_LINE = expand_template(
    "KEY=sk-proj-{{alnum:74}}T3BlbkFJ{{alnum:74}}\n", random.Random(5)
).encode()


def _mixed_corpus(rng: random.Random) -> str:
    parts = []
    for rule in RULES.rules:
        for template in (*rule.positive, *rule.negative):
            parts.append(f"# {rule.id}\n{expand_template(template, rng)}\n")
    rng.shuffle(parts)
    return "\n".join(parts)


def _summary(findings: list) -> list[tuple[str, int, int, str]]:  # type: ignore[type-arg]
    return sorted((f.rule_id, f.line, f.column, f.secret) for f in findings)


def test_hyperscan_and_re2_give_identical_findings() -> None:
    pytest.importorskip("hyperscan")
    text = _mixed_corpus(random.Random(11))
    hs = scan_text(text, settings=ScanSettings(engine="hyperscan"))
    re2 = scan_text(text, settings=ScanSettings(engine="re2"))
    assert hs
    assert _summary(hs) == _summary(re2)


def test_base64_secret_is_found_once_at_the_encoded_run(make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    once = base64.b64encode(key.encode()).decode()
    twice = base64.b64encode(once.encode()).decode()
    text = f"apiVersion: v1\nkind: Secret\ndata:\n  a: {once}\n  b: {twice}\n"
    findings = scan_text(text)
    assert [(f.secret, f.encoding, f.line, f.column) for f in findings] == [(key, "base64", 4, 6)]


def test_a_secret_encoded_twice_alone_is_found(make_key) -> None:  # type: ignore[no-untyped-def]
    """Two levels deep, as documented: a Kubernetes secret of a value already in base64, or of
    an env file whose value is; three levels are beyond the bound."""
    key = make_key()

    def encoded(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    for text in (encoded(encoded(key)), encoded(f"OPENAI_API_KEY={encoded(key)}\n")):
        found = scan_text(f"data:\n  token: {text}\n")
        assert [(f.secret, f.encoding, f.line) for f in found] == [(key, "base64", 2)]
    assert scan_text(encoded(encoded(encoded(key)))) == []


def test_plain_and_encoded_copies_of_one_secret_report_the_plain_one(make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    text = f"KEY={key}\nKEY_B64={base64.b64encode(key.encode()).decode()}\n"
    assert [(f.encoding, f.line) for f in scan_text(text)] == [("plain", 1)]


def test_json_escaped_notebook_source(make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    cell = {"cell_type": "code", "source": [f'client = OpenAI(api_key="{key}")\n']}
    notebook = json.dumps({"cells": [cell]}, indent=1)
    assert [f.secret for f in scan_text(notebook, path="analysis.ipynb")] == [key]


@pytest.mark.parametrize(
    "value",
    [
        "sk-proj-" + "x" * 40 + "T3BlbkFJ" + "x" * 40,
        "sk-proj-" + "your-key-here" * 2 + "T3BlbkFJ" + "your-key-here" * 2,
        "sk-proj-" + "EXAMPLE" * 4 + "T3BlbkFJ" + "EXAMPLE" * 4,
        "sk-proj-" + "ab" * 11 + "T3BlbkFJ" + "ab" * 12,
    ],
)
def test_placeholders_and_low_entropy_are_not_reported(value: str) -> None:
    assert scan_text(f'OPENAI_API_KEY="{value}"') == []


def test_inline_allow_marker_suppresses(make_key) -> None:  # type: ignore[no-untyped-def]
    text = f'key = "{make_key()}"  # stormwatch:allow\nother = "{make_key()}"\n'
    assert [f.line for f in scan_text(text)] == [2]


def test_test_paths_lower_confidence_but_keep_the_finding(make_key) -> None:  # type: ignore[no-untyped-def]
    text = f'KEY="{make_key()}"\n'
    assert [f.confidence for f in scan_text(text, path="src/app.py")] == ["high"]
    assert [f.confidence for f in scan_text(text, path="tests/test_app.py")] == ["medium"]


def test_allowlisted_secret_and_fingerprint(make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    (finding,) = scan_text(f"K={key}")
    import re

    assert scan_text(f"K={key}", settings=ScanSettings(allow_secrets=(re.compile(key[:20]),))) == []
    assert (
        scan_text(f"K={key}", settings=ScanSettings(baseline=frozenset({finding.fingerprint})))
        == []
    )


def test_fingerprint_follows_the_secret_not_the_line(make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    (first,) = scan_text(f"K={key}\n")
    (moved,) = scan_text(f"\n\n# moved\nOTHER=1\nK = {key}\n")
    assert first.fingerprint == moved.fingerprint
    assert first.line != moved.line


def test_chunked_large_content_keeps_absolute_lines_and_no_duplicates(make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    lines = [f"line {i} some ordinary text here" for i in range(20_000)]
    for at in (5, 9_999, 10_000, 19_990):
        lines[at] = f"KEY={key}"
    data = "\n".join(lines).encode()
    settings = ScanSettings(chunk_bytes=64 << 10)
    scanner = Scanner(RULES, settings)
    stream = io.BytesIO(data)
    fragments = list(chunked(Origin("big.txt"), b"", stream.read, settings.chunk_bytes))
    assert len(fragments) > 5
    assert all(len(f.data) <= settings.chunk_bytes for f in fragments)
    result = scan_fragments(fragments, scanner)
    assert sorted(f.line for f in result.findings) == [6, 10_000, 10_001, 19_991]
    assert result.stats.files == 1


def test_pair_lowers_confidence_when_optional_pair_is_missing(make_key) -> None:  # type: ignore[no-untyped-def]
    rules = [r for r in RULES.rules if r.pairs is not None and not r.pairs.required]
    if not rules:
        pytest.skip("no rule with an optional pair")
    rule = rules[0]
    text = expand_template(rule.positive[0], random.Random(3))
    found = [f for f in scan_text(text) if f.rule_id == rule.id]
    assert found
    assert all(f.confidence in ("high", "medium", "low") for f in found)


def test_fragment_without_hits_is_cheap_and_empty() -> None:
    scanner = Scanner(RULES, ScanSettings())
    assert scanner.scan_fragment(Fragment(Origin("a.txt"), b"nothing to see\n" * 100)) == []


def test_suppressed_count_in_stats(make_key, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = make_key()
    (finding,) = scan_text(f"K={key}")
    settings = replace(ScanSettings(), baseline=frozenset({finding.fingerprint}))
    result = scan_fragments([Fragment(Origin("a"), f"K={key}".encode())], Scanner(RULES, settings))
    assert result.stats.suppressed == 1
    assert result.findings == ()


@pytest.mark.parametrize(
    "template",
    ["AKIA{{b32:16}}", "ASIA{{b32:16}}", "hf_{{lower:17}}{{upper:17}}", "r8_{{alnum:37}}"],
)
def test_short_prefix_keys_are_found_base64_encoded(make_key, template: str) -> None:  # type: ignore[no-untyped-def]
    key = make_key(template)
    encoded = base64.b64encode(key.encode()).decode()
    text = f"apiVersion: v1\nkind: Secret\ndata:\n  token: {encoded}\n"
    assert [(f.secret, f.encoding) for f in scan_text(text)] == [(key, "base64")]


@pytest.mark.parametrize(
    "line",
    [
        "see https://github.com/northwind/ml/commit/{{hex:40}} wandb",
        "import wandb\nrevision: {{hex:40}}",
        "wandb_blob: aGVsbG8+{{hex:40}}",
    ],
)
def test_hashes_and_base64_slices_near_a_keyword_are_not_keys(make_key, line: str) -> None:  # type: ignore[no-untyped-def]
    assert [f.rule_id for f in scan_text(make_key(line))] == []


def test_compiled_database_cache_is_reused_and_survives_corruption(tmp_path: Path) -> None:
    pytest.importorskip("hyperscan")
    from stormwatch.secrets.engine import HyperscanEngine
    from stormwatch.secrets.patterns import build_table

    table = build_table(RULES)
    first = HyperscanEngine.build(table, cache=tmp_path)
    (entry,) = tmp_path.glob("hs-*.bin")
    again = HyperscanEngine.build(table, cache=tmp_path)
    entry.write_bytes(b"\x00\x01 not a database")
    rebuilt = HyperscanEngine.build(table, cache=tmp_path)
    data = b"nothing\n" + OPENAI_KEY_LINE
    assert first.hits(data) == again.hits(data) == rebuilt.hits(data) != []


def test_line_cursor_counts_lines_at_offsets_in_any_order() -> None:
    rng = random.Random(3)
    data = "".join(rng.choice("ab\n") for _ in range(2000)).encode()
    cursor = LineCursor(data, line_offset=10)
    for offset in [rng.randrange(len(data)) for _ in range(300)]:
        assert cursor.locate(offset).line == 11 + data.count(b"\n", 0, offset), offset
