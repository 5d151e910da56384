"""Report writers: redaction by default, JSON fields, SARIF schema, CSV round trip, text summary."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import stormwatch.report as report
from stormwatch.report import WRITERS, WriterOptions, writer_for
from stormwatch.report.record import FINDING_FIELDS
from stormwatch.report.sarif_writer import FINGERPRINT_KEY, artifact_location
from stormwatch.secrets.model import Finding, Origin, ScanResult, ScanStats, SkipNotice
from stormwatch.secrets.ruleset import RuleSet, builtin_rules, expand_template

OPENAI_PROJECT = "sk-proj-{{alnum_:74}}T3BlbkFJ{{alnum_:74}}"
OPENAI_SVCACCT = "sk-svcacct-{{alnum_:74}}T3BlbkFJ{{alnum_:74}}"
OPTIONS = WriterOptions(tool_version="9.9.9")
SHOWN = WriterOptions(tool_version="9.9.9", show_secrets=True)


def _secret(template: str, seed: int) -> str:
    return expand_template(template, random.Random(seed))


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return builtin_rules()


@pytest.fixture(scope="module")
def secrets() -> tuple[str, str, str, str]:
    return (
        _secret(OPENAI_PROJECT, 1),
        _secret(OPENAI_SVCACCT, 2),
        _secret("{{hex:40}}", 3),
        _secret("{{alnum:48}}", 4),
    )


@pytest.fixture(scope="module")
def result(secrets: tuple[str, str, str, str]) -> ScanResult:
    project, svcacct, custom, pair = secrets
    history = Origin(
        path="deploy/old.env",
        commit=_secret("{{hex:40}}", 5),
        author="=HYPERLINK(1)",
        email="dev@example.com",
        date="2024-05-01T12:00:00Z",
        in_head=False,
    )
    findings = (
        Finding(
            "openai-service-account-key",
            "openai",
            "OpenAI service-account API key",
            "One project",
            svcacct,
            history,
            3,
            1,
            "high",
            verified="live",
        ),
        Finding(
            "openai-project-key",
            "openai",
            "OpenAI project API key",
            "All models",
            project,
            Origin("src/app [v2].py"),
            10,
            17,
            "high",
            notes=("in a notebook",),
        ),
        Finding(
            "acme-key-pair",
            "acme",
            "Acme key and secret",
            "Acme account",
            custom,
            Origin("config/acme.yaml"),
            2,
            5,
            "medium",
            pair_secret=pair,
        ),
    )
    stats = ScanStats(files=4, bytes=1234, commits=2, findings=3, skipped={"binary": 2})
    notices = tuple(SkipNotice(f"blob/{n}.bin", "unreadable", "bad zip") for n in range(25))
    return ScanResult(findings, stats, notices)


def _render(name: str, result: ScanResult, rules: RuleSet, options: WriterOptions = OPTIONS) -> str:
    out = io.StringIO()
    writer_for(name, options).write(result, rules, out)
    return out.getvalue()


def _sarif_schema() -> dict[str, Any]:
    """The official SARIF 2.1.0 schema (a copy of ../shared/schemas kept with the tests)."""
    path = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _validate_sarif(text: str) -> dict[str, Any]:
    import jsonschema

    schema = _sarif_schema()
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    document: dict[str, Any] = json.loads(text)
    validator(schema).validate(document)
    return document


def test_public_surface() -> None:
    assert sorted(report.__all__) == sorted(
        ["WRITERS", "FindingWriter", "WriterFactory", "WriterOptions", "writer_for"]
    )
    assert all(hasattr(report, name) for name in report.__all__)
    assert set(WRITERS) == {"text", "json", "sarif", "csv"}
    with pytest.raises(ValueError, match="sarif"):
        writer_for("xml", OPTIONS)


def test_report_package_does_not_import_rich() -> None:
    code = "import sys, stormwatch.report; print('rich' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_no_secret_by_default(
    name: str, result: ScanResult, rules: RuleSet, secrets: tuple[str, ...]
) -> None:
    text = _render(name, result, rules)
    for secret in secrets:
        assert secret not in text
        assert secret[:20] not in text


def test_sarif_never_holds_the_secret(
    result: ScanResult, rules: RuleSet, secrets: tuple[str, ...]
) -> None:
    text = _render("sarif", result, rules, SHOWN)
    assert not any(secret in text for secret in secrets)


@pytest.mark.parametrize("name", ["json", "csv", "text"])
def test_show_secrets_reveals_them(
    name: str, result: ScanResult, rules: RuleSet, secrets: tuple[str, ...]
) -> None:
    text = _render(name, result, rules, SHOWN)
    for secret in secrets[:2]:
        assert secret in text


def test_json_fields_and_order(
    result: ScanResult, rules: RuleSet, secrets: tuple[str, ...]
) -> None:
    document = json.loads(_render("json", result, rules))
    assert document["version"] == "9.9.9"
    assert document["stats"]["skipped"] == {"binary": 2}
    assert len(document["notices"]) == 25
    findings = document["findings"]
    assert [f["file"] for f in findings] == [
        "config/acme.yaml",
        "deploy/old.env",
        "src/app [v2].py",
    ]
    assert all(list(f) == list(FINDING_FIELDS) for f in findings)
    by_rule = {f["rule_id"]: f for f in findings}
    project = by_rule["openai-project-key"]
    assert project["secret_sha256"] == hashlib.sha256(secrets[0].encode()).hexdigest()
    assert (project["line"], project["column"], project["commit"]) == (10, 17, None)
    assert by_rule["acme-key-pair"]["paired"] is True
    assert by_rule["openai-service-account-key"]["in_head"] is False
    shown = json.loads(_render("json", result, rules, SHOWN))["findings"]
    assert {f["secret"] for f in shown} == set(secrets[:3])
    assert {f["pair_secret"] for f in shown} == {None, secrets[3]}


def test_sarif_validates_and_fits_code_scanning(result: ScanResult, rules: RuleSet) -> None:
    document = _validate_sarif(_render("sarif", result, rules))
    run = document["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("stormwatch", "9.9.9")
    descriptors = driver["rules"]
    assert {"openai-project-key", "acme-key-pair"} <= {d["id"] for d in descriptors}
    for descriptor in descriptors:
        assert {"text", "markdown"} <= set(descriptor["help"])
        assert "Revoke or rotate" in descriptor["help"]["markdown"]
        assert descriptor["properties"]["tags"][0] == "security"
    for res in run["results"]:
        assert descriptors[res["ruleIndex"]]["id"] == res["ruleId"]
        physical = res["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert physical["region"]["startLine"] >= 1
        assert FINGERPRINT_KEY in res["partialFingerprints"]
        assert "snippet" not in json.dumps(res)
    by_rule = {res["ruleId"]: res for res in run["results"]}
    history = by_rule["openai-service-account-key"]["properties"]
    assert history["author"] == "=HYPERLINK(1)" and history["in_head"] is False
    assert "commit" not in by_rule["openai-project-key"]["properties"]
    uri = by_rule["openai-project-key"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "src/app%20%5Bv2%5D.py"
    assert (
        descriptors[by_rule["openai-project-key"]["ruleIndex"]]["properties"]["security-severity"]
        == "9.0"
    )


def test_sarif_paths_relative_to_source_root() -> None:
    assert artifact_location("/repo/a/b.py", "/repo") == {"uri": "a/b.py", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("./a\\b.py", None) == {"uri": "a/b.py", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("/elsewhere/c.py", "/repo") == {"uri": "file:///elsewhere/c.py"}


def test_csv_round_trips(result: ScanResult, rules: RuleSet) -> None:
    rows = list(csv.DictReader(io.StringIO(_render("csv", result, rules))))
    records = json.loads(_render("json", result, rules))["findings"]
    assert len(rows) == len(records) == 3
    for row, record in zip(rows, records, strict=True):
        assert list(row) == list(FINDING_FIELDS)
        assert row["secret_sha256"] == record["secret_sha256"]
        assert row["line"] == str(record["line"])
        assert row["paired"] == str(record["paired"]).lower()
    assert rows[1]["author"] == "'=HYPERLINK(1)"
    assert rows[2]["notes"] == "in a notebook"


def test_text_summary_and_stats(result: ScanResult, rules: RuleSet) -> None:
    text = _render("text", result, rules)
    assert "\x1b[" not in text
    assert "Findings by provider" in text
    assert "OpenAI" in text and "acme" in text
    assert "src/app [v2].py:10:17" in text
    assert "binary: 2" in text
    assert "blob/19.bin: unreadable (bad zip)" in text
    assert "blob/20.bin" not in text
    assert "... and 5 more" in text


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_colours_only_a_terminal(
    result: ScanResult, rules: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    out = _Terminal()
    writer_for("text", OPTIONS).write(result, rules, out)
    assert "\x1b[" in out.getvalue()


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_empty_result(name: str, rules: RuleSet) -> None:
    empty = ScanResult((), ScanStats())
    text = _render(name, empty, rules)
    if name == "json":
        assert json.loads(text)["findings"] == []
    elif name == "sarif":
        assert _validate_sarif(text)["runs"][0]["results"] == []
    elif name == "csv":
        assert text.splitlines() == [",".join(FINDING_FIELDS)]
    else:
        assert "No exposed credentials found." in text
