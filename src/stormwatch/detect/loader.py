"""Load detection rules from YAML, collecting every problem with its location (like pySigma).

A rule file holds ``theme: <name>`` and ``rules: [...]``; each rule is a mapping with the fields of
``DetectionRule`` and exactly one analytic key (``query``, ``threshold``, ``first_seen``,
``deviation``, ``sequence``). ``load_rules`` raises ``RuleLoadError`` listing all issues of all
files instead of stopping at the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml

from stormwatch.detect.rule import (
    ENTITY_COLUMNS,
    ROUTINE_WHEN,
    SEVERITIES,
    Aggregate,
    AlsoCondition,
    Analytic,
    DetectionRule,
    DeviationAnalytic,
    FirstSeenAnalytic,
    Number,
    ParamValue,
    QueryAnalytic,
    Routine,
    RuleExamples,
    RuleIssue,
    SequenceAnalytic,
    Severity,
    ThresholdAnalytic,
)
from stormwatch.events.model import COLUMN_NAMES

RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TECHNIQUE_ID = re.compile(r"^(?:T\d{4}(?:\.\d{3})?|AML\.T\d{4}(?:\.\d{3})?)$")
PARAM_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
RULE_KEYS = frozenset(
    {
        "id",
        "title",
        "description",
        "severity",
        "techniques",
        "entities",
        "params",
        "response",
        "false_positives",
        "examples",
        "routine",
    }
)
EXAMPLE_KEYS = frozenset({"at", "repeat", "every", "days", *COLUMN_NAMES})


class RuleLoadError(ValueError):
    """Rule files are invalid; ``issues`` lists every problem with its file, rule and field."""

    def __init__(self, issues: Iterable[RuleIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass
class _Reader:
    """Reads typed fields of one mapping, recording an issue (not raising) for each bad one."""

    data: Mapping[str, Any]
    file: str
    rule_id: str | None
    issues: list[RuleIssue]
    prefix: str = ""
    seen: set[str] = field(default_factory=set)

    def issue(self, key: str, message: str) -> None:
        self.issues.append(RuleIssue(self.file, self.rule_id, self.prefix + key, message))

    def get(self, key: str) -> Any:
        self.seen.add(key)
        return self.data.get(key)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.issue(key, "a non-empty string is required")
            return default or ""
        return value.strip()

    def names(
        self, key: str, allowed: Iterable[str], default: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        value = self.get(key)
        if value is None and default:
            return default
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
            self.issue(key, "a non-empty list of names is required")
            return default
        unknown = sorted(set(items) - set(allowed))
        if unknown:
            self.issue(key, f"unknown {', '.join(unknown)} (allowed: {', '.join(allowed)})")
        return tuple(items)

    def number(self, key: str, default: Number | None = None) -> Number:
        value = self.get(key)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.issue(key, "a number or a '{param}' reference is required")
            return default if default is not None else 0
        if isinstance(value, str) and not re.fullmatch(r"\{[a-z_][a-z0-9_]*\}", value.strip()):
            self.issue(key, f"{value!r} is neither a number nor a '{{param}}' reference")
        return cast(Number, value)

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get(key)
        if value is None:
            return default
        if value not in choices:
            self.issue(key, f"{value!r} is not one of {', '.join(choices)}")
            return default
        return str(value)

    def child(self, key: str) -> _Reader | None:
        value = self.get(key)
        if not isinstance(value, Mapping):
            self.issue(key, "a mapping is required")
            return None
        return _Reader(value, self.file, self.rule_id, self.issues, f"{self.prefix}{key}.")

    def check_unknown(self, allowed: Iterable[str]) -> None:
        for key in sorted(set(self.data) - set(allowed) - self.seen):
            self.issue(str(key), "unknown field")


def _aggregate(reader: _Reader) -> Aggregate:
    value = reader.get("aggregate")
    if value is None or value == "count":
        return Aggregate()
    if isinstance(value, Mapping) and len(value) == 1:
        kind, expr = next(iter(value.items()))
        if kind in ("distinct", "sum") and isinstance(expr, str) and expr:
            return Aggregate(kind=kind, expr=expr)
    reader.issue("aggregate", "expected 'count', {distinct: EXPR} or {sum: EXPR}")
    return Aggregate()


def _threshold(r: _Reader) -> ThresholdAnalytic:
    return ThresholdAnalytic(
        group_by=r.names("group_by", ENTITY_COLUMNS),
        filter=r.text("filter", "TRUE"),
        window=r.number("window"),
        min=r.number("min"),
        aggregate=_aggregate(r),
        window_kind=cast(Any, r.choice("window_kind", ("tumbling", "sliding"), "tumbling")),
        also=_also(r) if r.data.get("also") is not None else None,
    )


def _also(reader: _Reader) -> AlsoCondition | None:
    child = reader.child("also")
    if child is None:
        return None
    also = AlsoCondition(
        filter=child.text("filter"), min=child.number("min"), share=child.number("share", 0)
    )
    child.check_unknown(())
    return also


def _first_seen(r: _Reader) -> FirstSeenAnalytic:
    return FirstSeenAnalytic(
        key=r.names("key", ENTITY_COLUMNS),
        value=r.text("value"),
        filter=r.text("filter", "TRUE"),
        risk=r.text("risk", "TRUE"),
        baseline_days=r.number("baseline_days", 7),
        min_baseline_events=r.number("min_baseline_events", 20),
        persist_days=r.number("persist_days", 5),
        persist_severity=cast(Severity, r.choice("persist_severity", SEVERITIES, "low")),
        shared_by=r.number("shared_by", 0),
        shared_severity=cast(Severity, r.choice("shared_severity", SEVERITIES, "medium")),
    )


def _deviation(r: _Reader) -> DeviationAnalytic:
    return DeviationAnalytic(
        key=r.names("key", ENTITY_COLUMNS),
        filter=r.text("filter", "TRUE"),
        aggregate=_aggregate(r),
        bucket=r.number("bucket", 3600),
        factor=r.number("factor", 5),
        min_value=r.number("min_value", 1),
        statistic=cast(Any, r.choice("statistic", ("mean", "max"), "mean")),
        baseline_buckets=r.number("baseline_buckets", 720),
        min_baseline_buckets=r.number("min_baseline_buckets", 24),
    )


def _sequence(r: _Reader) -> SequenceAnalytic:
    steps = r.get("steps")
    if not isinstance(steps, list) or not 2 <= len(steps) <= 3:
        r.issue("steps", "a list of 2 or 3 SQL conditions is required")
        steps = ["TRUE", "TRUE"]
    if not all(isinstance(step, str) and step.strip() for step in steps):
        r.issue("steps", "every step must be a non-empty SQL condition")
    return SequenceAnalytic(
        by=r.names("by", ENTITY_COLUMNS), steps=tuple(map(str, steps)), window=r.number("window")
    )


def _query(r: _Reader) -> QueryAnalytic:
    by = r.names("episode_by", ENTITY_COLUMNS) if "episode_by" in r.data else ()
    return QueryAnalytic(sql=r.text("sql"), episode_by=by, episode_gap=r.number("episode_gap", 0))


def _routine(reader: _Reader) -> Routine | None:
    if reader.data.get("routine") is None:
        return None
    child = reader.child("routine")
    if child is None:
        return None
    routine = Routine(
        by=child.names("by", ENTITY_COLUMNS),
        min_days=child.number("min_days", 3),
        tolerance=child.number("tolerance", 1800),
        severity=cast(Severity, child.choice("severity", SEVERITIES, "low")),
        when=child.choice("when", ROUTINE_WHEN, "same_time"),
    )
    child.check_unknown(())
    return routine


# The one registry from a YAML analytic key to its parser.
ANALYTIC_PARSERS: Mapping[str, Callable[[_Reader], Analytic]] = {
    "threshold": _threshold,
    "first_seen": _first_seen,
    "deviation": _deviation,
    "sequence": _sequence,
    "query": _query,
}


def _analytic(reader: _Reader) -> Analytic | None:
    present = [key for key in ANALYTIC_PARSERS if key in reader.data]
    if len(present) != 1:
        reader.issue("analytic", f"exactly one of {', '.join(ANALYTIC_PARSERS)} is required")
        return None
    key = present[0]
    if key == "query" and isinstance(reader.data[key], str):
        reader.seen.add(key)
        return QueryAnalytic(sql=reader.data[key])
    child = reader.child(key)
    if child is None:
        return None
    analytic = ANALYTIC_PARSERS[key](child)
    child.check_unknown(())
    return analytic


def _params(reader: _Reader) -> dict[str, ParamValue]:
    raw = reader.get("params") or {}
    if not isinstance(raw, Mapping):
        reader.issue("params", "a mapping of name: default is required")
        return {}
    params: dict[str, ParamValue] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not PARAM_NAME.match(name):
            reader.issue(f"params.{name}", "parameter names are snake case")
        elif isinstance(value, list) and value and all(_scalar(v) for v in value):
            params[name] = tuple(value)
        elif _scalar(value):
            params[name] = value
        else:
            reader.issue(f"params.{name}", "a scalar or a non-empty list of scalars is required")
    return params


def _scalar(value: object) -> bool:
    return isinstance(value, int | float | str | bool)


def _examples(reader: _Reader) -> RuleExamples:
    raw = reader.get("examples") or {}
    if not isinstance(raw, Mapping):
        reader.issue("examples", "a mapping with positive / negative lists is required")
        return RuleExamples()
    parsed: dict[str, tuple[tuple[Mapping[str, object], ...], ...]] = {}
    for kind in ("positive", "negative"):
        cases = raw.get(kind) or []
        good: list[tuple[Mapping[str, object], ...]] = []
        for n, case in enumerate(cases if isinstance(cases, list) else [None]):
            if not isinstance(case, list) or not all(isinstance(s, Mapping) for s in case):
                reader.issue(f"examples.{kind}[{n}]", "a list of event specs is required")
                continue
            for spec in case:
                for key in sorted(set(spec) - EXAMPLE_KEYS):
                    reader.issue(f"examples.{kind}[{n}].{key}", "not an event column")
            good.append(tuple(case))
        parsed[kind] = tuple(good)
    return RuleExamples(positive=parsed["positive"], negative=parsed["negative"])


def _rule(
    data: Any, file: str, theme: str, index: int, issues: list[RuleIssue]
) -> DetectionRule | None:
    if not isinstance(data, Mapping):
        issues.append(RuleIssue(file, None, f"rules[{index}]", "a mapping is required"))
        return None
    rid = data.get("id")
    reader = _Reader(data, file, rid if isinstance(rid, str) else f"rules[{index}]", issues)
    if not isinstance(rid, str) or not RULE_ID.match(rid):
        reader.issue("id", f"{rid!r} is not a kebab-case id")
    techniques = _techniques(reader)
    before = len(issues)
    rule = DetectionRule(
        id=str(rid),
        title=reader.text("title"),
        description=reader.text("description"),
        severity=cast(Severity, reader.choice("severity", SEVERITIES, "medium")),
        techniques=techniques,
        entities=reader.names("entities", ENTITY_COLUMNS),
        response=reader.text("response"),
        analytic=_analytic(reader) or QueryAnalytic(sql="SELECT 1"),
        params=_params(reader),
        false_positives=reader.text("false_positives", ""),
        theme=theme,
        examples=_examples(reader),
        source=file,
        routine=_routine(reader),
    )
    if "severity" not in data:
        reader.issue("severity", "is required")
    reader.check_unknown(RULE_KEYS | set(ANALYTIC_PARSERS))
    return rule if len(issues) == before else None


def _techniques(reader: _Reader) -> tuple[str, ...]:
    value = reader.get("techniques")
    if not isinstance(value, list) or not value:
        reader.issue("techniques", "a non-empty list of ATT&CK / ATLAS ids is required")
        return ()
    bad = [str(v) for v in value if not isinstance(v, str) or not TECHNIQUE_ID.match(v)]
    if bad:
        reader.issue("techniques", f"not ATT&CK / ATLAS ids: {', '.join(bad)}")
    return tuple(str(v) for v in value)


def parse_rule_file(
    text: str, file: str
) -> tuple[tuple[DetectionRule, ...], tuple[RuleIssue, ...]]:
    """Rules of one YAML document and the issues found in it (the rules exclude broken ones)."""
    issues: list[RuleIssue] = []
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return (), (RuleIssue(file, None, "yaml", str(exc).replace("\n", " ")),)
    if not isinstance(doc, Mapping) or not isinstance(doc.get("rules"), list):
        return (), (RuleIssue(file, None, "rules", "a top-level 'rules' list is required"),)
    theme = str(doc.get("theme") or Path(file).stem)
    rules = [_rule(data, file, theme, n, issues) for n, data in enumerate(doc["rules"])]
    return tuple(rule for rule in rules if rule is not None), tuple(issues)


def builtin_rule_files() -> tuple[tuple[str, str], ...]:
    """(name, text) of the rule files shipped with stormwatch, sorted by name."""
    folder = resources.files("stormwatch.detect") / "rules"
    entries = sorted(
        (e for e in folder.iterdir() if e.name.endswith(".yaml")), key=lambda e: e.name
    )
    return tuple((f"rules/{entry.name}", entry.read_text(encoding="utf-8")) for entry in entries)


def load_rules(extra: Iterable[Path] = (), *, builtin: bool = True) -> tuple[DetectionRule, ...]:
    """Built-in rules plus rule files (or folders of ``*.yaml``) in ``extra``, validated.

    An extra rule replaces a built-in of the same id. Every rule is compiled once here so SQL
    errors surface at load time with their location. Raises ``RuleLoadError`` with all issues.
    """
    from stormwatch.detect.compiler import compile_issues  # the compiler imports this module

    sources = [(name, text, True) for name, text in builtin_rule_files()] if builtin else []
    for path in extra:
        files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
        sources.extend((str(f), f.read_text(encoding="utf-8"), False) for f in files)
    rules: dict[str, DetectionRule] = {}
    from_builtin: dict[str, bool] = {}
    issues: list[RuleIssue] = []
    for name, text, is_builtin in sources:
        parsed, found = parse_rule_file(text, name)
        issues.extend(found)
        for rule in parsed:
            if from_builtin.get(rule.id) == is_builtin:
                issues.append(RuleIssue(name, rule.id, "id", "duplicate rule id"))
            from_builtin[rule.id] = is_builtin
            rules[rule.id] = rule
            issues.extend(compile_issues(rule))
    if issues:
        raise RuleLoadError(issues)
    return tuple(rules.values())
