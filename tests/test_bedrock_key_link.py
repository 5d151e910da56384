"""A leaked long-term Bedrock API key, found by `scan`, is linked to its use in CloudTrail by
`detect`: the key names its IAM user, and CloudTrail names bearer-token calls by that user."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from stormwatch.cli.app import app
from stormwatch.secrets.ruleset import expand_template

ACCOUNT = "111122223333"
LONG_TERM = f"ABSK{{{{b64of:BedrockAPIKey-[[lower:4]]-at-{ACCOUNT}:[[b64:59]]=}}}}"


def _bearer_call(user: str, at: datetime, ip: str) -> dict[str, object]:
    return {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
            "accountId": ACCOUNT,
            "userName": user,
        },
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "bedrock.amazonaws.com",
        "eventName": "InvokeModel",
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": "python-requests/2.32.3",
        "requestParameters": {"modelId": "anthropic.claude-3-haiku-20240307-v1:0"},
        "additionalEventData": {"callWithBearerToken": True},
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }


def test_scan_ingest_detect_links_a_leaked_bedrock_key_to_its_use(tmp_path: Path) -> None:
    key = expand_template(LONG_TERM, random.Random(7))
    user = base64.b64decode(key[4:]).split(b"-at-")[0].decode()
    code = tmp_path / "repo"
    code.mkdir()
    (code / "settings.py").write_text(f'AWS_BEARER_TOKEN_BEDROCK = "{key}"\n')
    db = str(tmp_path / "s.duckdb")
    runner = CliRunner()
    scanned = runner.invoke(app, ["scan", str(code), "--db", db, "--format", "json"])
    assert scanned.exit_code == 1, scanned.output  # a finding
    later = datetime.now(UTC) + timedelta(hours=1)
    logs = tmp_path / "trail.jsonl"
    calls = [_bearer_call(user, later + timedelta(minutes=i), "203.0.113.77") for i in range(3)]
    logs.write_text("".join(json.dumps(call) + "\n" for call in calls))
    ingested = runner.invoke(app, ["ingest", str(logs), "--db", db, "-q"])
    assert ingested.exit_code == 0, ingested.output
    alerts_file = tmp_path / "alerts.json"
    detect = ["detect", "--db", db, "--format", "json", "-o", str(alerts_file)]
    detected = runner.invoke(app, detect)
    assert detected.exit_code == 1, detected.output
    alerts = {a["rule_id"]: a for a in json.loads(alerts_file.read_text())}
    linked = alerts["exposed-credential-used"]
    assert linked["severity"] == "critical" and linked["event_count"] == 3
    assert linked["entities"]["credential_id"] == [
        f"bedrock-api-key:arn:aws:iam::{ACCOUNT}:user/{user}"
    ]
    assert key not in alerts_file.read_text()  # the secret itself is never written
