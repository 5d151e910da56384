"""Independent red-team check of the AWS rules, written without ``stormwatch.simulate``.

Kestrel Atlas (fictional) runs Bedrock in production (ap-southeast-2, Sydney office hours, Java,
Terraform, CI sessions, an EC2 service, a console admin, a Bedrock API key) and a data account
(eu-north-1, a nightly batch, a Go service). Days 0-8 are history; then attacks from write-ups:
Sysdig TRT (https://sysdig.com/blog/llmjacking-stolen-cloud-credentials-used-in-new-ai-attack/,
https://sysdig.com/blog/growing-dangers-of-llmjacking/: ``max_tokens_to_sample: -1`` checks,
logging reads, model enablement, proxies), Permiso (https://permiso.io/blog/exploiting-hosted-models:
GetCallerIdentity first, IAM persistence), Entro (probes within minutes, via
https://nhimg.org/articles/llmjacking-turns-exposed-nhi-secrets-into-rapid-ai-abuse/), AWS's
Bedrock playbook (https://github.com/aws-samples/aws-customer-playbook-framework/blob/main/docs/Bedrock_Response.md),
key quarantine (https://sysdig.com/blog/aws-launches-improvements-for-key-quarantine-policy/),
GuardDuty's InstanceCredentialExfiltration.OutsideAWS, Stratus Red Team's enablement calls and
BeyondTrust on Bedrock API keys (https://www.beyondtrust.com/blog/entry/aws-bedrock-security-api-keys).
"""

from __future__ import annotations

import gzip
import json
import random
import string
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pytest

from stormwatch.detect import Alert, load_rules, run_detection
from stormwatch.detect.rule import SEVERITY_RANK
from stormwatch.events import EventStore, ingest_files

Record = dict[str, Any]
D0 = datetime(2025, 6, 2, tzinfo=UTC)  # a Monday
DAYS = 12
PROD, DATA = "318406927513", "604219853372"
HOME = {PROD: "ap-southeast-2", DATA: "eu-north-1"}
HAIKU, NOVA = "anthropic.claude-3-haiku-20240307-v1:0", "amazon.nova-lite-v1:0"
SONNET, OPUS = "anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-opus-20240229-v1:0"
JAVA = "aws-sdk-java/2.25.60 Linux/5.10.219 OpenJDK_64-Bit_Server_VM/17.0.11 Java/17.0.11"
TERRAFORM = "APN/1.0 HashiCorp/1.0 Terraform/1.8.5 terraform-provider-aws/5.54.1 aws-sdk-go-v2"
CLI = "aws-cli/2.15.58 md/awscrt#0.19.19 ua/2.0 os/{} lang/python#3.11.8 command/{}"
CONSOLE = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/125.0.0.0"
GO = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux api/bedrockruntime#1.16.2"
FARGATE = "Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#5.10 exec-env/AWS_ECS_FARGATE"
EC2 = "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#6.1.94 exec-env/EC2 lang/python#3.11"
LAPTOP = "Boto3/1.38.36 md/Botocore#1.38.36 ua/2.1 os/macos#23.5.0 lang/python#3.11.9"
CHECKER = "Boto3/1.29.7 md/Botocore#1.32.7 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.12.0"
VPS_BOTO = "Boto3/1.35.10 md/Botocore#1.35.10 ua/2.0 os/linux#6.8.0-45-generic lang/python#3.12.3"
PROXY_JS = "aws-sdk-js/3.621.0 ua/2.1 os/linux#5.15.0 lang/js md/nodejs#18.20.4 api/bedrock"
OFFICE, HOME_DEV, HOME_ANALYST = "110.175.63.21", "94.254.57.130", "101.181.88.54"
TILE_NAT, RENDER_IP, GEO_NAT = "13.239.147.20", "13.239.200.15", "16.170.12.9"
BATCH_NAT, NEW_RUNNERS = "16.170.44.61", "54.153.201.37"
VALIDATION = ("ValidationException", "max_tokens_to_sample: range: 1..1,000,000")
NO_ACCESS = "You don't have access to the model with the specified model ID."
DENIED = ("AccessDeniedException", NO_ACCESS)
QUARANTINED = ("AccessDenied", "explicit deny in an identity-based policy")
QUARANTINE = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
AWS_INTERNAL: Record = {"service": "iam", "agent": "AWS Internal"}  # AWS quarantining a key
AWS_INTERNAL["identity"] = {"type": "AWSService", "invokedBy": "AWS Internal"}
LOGGING = "GetModelInvocationLoggingConfiguration"
ENABLEMENT = str.split(  # Stratus Red Team's order
    "ListFoundationModels GetFoundationModelAvailability ListFoundationModelAgreementOffers "
    "PutUseCaseForModelAccess GetUseCaseForModelAccess CreateFoundationModelAgreement "
    "PutFoundationModelEntitlement"
)
READS = ("Get", "List", "Describe", "Invoke", "Converse")


def at(day: float, hour: float = 0, minute: float = 0) -> datetime:
    return D0 + timedelta(days=day, hours=hour, minutes=minute)


@dataclass(frozen=True)
class Caller:
    """Who signs a call: an IAM user's key, a role session, or a Bedrock API key (bearer)."""

    account: str
    arn: str
    key: str
    agent: str
    bearer: bool = False

    def identity(self) -> Record:
        base = {"principalId": "AIDA" + self.key[4:], "arn": self.arn, "accountId": self.account}
        base["accessKeyId"] = self.key
        if ":assumed-role/" not in self.arn:
            return {"type": "IAMUser", **base, "userName": self.arn.rsplit("/", 1)[1]}
        role = self.arn.split("/")[1]
        issuer = {"type": "Role", "arn": f"arn:aws:iam::{self.account}:role/{role}"}
        return {"type": "AssumedRole", **base, "sessionContext": {"sessionIssuer": issuer}}


@dataclass
class Logs:
    """The organisation's CloudTrail records and Bedrock invocation-log records."""

    rng: random.Random
    trail: list[Record] = field(default_factory=list)
    invocations: list[tuple[datetime, Record]] = field(default_factory=list)
    logging_off: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def key(self, prefix: str) -> str:
        """An access key id of AWS's form (prefix + 16 base32), made at run time."""
        return prefix + "".join(self.rng.choices(string.ascii_uppercase + "234567", k=16))

    def user(self, account: str, name: str, agent: str) -> Caller:
        return Caller(account, f"arn:aws:iam::{account}:user/{name}", self.key("AKIA"), agent)

    def session(self, account: str, role: str, name: str, agent: str) -> Caller:
        arn = f"arn:aws:sts::{account}:assumed-role/{role}/{name}"
        return Caller(account, arn, self.key("ASIA"), agent)

    def call(self, who: Caller, when: datetime, op: str, ip: str, **kw: Any) -> Record:
        """One CloudTrail record; ``kw``: region, service, params, error, agent, identity."""
        service = kw.get("service", "bedrock")
        region = kw.get("region") or ("us-east-1" if service in ("iam", "sts") else None)
        region = region or HOME[who.account]
        ids = [str(uuid.UUID(int=self.rng.getrandbits(128))) for _ in "ab"]
        record: Record = {
            "eventVersion": "1.09",
            "userIdentity": kw.get("identity") or who.identity(),
        }
        record |= {"eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventName": op}
        record |= {"eventSource": f"{service}.amazonaws.com", "awsRegion": region}
        record |= {"sourceIPAddress": ip, "userAgent": kw.get("agent") or who.agent}
        record |= {"requestParameters": kw.get("params"), "responseElements": None}
        record |= {"requestID": ids[0], "eventID": ids[1], "eventType": "AwsApiCall"}
        record |= {"readOnly": op.startswith(READS), "recipientAccountId": who.account}
        if kw.get("error"):
            record["errorCode"], record["errorMessage"] = kw["error"]
        if who.bearer:
            record["additionalEventData"] = {"callWithBearerToken": True}
        if op == "DeleteModelInvocationLoggingConfiguration":
            self.logging_off[(who.account, region)] = when
        self.trail.append(record)
        return record

    def sts(self, who: Caller, when: datetime, ip: str, agent: str | None = None) -> None:
        self.call(who, when, "GetCallerIdentity", ip, service="sts", agent=agent)

    def invoke(self, who: Caller, when: datetime, ip: str, model: str, **kw: Any) -> None:
        """A runtime call; in the account's home region also its invocation-log record."""
        op = kw.pop("op", "InvokeModel")
        record = self.call(who, when, op, ip, params={"modelId": model}, **kw)
        tokens_in, tokens_out = self.rng.randint(300, 2500), self.rng.randint(20, 900)
        if op.startswith("Converse") and not kw.get("error"):
            extra = record.setdefault("additionalEventData", {})
            extra |= {"inputTokens": tokens_in, "outputTokens": tokens_out}
        if kw.get("error") or record["awsRegion"] != HOME[who.account]:
            return
        log = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "operation": op}
        log |= {"timestamp": record["eventTime"], "accountId": who.account, "modelId": model}
        log |= {"region": HOME[who.account], "identity": {"arn": who.arn}}
        log |= {"requestId": record["requestID"], "input": {"inputTokenCount": tokens_in}}
        self.invocations.append((when, log | {"output": {"outputTokenCount": tokens_out}}))

    def write(self, root: Path) -> None:
        """CloudTrail objects where S3 holds them (one per account, region and day here);
        invocation logs as JSON Lines, only where and while logging was on."""
        files: dict[Path, list[Any]] = defaultdict(list)
        for r in self.trail:
            acct, region, day = r["recipientAccountId"], r["awsRegion"], r["eventTime"][:10]
            folder = root / "AWSLogs" / acct / "CloudTrail" / region / day.replace("-", "/")
            name = f"{acct}_CloudTrail_{region}_{day.replace('-', '')}T0000Z_k3st.json.gz"
            files[folder / name].append(r)
        for when, r in self.invocations:
            off = self.logging_off.get((r["accountId"], r["region"]))
            folder = root / "AWSLogs" / r["accountId"] / "BedrockModelInvocationLogs" / r["region"]
            if off is None or when < off:
                files[folder / when.strftime("%Y/%m/%d/%H") / "invocations.jsonl.gz"].append(r)
        for path, records in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            text = "\n".join(json.dumps(r) for r in records)  # invocation logs: JSON Lines
            text = json.dumps({"Records": records}) if "CloudTrail" in path.parts else text
            path.write_bytes(gzip.compress(text.encode()))


class Case(NamedTuple):
    """A playbook (or benign anomaly): the credentials and networks it is about, and when."""

    entities: frozenset[str]
    start: datetime
    end: datetime


World = tuple[tuple[Alert, ...], dict[str, Case]]


def case(entities: set[str], start: datetime, minutes: float) -> Case:
    return Case(frozenset(entities), start, start + timedelta(minutes=minutes))


USERS = {  # IAM users with long-term keys: account, client
    "svc-tilegen": (PROD, JAVA),
    "ops-marlow": (PROD, TERRAFORM),
    "analyst-noor": (PROD, LAPTOP),
    "BedrockAPIKey-r7tw": (PROD, CLI.format("macos#23.4.0", "bedrock.list-foundation-models")),
    "svc-atlas-batch": (DATA, FARGATE),
    "svc-geocoder": (DATA, GO),
    "dev-kestrel": (DATA, CLI.format("macos#23.4.0", "bedrock-runtime.invoke-model")),
}


def organisation(logs: Logs) -> dict[str, Caller]:
    """The users, the prototype's Bedrock API key (its calls name the key's IAM user) and the
    EC2 service's instance-role sessions, one every six hours."""
    who = {name: logs.user(acct, name, agent) for name, (acct, agent) in USERS.items()}
    api_user = who["BedrockAPIKey-r7tw"]
    who["prototype"] = Caller(PROD, api_user.arn, "ACCA" + logs.key("")[:17], LAPTOP, bearer=True)
    instance = ("chart-render-ec2", "i-0c7f3a9e51b2d4680", EC2)
    return who | {
        f"render-{n // 4}-{n % 4}": logs.session(PROD, *instance) for n in range(4 * DAYS)
    }


def history(logs: Logs, who: dict[str, Caller]) -> dict[str, Case]:
    """Twelve days of the organisation's habits, and the benign anomalies of days 9-11."""
    rng = logs.rng
    for d in range(DAYS):
        for m in range(0, 1440, 30):  # the chart renderer, around the clock
            render = who[f"render-{d}-{m // 360}"]
            logs.invoke(render, at(d, 0, m + rng.randint(0, 9)), RENDER_IP, HAIKU)
        for m in range(0, 600, 12 if at(d).weekday() < 5 else 60):  # Sydney office hours
            logs.invoke(who["svc-tilegen"], at(d, -2, m + rng.randint(0, 5)), TILE_NAT, HAIKU)
        start = at(d, 1, 30)  # the nightly batch lists models, then summarises; backfill on day 10
        logs.call(who["svc-atlas-batch"], start, "ListFoundationModels", BATCH_NAT)
        for i in range(240 if d == 10 else 40):
            when = start + timedelta(seconds=20 * i + 5)
            logs.invoke(who["svc-atlas-batch"], when, BATCH_NAT, NOVA, op="Converse")
        if at(d).weekday() >= 5:
            continue
        for m in range(0, 540, 20):  # the geocoder, Stockholm hours
            logs.invoke(who["svc-geocoder"], at(d, 7, m), GEO_NAT, "amazon.titan-embed-text-v2:0")
        for h in rng.sample(range(7, 16), 2):
            logs.invoke(who["dev-kestrel"], at(d, h, rng.randint(0, 59)), HOME_DEV, HAIKU)
        for h in rng.sample(range(-1, 7), 4):
            when = at(d, h, rng.randint(0, 59))  # locked out once AWS quarantines her key
            logs.sts(who["analyst-noor"], when, HOME_ANALYST)  # the notebook shows its identity
            error = QUARANTINED if when > at(10, 4, 41) else None
            logs.invoke(who["analyst-noor"], when, HOME_ANALYST, SONNET, error=error)
            logs.invoke(who["prototype"], at(d, h, rng.randint(0, 59)), OFFICE, NOVA, op="Converse")
        for h in rng.sample(range(-1, 7), 1 + d % 2):
            terraform_plan(logs, who["ops-marlow"], at(d, h, rng.randint(0, 50)))
        for h in rng.sample(range(-2, 8), 3):
            ci_job(logs, at(d, h, rng.randint(0, 50)), NEW_RUNNERS if d >= 9 else None)
    console = ["GetFoundationModelAvailability", "ListFoundationModels", "ListCustomModels"]
    for d in (1, 4, 7, 9):  # the platform admin in the Bedrock console (SSO session)
        priya = logs.session(PROD, "AWSReservedSSO_PlatformAdmin_3f9c", "priya.raman", CONSOLE)
        for i, op in enumerate(console + [LOGGING] * (d == 9)):
            logs.call(priya, at(d, -1, 10 + i), op, OFFICE)
    logs.call(who["BedrockAPIKey-r7tw"], at(2, 1), "ListFoundationModels", OFFICE)
    marlow, check = who["ops-marlow"], CLI.format("linux#6.8.0", "bedrock.get-model-invocation-lo")
    logs.call(marlow, at(9, 0, 45), LOGGING, OFFICE, agent=check)
    for i in range(6):  # a busy Terraform morning: six plans in two hours
        terraform_plan(logs, marlow, at(10, 0, 20 * i))
    legacy = {"userName": "svc-tilegen-legacy", "policyArn": QUARANTINE}  # an old CI user's key
    logs.call(marlow, at(11), "AttachUserPolicy", "AWS Internal", params=legacy, **AWS_INTERNAL)
    return {
        "admin-console-logging-check": case({priya.key, priya.arn}, at(9, -1, 10), 10),
        "admin-cli-logging-check": case({marlow.key}, at(9, 0, 40), 10),
        "terraform-busy-morning": case({marlow.key}, at(10), 120),
        "ci-new-runner-network": case({NEW_RUNNERS}, at(9, -2), 3 * 1440),
        "nightly-batch-and-backfill": case({who["svc-atlas-batch"].key, BATCH_NAT}, at(9), 4320),
        "quarantine-of-similar-name": case({who["svc-tilegen"].key}, at(11, 0, 1), 480),
    }


def terraform_plan(logs: Logs, marlow: Caller, when: datetime) -> None:
    """A plan refreshes the logging configuration the admin manages in Terraform."""
    logs.sts(marlow, when, OFFICE)
    logs.call(marlow, when + timedelta(seconds=4), LOGGING, OFFICE)


def ci_job(logs: Logs, when: datetime, ip: str | None) -> None:
    """The CI role's smoke test of the prompt templates: a fresh session per job, on a
    GitHub-hosted runner (a new address each time) or, from day 9, the new runner network."""
    rng, run = logs.rng, f"GitHubActions-{logs.rng.randint(10**9, 10**10)}"
    ip = ip or ".".join(str(n) for n in (rng.choice((20, 4, 52)), *rng.sample(range(1, 255), 3)))
    agent = CLI.format("linux#6.5.0-1021-azure", "bedrock-runtime.invoke-model")
    ci = logs.session(PROD, "gh-deployer", run, agent)
    logs.sts(ci, when, ip)
    logs.call(ci, when + timedelta(seconds=20), "ListFoundationModels", ip)
    for i in range(3):
        logs.invoke(ci, when + timedelta(seconds=30 + 5 * i), ip, HAIKU)


def attacks(logs: Logs, who: dict[str, Caller]) -> dict[str, Case]:
    """The write-ups' playbooks, each after day 8."""
    tilegen, kestrel, marlow = who["svc-tilegen"], who["dev-kestrel"], who["ops-marlow"]
    # A reverse proxy on svc-tilegen's leaked key: checked, then sold; runs all night through a
    # pool of exits, in regions the company never uses (Sysdig 2024, Permiso).
    pool = ("45.88.97.14", "185.246.188.73", "91.193.4.160")
    logs.sts(tilegen, at(9, 14), pool[0], CHECKER)
    for i in range(540):
        region, model = ("us-east-1", "us-west-2")[i % 2], (OPUS, SONNET)[i % 3 == 0]
        kw = {"op": "InvokeModelWithResponseStream", "region": region, "agent": "axios/1.7.2"}
        logs.invoke(tilegen, at(9, 14, 2 * i + 1), pool[i % 3], model, **kw)
    # Checkers on dev-kestrel's key after the leak: the logging configuration, then invalid
    # requests; hours later a second tool sweeps every region (Sysdig, May 2024).
    checker, t = "194.165.16.77", at(9, 9, 10)
    logs.sts(kestrel, t, checker, CHECKER)
    for i, region in enumerate(("us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1")):
        when, kw = t + timedelta(seconds=20 + 30 * i), {"region": region, "agent": CHECKER}
        logs.call(kestrel, when, LOGGING, checker, **kw)
        logs.invoke(kestrel, when, checker, "anthropic.claude-v2", error=VALIDATION, **kw)
        logs.invoke(kestrel, when, checker, OPUS, error=DENIED, **kw)
    # The first check, minutes after the push: one region, one request per model.
    first, t2 = "5.188.62.140", at(9, 0, 30)
    logs.sts(kestrel, t2, first, CHECKER)
    logs.call(kestrel, t2, LOGGING, first, region="us-east-1", agent=CHECKER)
    for model, error in (("anthropic.claude-v2", VALIDATION), (OPUS, DENIED)):
        logs.invoke(kestrel, t2, first, model, region="us-east-1", agent=CHECKER, error=error)
    # A proxy operator with the admin's key: logging re-checked every quarter hour, deleted,
    # then heavy use in the home region (Sysdig).
    proxy = "5.253.204.130"
    for i in range(16):
        logs.call(marlow, at(11, 9, 15 * i), LOGGING, proxy, agent=PROXY_JS)
    delete = "DeleteModelInvocationLoggingConfiguration"
    logs.call(marlow, at(11, 9, 40), delete, proxy, agent=PROXY_JS)
    for i in range(65):
        logs.invoke(marlow, at(11, 9, 45 + 3 * i), proxy, SONNET, op="Converse", agent=PROXY_JS)
    return {
        "stolen-key-new-networks": case({tilegen.key, *pool}, at(9, 14), 18 * 60),
        "validation-probe-regions": case({kestrel.key, checker}, t, 4),
        "single-region-key-check": case({kestrel.key, first}, t2, 1),
        "logging-recon-then-disabled": case({marlow.key, proxy}, at(11, 9), 240),
        **enablement_and_persistence(logs, who["svc-geocoder"]),
        **after_quarantine(logs, who["analyst-noor"]),
        **api_key_outside_bedrock(logs, who["prototype"], who["BedrockAPIKey-r7tw"]),
        **instance_session_outside(logs, who["render-10-2"]),
    }


def enablement_and_persistence(logs: Logs, geocoder: Caller) -> dict[str, Case]:
    """Model access enabled with svc-geocoder's key, then used (Sysdig Sep 2024, Stratus); a
    day later, from another exit, IAM users with random names (Permiso)."""
    vpn, script = "146.70.171.99", "python-requests/2.31.0"
    use_case = {"formData": "eyJjb21wYW55TmFtZSI6Ik1hcGxlIn0="}
    for i, op in enumerate(ENABLEMENT):
        params = (
            {} if op in ("ListFoundationModels", "GetUseCaseForModelAccess") else {"modelId": OPUS}
        )
        params = use_case if op == "PutUseCaseForModelAccess" else params
        params |= {"offerToken": "offer-7c1e"} if op == "CreateFoundationModelAgreement" else {}
        logs.call(geocoder, at(9, 19, i), op, vpn, region="us-east-1", params=params, agent=script)
    for i in range(20):
        logs.invoke(geocoder, at(9, 19, 10 + 2 * i), vpn, OPUS, region="us-east-1", agent=CHECKER)
    exit_ip, t, cli = "103.136.43.201", at(10, 21), CLI.format("windows#10", "iam.create-user")
    logs.sts(geocoder, t, exit_ip, cli)
    logs.call(geocoder, t + timedelta(seconds=30), "ListUsers", exit_ip, service="iam", agent=cli)
    rng, lower = logs.rng, string.ascii_lowercase + string.digits
    names = ["".join(rng.choices(lower, k=8)), "".join(rng.choices(string.ascii_letters, k=12))]
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    footholds = []
    for i, name in enumerate(names):
        ops = ["CreateUser", "CreateLoginProfile", "AttachUserPolicy", "CreateAccessKey"]
        for j, op in enumerate(ops):
            params = {"userName": name} | ({"policyArn": admin} if op == "AttachUserPolicy" else {})
            when = t + timedelta(minutes=2 + i, seconds=5 * j)
            logs.call(geocoder, when, op, exit_ip, service="iam", params=params, agent=cli)
        footholds.append(logs.user(DATA, name, CHECKER))
        logs.sts(footholds[-1], t + timedelta(minutes=6 + i), exit_ip)
        for k in range(5):
            when = t + timedelta(minutes=7 + i, seconds=20 * k)
            logs.invoke(footholds[-1], when, exit_ip, OPUS, region="us-east-1")
    attackers = {geocoder.key, exit_ip, *(f.key for f in footholds)}
    return {
        "model-access-enablement": case({geocoder.key, vpn}, at(9, 19), 50),
        "iam-persistence-random-names": case(attackers, t, 10),
    }


def after_quarantine(logs: Logs, noor: Caller) -> dict[str, Case]:
    """analyst-noor's key is pushed to GitHub; AWS quarantines it nine minutes after the first
    probe, and the attacker keeps trying (AWS quarantine policy; Entro's timings)."""
    scanner, leak, kw = "193.32.162.88", at(10, 4, 32), {"region": "us-east-1", "agent": CHECKER}
    logs.sts(noor, leak, scanner, CHECKER)
    logs.call(noor, leak + timedelta(minutes=1), "ListFoundationModels", scanner, **kw)
    logs.invoke(noor, leak + timedelta(minutes=2), scanner, SONNET, **kw)
    quarantine = {"userName": "analyst-noor", "policyArn": QUARANTINE}
    logs.call(
        noor, at(10, 4, 41), "AttachUserPolicy", "AWS Internal", params=quarantine, **AWS_INTERNAL
    )
    for i in range(8):
        logs.invoke(noor, at(10, 4, 45 + 10 * i), scanner, SONNET, error=QUARANTINED, **kw)
        logs.call(noor, at(10, 4, 46 + 10 * i), "ListFoundationModels", scanner, **kw)
    iam = {"service": "iam", "params": {"userName": "backup-admin"}, "agent": CHECKER}
    logs.call(noor, at(10, 5, 50), "CreateUser", scanner, error=QUARANTINED, **iam)
    return {"activity-after-quarantine": case({noor.key, scanner}, at(10, 4, 42), 78)}


def api_key_outside_bedrock(logs: Logs, bearer: Caller, api_user: Caller) -> dict[str, Case]:
    """The prototype's long-term Bedrock API key leaks with an access key of its BedrockAPIKey
    user: bearer calls in a foreign region, then that user's IAM, EC2 and KMS reconnaissance."""
    ip = "38.180.62.17"
    for i in range(60):
        kw = {"op": "Converse", "region": "us-east-1", "agent": "python-httpx/0.27.0"}
        logs.invoke(bearer, at(11, 2, 4 * i), ip, SONNET, **kw)
    recon = "sts:GetCallerIdentity iam:ListRoles iam:ListAttachedUserPolicies ec2:DescribeVpcs"
    for i, item in enumerate(f"{recon} kms:ListKeys s3:ListBuckets".split()):
        service, op = item.split(":")
        kw = {"service": service, "region": "us-east-1", "agent": CHECKER}
        logs.call(api_user, at(11, 2, 30 + i), op, ip, **kw)
    bearer_id = f"bedrock-api-key:{bearer.arn}"
    return {"bedrock-api-key-outside-bedrock": case({bearer_id, api_user.key, ip}, at(11, 2), 240)}


def instance_session_outside(logs: Logs, session: Caller) -> dict[str, Case]:
    """The renderer's instance-role credentials taken through an SSRF to the metadata service
    and used from a VPS in the account's own region while the instance keeps using them."""
    vps = "139.59.220.71"
    logs.sts(session, at(10, 13, 5), vps, VPS_BOTO)
    for i in range(45):
        logs.invoke(session, at(10, 13, 6 + 2 * i), vps, SONNET, op="Converse", agent=VPS_BOTO)
    return {"instance-credentials-outside-aws": case({session.key, vps}, at(10, 13, 5), 100)}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The alerts of all rules over the organisation's logs, and every playbook and anomaly."""
    root = tmp_path_factory.mktemp("kestrel-atlas")
    logs = Logs(random.Random(20250602))
    who = organisation(logs)
    cases = history(logs, who) | attacks(logs, who)
    logs.write(root / "logs")
    with EventStore.open(root / "store.duckdb") as store:
        assert ingest_files([root / "logs"], store).rejected == 0
    return run_detection(duckdb.connect(str(root / "store.duckdb")), load_rules()), cases


def touching(alerts: tuple[Alert, ...], case: Case) -> list[Alert]:
    """Alerts naming one of the case's entities whose span overlaps the case's."""
    wanted = {e.lower() for e in case.entities}
    start, end = case.start.replace(tzinfo=None), case.end.replace(tzinfo=None)
    named = [a for a in alerts if wanted & {v.lower() for vs in a.entities.values() for v in vs}]
    return [a for a in named if a.last_seen >= start and a.first_seen <= end]


# the rule written for each playbook's own signal (others may fire too)
SIGNATURES = {
    "validation-probe-regions": "bedrock-validation-probe-spread",
    "logging-recon-then-disabled": "ai-invocation-logging-disabled",
    "model-access-enablement": "bedrock-model-access-enablement-long-term-key",
    "iam-persistence-random-names": "iam-persistence-after-ai-activity",
    "activity-after-quarantine": "activity-after-key-quarantine",
    "bedrock-api-key-outside-bedrock": "bedrock-api-key-user-outside-bedrock",
    "instance-credentials-outside-aws": "instance-session-new-network",
    "single-region-key-check": "bedrock-key-check-new-network",
}
ATTACKS = str.split(
    "stolen-key-new-networks validation-probe-regions logging-recon-then-disabled "
    "model-access-enablement iam-persistence-random-names activity-after-quarantine "
    "bedrock-api-key-outside-bedrock instance-credentials-outside-aws single-region-key-check"
)
BENIGN = str.split(
    "admin-console-logging-check admin-cli-logging-check terraform-busy-morning "
    "ci-new-runner-network nightly-batch-and-backfill quarantine-of-similar-name"
)


def severities(alerts: list[Alert], at_least: str) -> list[str]:
    """``rule:severity`` of the alerts at or above ``at_least``."""
    rank = SEVERITY_RANK[at_least]
    return sorted(
        {f"{a.rule_id}:{a.severity}" for a in alerts if SEVERITY_RANK[a.severity] >= rank}
    )


@pytest.mark.parametrize("name", ATTACKS)
def test_playbook_raises_medium_or_higher(world: World, name: str) -> None:
    alerts, cases = world
    assert severities(touching(alerts, cases[name]), "medium")


@pytest.mark.parametrize("name", BENIGN)
def test_benign_anomaly_stays_below_high(world: World, name: str) -> None:
    alerts, cases = world
    assert severities(touching(alerts, cases[name]), "high") == []


@pytest.mark.parametrize(("name", "rule"), SIGNATURES.items())
def test_playbook_signature_rule_fires(world: World, name: str, rule: str) -> None:
    alerts, cases = world
    assert rule in {a.rule_id for a in touching(alerts, cases[name])}
