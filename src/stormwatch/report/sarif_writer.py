"""The SARIF 2.1.0 report, shaped for GitHub code scanning.

SARIF never carries the secret, not even with ``show_secrets``: it is uploaded to dashboards that
everyone with read access sees. Results point at a file relative to ``%SRCROOT%``; their partial
fingerprint follows the secret and its file, not its line, so alerts survive edits around them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import TextIO
from urllib.parse import quote

from stormwatch.report.record import finding_record
from stormwatch.report.writer import WriterOptions, ordered
from stormwatch.secrets.model import Finding, ScanResult, SkipNotice, sha256_hex
from stormwatch.secrets.ruleset import RuleSet, SecretRule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/stormwatch-dev/stormwatch"
FINGERPRINT_KEY = "stormwatchFingerprint/v1"
SRCROOT = "%SRCROOT%"
# GitHub reads security-severity as a CVSS-like score: 9.0+ critical, 7.0+ high, 4.0+ medium.
SECURITY_SEVERITY = {"high": "9.0", "medium": "7.0", "low": "4.0"}
LEVEL = {"high": "error", "medium": "warning", "low": "note"}
_RESULT_PROPERTIES = (
    "provider",
    "confidence",
    "verified",
    "encoding",
    "redacted",
    "fingerprint",
    "secret_sha256",
)
_HISTORY_PROPERTIES = ("commit", "author", "date", "in_head")
_CWE_TAG = "external/cwe/cwe-798"  # Use of hard-coded credentials
_RESPONSE = (
    "Revoke or rotate the key at {provider} now; deleting it from the code does not undo the "
    "exposure.",
    "Check {provider}'s usage, billing and audit logs for activity since the key was first "
    "committed: unexpected model calls or cost are the sign of LLMjacking.",
    "Remove the key from the git history (git filter-repo), forks, caches and build artifacts, "
    "and load the new key from a secret manager or the environment.",
)


@dataclass(frozen=True)
class _RuleFacts:
    """What a SARIF rule descriptor needs, from a rule in the set or, failing that, a finding."""

    id: str
    provider: str
    provider_name: str
    description: str
    access: str
    confidence: str

    @classmethod
    def of_rule(cls, rule: SecretRule) -> _RuleFacts:
        return cls(
            rule.id,
            rule.provider,
            rule.provider_name,
            rule.description,
            rule.access,
            rule.confidence,
        )

    @classmethod
    def of_finding(cls, f: Finding) -> _RuleFacts:
        return cls(f.rule_id, f.provider, f.provider, f.description, f.access, f.confidence)


def _rule_facts(findings: list[Finding], rules: RuleSet) -> list[_RuleFacts]:
    """Every reported rule of the set, plus rules that findings name but the set lacks, by id."""
    facts = {rule.id: _RuleFacts.of_rule(rule) for rule in rules.rules if rule.reported}
    for finding in findings:
        if finding.rule_id not in facts:
            known = rules.by_id().get(finding.rule_id)
            facts[finding.rule_id] = (
                _RuleFacts.of_rule(known) if known else _RuleFacts.of_finding(finding)
            )
    return [facts[rid] for rid in sorted(facts)]


def _help(rule: _RuleFacts) -> dict[str, str]:
    steps = [step.format(provider=rule.provider_name) for step in _RESPONSE]
    text = (
        f"{rule.description} exposed in source code or history.\n\n"
        f"It gives access to: {rule.access}.\n\nHow to respond:\n"
        + "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))
    )
    markdown = (
        f"**{rule.description}** exposed in source code or history.\n\n"
        f"**Gives access to:** {rule.access}.\n\n## How to respond\n\n"
        + "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))
    )
    return {"text": text, "markdown": markdown}


def _descriptor(rule: _RuleFacts) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": f"{rule.description}. Access: {rule.access}."},
        "help": _help(rule),
        "defaultConfiguration": {"level": LEVEL[rule.confidence]},
        "properties": {
            "tags": ["security", "secret", _CWE_TAG, rule.provider],
            "precision": rule.confidence,
            "security-severity": SECURITY_SEVERITY[rule.confidence],
        },
    }


def artifact_location(path: str, root: str | None) -> dict[str, str]:
    """A SARIF artifact location: relative to ``%SRCROOT%`` when it can be, else a file URI."""
    if PureWindowsPath(path).drive:
        return {"uri": PureWindowsPath(path).as_uri()}
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute() and root and posix.is_relative_to(root):
        posix = posix.relative_to(root)
    if posix.is_absolute():
        return {"uri": posix.as_uri()}
    return {"uri": quote(posix.as_posix(), safe="/"), "uriBaseId": SRCROOT}


def _message(f: Finding) -> str:
    where = f" in commit {f.origin.commit[:8]}" if f.origin.commit else ""
    live = " It was verified live." if f.verified == "live" else ""
    return (
        f"{f.description} {f.redacted} (fingerprint {f.fingerprint[:12]}) is exposed{where}. "
        f"It gives access to: {f.access}. Revoke or rotate it at the provider.{live}"
    )


def _properties(f: Finding) -> dict[str, object]:
    # Picked from the record without secrets, so SARIF cannot carry one even with show_secrets.
    record = finding_record(f, show_secrets=False)
    names = _RESULT_PROPERTIES + (_HISTORY_PROPERTIES if f.origin.commit else ())
    return {name: record[name] for name in names if record[name] is not None}


def _result(f: Finding, index: int, root: str | None) -> dict[str, object]:
    location = artifact_location(f.origin.path, root)
    region = {"startLine": max(1, f.line), "startColumn": max(1, f.column)}
    return {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": LEVEL[f.confidence],
        "message": {"text": _message(f)},
        "locations": [{"physicalLocation": {"artifactLocation": location, "region": region}}],
        "partialFingerprints": {FINGERPRINT_KEY: sha256_hex(f"{f.fingerprint}:{location['uri']}")},
        "properties": _properties(f),
    }


def _notification(notice: SkipNotice) -> dict[str, object]:
    detail = f" ({notice.detail})" if notice.detail else ""
    return {
        "level": "warning",
        "message": {"text": f"{notice.location}: {notice.reason}{detail}"},
        "descriptor": {"id": notice.reason or "skipped"},
    }


@dataclass(frozen=True)
class SarifWriter:
    """Writes one SARIF run with every reported rule and one result per finding."""

    options: WriterOptions

    def write(self, result: ScanResult, rules: RuleSet, out: TextIO) -> None:
        """Write the SARIF log; validated against the 2.1.0 schema by the tests."""
        findings = ordered(result.findings)
        facts = _rule_facts(findings, rules)
        index = {rule.id: n for n, rule in enumerate(facts)}
        driver = {
            "name": "stormwatch",
            "version": self.options.tool_version,
            "informationUri": INFORMATION_URI,
            "rules": [_descriptor(rule) for rule in facts],
        }
        run = {
            "tool": {"driver": driver},
            "invocations": [
                {
                    "executionSuccessful": True,
                    "toolExecutionNotifications": [_notification(n) for n in result.notices],
                }
            ],
            "results": [_result(f, index[f.rule_id], self.options.source_root) for f in findings],
        }
        log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        json.dump(log, out, indent=2)
        out.write("\n")
