"""The rule loader reports every problem with its location instead of stopping at the first."""

from __future__ import annotations

from pathlib import Path

import pytest

from stormwatch.detect import RuleLoadError, load_rules, parse_rule_file

BAD = """
theme: broken
rules:
  - id: Not_Kebab
    title: t
    description: d
    severity: urgent
    techniques: [T1078.004, X9999]
    entities: [credential_id, hostname]
    response: r
    threshold:
      group_by: [credential_id]
      filter: "operation = 'InvokeModel'"
      window: 600
      min: "{missing}"
  - id: two-analytics
    title: t
    description: d
    severity: high
    techniques: [T1496]
    entities: [resource]
    response: r
    colour: blue
    query: "SELECT 1"
    sequence: {by: [resource], steps: ["TRUE", "TRUE"], window: 60}
"""


def test_parse_collects_every_issue_with_location() -> None:
    rules, issues = parse_rule_file(BAD, "bad.yaml")
    assert rules == ()
    where = {(i.rule_id, i.field) for i in issues}
    assert ("Not_Kebab", "id") in where
    assert ("Not_Kebab", "severity") in where
    assert ("Not_Kebab", "techniques") in where
    assert ("Not_Kebab", "entities") in where
    assert ("two-analytics", "analytic") in where
    assert ("two-analytics", "colour") in where
    assert all(i.file == "bad.yaml" for i in issues)


def test_load_rules_raises_with_all_issues(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    with pytest.raises(RuleLoadError) as caught:
        load_rules([tmp_path], builtin=False)
    assert len(caught.value.issues) >= 6
    assert "bad.yaml" in str(caught.value)


def test_unknown_parameter_is_reported_at_compile_time(tmp_path: Path) -> None:
    text = BAD.split("  - id: two-analytics")[0].replace("Not_Kebab", "ok-id")
    text = text.replace("severity: urgent", "severity: high").replace(", X9999", "")
    text = text.replace("credential_id, hostname", "credential_id")
    (tmp_path / "one.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleLoadError) as caught:
        load_rules([tmp_path / "one.yaml"], builtin=False)
    (issue,) = caught.value.issues
    assert (issue.rule_id, issue.field) == ("ok-id", "threshold.min")


def _query_rule(rule_id: str, query: str) -> str:
    """A rule file of one low-severity query rule; ``query`` is its YAML after ``query:``."""
    return f"""
rules:
  - id: {rule_id}
    title: t
    description: d
    severity: low
    techniques: [T1496]
    entities: [resource]
    response: r
    query:{query}
"""


def test_sql_syntax_error_is_an_issue() -> None:
    text = _query_rule(
        "broken-sql", ' "SELECT resource, MIN(time) AS first_seen FROM events WHERE (("'
    )
    rules, _ = parse_rule_file(text, "sql.yaml")
    from stormwatch.detect.compiler import compile_issues

    (rule,) = rules
    (issue,) = compile_issues(rule)
    assert issue.field == "query" and "parse" in issue.message


def test_yaml_syntax_error_is_an_issue() -> None:
    _, issues = parse_rule_file("rules: [\n  - id: x\n", "broken.yaml")
    assert issues and issues[0].field == "yaml"


def test_extra_rule_replaces_builtin(tmp_path: Path) -> None:
    builtin = {r.id: r for r in load_rules()}["jailbreak-burst"]
    source = Path(builtin.source.replace("rules/", ""))
    text = (Path(__file__).parents[2] / "src/stormwatch/detect/rules" / source.name).read_text()
    (tmp_path / "mine.yaml").write_text(text.replace("min_attempts: 3", "min_attempts: 7"))
    rules = {r.id: r for r in load_rules([tmp_path])}
    assert rules["jailbreak-burst"].params["min_attempts"] == 7


def test_query_episode_fields_are_checked() -> None:
    query = """
      sql: "SELECT resource FROM events"
      episode_by: [resource, hostname]
      episode_gap: soon"""
    text = _query_rule("bucketed", query)
    _, issues = parse_rule_file(text, "q.yaml")
    assert {i.field for i in issues} == {"query.episode_by", "query.episode_gap"}


def test_routine_fields_are_checked() -> None:
    query = """ "SELECT resource, MIN(time) AS first_seen, MAX(time) AS last_seen FROM events"
    routine: {by: [hostname], min_days: often, severity: quiet, when: daily}"""
    _, issues = parse_rule_file(_query_rule("scheduled", query), "r.yaml")
    fields = {"routine.by", "routine.min_days", "routine.severity", "routine.when"}
    assert {i.field for i in issues} == fields


def test_routine_keys_must_be_the_rules_entities() -> None:
    from stormwatch.detect.compiler import compile_issues

    query = """ "SELECT resource, MIN(time) AS first_seen, MAX(time) AS last_seen FROM events"
    routine: {by: [principal]}"""
    (rule,), _ = parse_rule_file(_query_rule("scheduled", query), "r.yaml")
    (issue,) = compile_issues(rule)
    assert issue.field == "routine.by" and "principal" in issue.message
