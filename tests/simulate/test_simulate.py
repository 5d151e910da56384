"""The simulator writes every log source in its real shape, deterministically, with labels."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import stormwatch.simulate as simulate_pkg
from stormwatch.cli.app import app
from stormwatch.simulate import (
    FORMATS,
    SCENARIOS,
    SimulationSummary,
    UnknownScenarioError,
    simulate,
)

AWS_KEY = re.compile(r"^A[KS]IA[A-Z2-7]{16}$")
SMALL = {"days": 2, "scale": 0.2, "seed": 7}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> SimulationSummary:
    return simulate(tmp_path_factory.mktemp("sim"), **SMALL)  # type: ignore[arg-type]


def _files(summary: SimulationSummary, pattern: str) -> list[Path]:
    found = [
        p for p in summary.files if re.search(pattern, p.relative_to(summary.out_dir).as_posix())
    ]
    assert found, f"no file matches {pattern}"
    return found


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        for line in fh:
            yield json.loads(line)


def _records(summary: SimulationSummary, pattern: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in _files(summary, pattern):
        if path.name.endswith(".json.gz") and "CloudTrail" in path.name:
            with gzip.open(path, "rt") as fh:
                out.extend(json.load(fh)["Records"])
        elif "eventhub" in path.as_posix():
            for batch in _lines(path):
                out.extend(batch["records"])
        else:
            out.extend(_lines(path))
    return out


def _props(record: dict[str, Any]) -> dict[str, Any]:
    props = record["properties"]
    return json.loads(props) if isinstance(props, str) else props  # type: ignore[no-any-return]


def test_public_surface() -> None:
    assert sorted(simulate_pkg.__all__) == sorted(
        [
            "FORMATS",
            "SCENARIOS",
            "PlaybookLabel",
            "SimulationSummary",
            "UnknownScenarioError",
            "simulate",
        ]
    )


def test_every_format_written(run: SimulationSummary) -> None:
    assert set(run.counts) == set(FORMATS)
    assert all(n > 0 for n in run.counts.values()), run.counts
    assert all(p.exists() for p in run.files)


def test_azure_diagnostic_logs(run: SimulationSummary) -> None:
    storage = _records(
        run, r"^azure/insights-logs-requestresponse/resourceId=/SUBSCRIPTIONS/.*/PT1H\.json$"
    )
    hub = _records(run, r"^azure/eventhub/.*\.jsonl$")
    assert any(isinstance(r["properties"], str) for r in hub + storage)
    assert any(isinstance(r["properties"], dict) for r in storage)
    for record in storage + hub:
        assert record["callerIpAddress"].endswith(".***")
        assert {"time", "resourceId", "category", "operationName", "resultSignature"} <= set(record)
        if record["category"] == "RequestResponse":
            props = _props(record)
            assert props["responseTime"] >= props["requestTime"] > 6 * 10**17  # .NET ticks
            assert "modelDeploymentName" in props
    operations = {r["operationName"] for r in storage + hub}
    assert {
        "ChatCompletions_Create",
        "Embeddings_Create",
        "ImageGenerations_Create",
        "ListKey",
    } <= operations


def test_apim_gateway_logs(run: SimulationSummary) -> None:
    records = _records(run, r"^azure/insights-logs-gatewaylogs/.*/PT1H\.json$")
    for record in records[:500]:
        props = record["properties"]
        assert record["category"] == "GatewayLogs"
        assert "User-Agent" in props["requestHeaders"]
        json.loads(props["requestBody"])
        json.loads(props["responseBody"])
    blocked = [
        json.loads(r["properties"]["responseBody"])
        for r in records
        if r["properties"]["responseCode"] == 400
    ]
    codes = {(b["error"]["code"], b["error"].get("innererror", {}).get("code")) for b in blocked}
    assert ("content_filter", "ResponsibleAIPolicyViolation") in codes
    jailbreaks = [
        b
        for b in blocked
        if b["error"]["innererror"]["content_filter_result"]["jailbreak"]["detected"]
    ]
    assert jailbreaks


def test_activity_log(run: SimulationSummary) -> None:
    records = _records(run, r"^azure/insights-activity-logs/resourceId=/SUBSCRIPTIONS/")
    ops = {r["operationName"] for r in records}
    assert {
        "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION",
        "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/RAIPOLICIES/WRITE",
        "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/DEPLOYMENTS/WRITE",
        "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
    } <= ops
    assert all(r["identity"]["claims"] and r["callerIpAddress"] for r in records)


def test_cloudtrail(run: SimulationSummary) -> None:
    s3 = _records(
        run,
        r"^aws/AWSLogs/\d{12}/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/"
        r"\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[0-9a-f]{16}\.json\.gz$",
    )
    siem = _records(run, r"^siem/cloudtrail_export_.*\.jsonl$")
    for record in s3 + siem:
        assert {"eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress"} <= set(
            record
        )
        identity = record["userIdentity"]
        bearer = record.get("additionalEventData", {}).get("callWithBearerToken") is True
        if bearer:  # a long-term Bedrock API key: the console's user, no access key
            assert identity["userName"].startswith("BedrockAPIKey-"), identity
        elif identity["type"] != "AWSService":
            assert AWS_KEY.match(identity["accessKeyId"]), identity
        if record["eventName"] == "InvokeModel":
            assert record["requestParameters"]["modelId"]
    names = {r["eventName"] for r in s3 + siem}
    assert {
        "InvokeModel",
        "InvokeModelWithResponseStream",
        "Converse",
        "ConverseStream",
        "ListFoundationModels",
        "GetModelInvocationLoggingConfiguration",
        "DeleteModelInvocationLoggingConfiguration",
        "PutUseCaseForModelAccess",
        "CreateFoundationModelAgreement",
        "PutFoundationModelEntitlement",
        "DeleteGuardrail",
        "CreateUser",
        "CreateAccessKey",
        "CreateLoginProfile",
        "AttachUserPolicy",
    } <= names
    errors = {r.get("errorCode") for r in s3 + siem}
    assert {"ValidationException", "AccessDeniedException"} <= errors
    created = [r["requestParameters"]["userName"] for r in s3 if r["eventName"] == "CreateUser"]
    assert any(re.fullmatch(r"[a-z]{6}\d{3}", name) for name in created)
    policies = {
        r["requestParameters"].get("policyArn") for r in s3 if r["eventName"] == "AttachUserPolicy"
    }
    assert any("AWSCompromisedKeyQuarantine" in str(p) for p in policies)
    assert "AWS Internal" in {r["sourceIPAddress"] for r in s3}


def test_bedrock_invocation_logs(run: SimulationSummary) -> None:
    records = _records(run, r"^aws/AWSLogs/\d{12}/BedrockModelInvocationLogs/.*\.json\.gz$")
    for record in records:
        assert record["schemaType"] == "ModelInvocationLog"
        assert record["identity"]["arn"].startswith("arn:aws:")
        assert record["input"]["inputTokenCount"] >= 0 <= record["output"]["outputTokenCount"]


def test_litellm_and_openai_audit(run: SimulationSummary) -> None:
    spend = _records(run, r"^litellm/spend_logs_.*\.jsonl$")
    for row in spend:
        assert re.fullmatch(r"[0-9a-f]{64}", row["api_key"])
        assert {
            "request_id",
            "requester_ip_address",
            "model",
            "prompt_tokens",
            "spend",
            "startTime",
            "endTime",
            "status",
        } <= set(row)
        assert "user_agent" in row["metadata"] and "user_api_key_alias" in row["metadata"]
    assert {"success", "failure"} <= {row["status"] for row in spend}
    audit = _records(run, r"^openai/audit_logs_.*\.jsonl$")
    assert {"login.succeeded"} <= {e["type"] for e in audit}
    assert all(e["actor"]["session"]["ip_address"] for e in audit)


def test_labels_cover_each_scenario(run: SimulationSummary) -> None:
    from stormwatch.simulate.playbooks import PLAYBOOKS

    assert set(PLAYBOOKS) == set(SCENARIOS)  # no playbook left out of the default run
    doc = json.loads(run.labels_file.read_text())
    assert [p["scenario"] for p in doc["playbooks"]] == list(SCENARIOS)
    for playbook in doc["playbooks"]:
        assert playbook["files"], playbook["scenario"]
        assert playbook["entities"]["ips"] or playbook["entities"]["credential_ids"]
        assert doc["window"]["start"] <= playbook["window"]["start"] <= doc["window"]["end"]
        for rel in playbook["files"]:
            assert (run.out_dir / rel).exists()
    assert doc["canary_keys"] == list(run.canary_keys) and len(run.canary_keys) == 1


def test_canary_and_exposed_credentials_appear_in_logs(run: SimulationSummary) -> None:
    text = "".join(
        gzip.decompress(p.read_bytes()).decode() if p.suffix == ".gz" else p.read_text()
        for p in run.files
        if "aws/" in p.as_posix() or "siem/" in p.as_posix() or "litellm/" in p.as_posix()
    )
    for credential in (*run.canary_keys, *run.exposed_credentials):
        assert credential in text
    exposed = next(label for label in run.attacks if label.scenario == "exposed-key-use")
    secret = exposed.details["exposed_gateway_key"]
    assert (
        hashlib.sha256(secret.encode()).hexdigest() == exposed.details["exposed_gateway_key_hash"]
    )
    assert AWS_KEY.match(exposed.details["exposed_aws_key_id"])


def test_benign_anomalies_present(run: SimulationSummary) -> None:
    names = {label.scenario for label in run.benign_anomalies}
    assert names == {
        "benign:new-office-ip",
        "benign:ci-load-test",
        "benign:key-rotation",
        "benign:admin-reads-logging-config",
        "benign:new-model-rollout",
    }
    for label in run.benign_anomalies:
        assert label.files, label.scenario


def test_deterministic_by_seed(run: SimulationSummary, tmp_path: Path) -> None:
    again = simulate(tmp_path / "again", **SMALL)  # type: ignore[arg-type]
    first = {p.relative_to(run.out_dir): p.read_bytes() for p in run.files}
    second = {p.relative_to(again.out_dir): p.read_bytes() for p in again.files}
    assert first == second
    other = simulate(tmp_path / "other", days=1, scale=0.05, seed=8, scenarios=["canary-use"])
    assert other.canary_keys != run.canary_keys


def test_parallel_days_match_sequential(tmp_path: Path) -> None:
    one = simulate(tmp_path / "one", days=2, scale=0.05, scenarios=["wallet-abuse"], workers=1)
    two = simulate(tmp_path / "two", days=2, scale=0.05, scenarios=["wallet-abuse"], workers=2)
    assert [p.read_bytes() for p in one.files] == [p.read_bytes() for p in two.files]


def test_subset_of_scenarios_and_formats(tmp_path: Path) -> None:
    summary = simulate(
        tmp_path, days=1, scale=0.05, scenarios=["canary-use"], formats=["cloudtrail", "litellm"]
    )
    assert [label.scenario for label in summary.attacks] == ["canary-use"]
    assert set(summary.counts) == {"cloudtrail", "litellm"}
    assert not (tmp_path / "azure").exists()


def test_unknown_scenario_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UnknownScenarioError, match="no-such-thing"):
        simulate(tmp_path, scenarios=["no-such-thing"], days=1)


def test_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "simulate",
            "--out",
            str(tmp_path / "o"),
            "--days",
            "1",
            "--scale",
            "0.05",
            "--scenario",
            "canary-use",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "canary key: AKIA" in result.output
    assert (tmp_path / "o" / "labels.json").exists()
    bad = runner.invoke(app, ["simulate", "--out", str(tmp_path / "b"), "--scenario", "nope"])
    assert bad.exit_code == 2
    assert "unknown scenario nope" in bad.output
