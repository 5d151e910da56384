"""Built-in rules: they load, compile to DuckDB and Spark SQL, and their examples hold."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from stormwatch.detect import DetectionSettings, compile_rule, load_rules, run_detection
from stormwatch.detect.examples import expand_example, insert_events
from stormwatch.detect.rule import SEVERITY_RANK, DetectionRule
from stormwatch.events.model import events_table_ddl

RULES = load_rules()
BY_ID = {rule.id: rule for rule in RULES}
LOOKUP_RULES = {"ip-intel-match", "canary-credential-used", "exposed-credential-used"}


def test_catalog_is_large_and_ids_unique() -> None:
    assert len(RULES) >= 30
    assert len(BY_ID) == len(RULES)
    assert {rule.theme for rule in RULES} >= {"validation", "persistence", "evasion", "abuse"}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_compiles_for_duckdb_and_spark(rule: DetectionRule) -> None:
    compiled = compile_rule(rule)
    duck = compiled.sql("duckdb")
    spark = compiled.sql("spark")
    assert sqlglot.parse_one(spark, read="spark") is not None
    assert sqlglot.parse_one(duck, read="duckdb") is not None
    assert "EPOCH(" not in spark.upper().replace("UNIX_TIMESTAMP(", "")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_runs_on_empty_store(rule: DetectionRule) -> None:
    con = duckdb.connect()
    con.execute(events_table_ddl())
    assert run_detection(con, [rule], DetectionSettings(store=False)) == ()


def _alerts(rule: DetectionRule, case: object, seed: int) -> list[str]:
    con = duckdb.connect()
    con.execute(events_table_ddl())
    insert_events(con, expand_example(case, seed=seed))  # type: ignore[arg-type]
    found = run_detection(con, [rule], DetectionSettings(store=False))
    return [a.severity for a in found if SEVERITY_RANK[a.severity] >= SEVERITY_RANK[rule.severity]]


EXAMPLES = [
    pytest.param(rule, kind, n, case, id=f"{rule.id}-{kind}-{n}")
    for rule in RULES
    for kind, cases in (("positive", rule.examples.positive), ("negative", rule.examples.negative))
    for n, case in enumerate(cases)
]


@pytest.mark.parametrize(("rule", "kind", "n", "case"), EXAMPLES)
def test_rule_examples(rule: DetectionRule, kind: str, n: int, case: object) -> None:
    full_severity = _alerts(rule, case, seed=n)
    if kind == "positive":
        assert full_severity, f"{rule.id}: positive example {n} raised no alert"
    else:
        assert not full_severity, f"{rule.id}: negative example {n} raised {full_severity}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_rule_without_lookups_has_examples(rule: DetectionRule) -> None:
    if rule.id in LOOKUP_RULES:
        pytest.skip("covered by test_engine (lookup tables)")
    assert rule.examples.positive and rule.examples.negative


def test_parameters_can_be_overridden() -> None:
    rule = BY_ID["bedrock-validation-probe-burst"]
    compiled = compile_rule(rule, {"min_errors": 50})
    assert ">= 50" in compiled.sql()


def test_rules_doc_lists_every_rule_and_is_current() -> None:
    from pathlib import Path

    from stormwatch.detect.catalog import with_catalog

    doc = Path(__file__).parents[2] / "docs" / "rules.md"
    text = doc.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule.id}`" in text
    assert with_catalog(text, RULES) == text, (
        "run python -m stormwatch.detect.catalog docs/rules.md"
    )
