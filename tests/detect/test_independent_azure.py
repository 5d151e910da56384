"""Independent red-team check of the Azure, API Management, LiteLLM and OpenAI detections.

Written without stormwatch.simulate: raw logs in the shapes the providers document, for a
fictional freight company ("Kestrel Harbour", Auckland: its working day is 20:00-05:00 UTC) with
14 days of history, attack playbooks from day 9 and benign anomalies that must stay below high.
Sources: Microsoft's Azure OpenAI monitoring and resource-log schema pages, Elastic's captured
azure_openai records, the APIM Azure Monitor page, the content-filter and DALL-E pages (DALL-E 3
blocks as seen in BerriAI/litellm#16072), the Activity Log schema, Microsoft DCU's Storm-2139
filings (as summarised by the press), Defender for Cloud "Alerts for AI", the Stainless SDKs'
user agents, LiteLLM's proxy-only error logging and OpenAI's audit-log reference.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from stormwatch.detect import Alert, load_rules, run_detection
from stormwatch.detect.rule import SEVERITY_RANK
from stormwatch.events import EventStore, ingest_files

T0 = datetime(2025, 3, 3)
DAYS = 14
WORK_HOURS = (20, 21, 22, 23, 0, 1, 2, 3, 4)
RNG = random.Random(2139)
SUB = str(uuid.UUID(int=RNG.getrandbits(128), version=4))
ARM = f"/subscriptions/{SUB}/resourceGroups/rg-kh-ai/providers"
APIM = f"{ARM}/Microsoft.ApiManagement/service/kh-apim"
ROTATOR, CI_SP, DEV, *SCIENTISTS = (str(uuid.UUID(int=RNG.getrandbits(128))) for _ in range(6))
OFFICE, NEW_OFFICE = "198.51.100", "192.0.2"
CARRIERS = ("49.224.1", "49.224.7", "115.189.80", "115.189.92")
PROXY = ("45.137.21.9", "91.92.243.18")  # the reverse proxy's egress
RESALE = "172.245.80.14"  # the de3u front end's egress
SAFE = {"filtered": False, "severity": "safe"}
LISTKEYS = "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION"

# fmt: off
AREA = {"kh-docs-ae": "australiaeast", "kh-claims-se": "swedencentral",
        "kh-research-eus": "eastus", "kh-ops-ae": "australiaeast"}
AOAI = {name: f"{ARM}/Microsoft.CognitiveServices/accounts/{name}" for name in AREA}
dumps = functools.partial(json.dumps, separators=(",", ":"))


def at(day: float, hour: float = 0, minute: float = 0) -> datetime:
    return T0 + timedelta(days=day, hours=hour, minutes=minute)


def working(per_hour: int, days: range = range(DAYS)) -> Iterator[datetime]:
    for day in days:
        for hour in WORK_HOURS:
            yield from (at(day, hour, RNG.uniform(0, 59.9)) for _ in range(per_hour))


def token(n: int = 24) -> str:
    return "".join(RNG.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def key_hash() -> str:
    """The sha256 LiteLLM stores for a virtual key; the key itself is generated, never kept."""
    return hashlib.sha256(("sk-" + token(22)).encode()).hexdigest()


def filters(**flagged: dict[str, Any]) -> dict[str, Any]:
    return {c: SAFE for c in ("hate", "self_harm", "sexual", "violence")} | flagged


def chat_ok(model: str, prompt: int, completion: int, jailbreak: bool = False) -> str:
    return dumps({
        "choices": [{"content_filter_results": filters(), "index": 0, "logprobs": None,
                     "finish_reason": "length" if completion == 1 else "stop",
                     "message": {"role": "assistant", "content": "word " * completion}}],
        "created": 1741000000, "id": "chatcmpl-" + token(), "model": model,
        "object": "chat.completion", "system_fingerprint": "fp_" + token(10),
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": filters(
            jailbreak={"filtered": False, "detected": jailbreak})}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion}})


def image_ok() -> str:
    return dumps({"created": 1741000000, "data": [{
        "content_filter_results": filters(), "revised_prompt": "A studio portrait ...",
        "prompt_filter_results": filters(jailbreak={"filtered": False, "detected": False}),
        "url": f"https://dalleprodsec.blob.core.windows.net/private/images/{uuid.uuid4()}.png"}]})


def blocked(category: str) -> str:
    """A 400 from the content filter: chat (``content_filter``) or DALL-E 3 (``image``)."""
    flag = {"filtered": True, "detected": True} if category == "jailbreak" else {
        "filtered": True, "severity": "high"}
    if category == "image":
        return dumps({"error": {
            "code": "content_policy_violation", "type": "invalid_request_error",
            "message": "Your request was rejected as a result of our safety system.",
            "inner_error": {"code": "ResponsibleAIPolicyViolation", "revised_prompt": "A face",
                            "content_filter_results": filters(sexual=flag)}}})
    return dumps({"error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's "
        "content management policy.", "type": None, "param": "prompt", "code": "content_filter",
        "status": 400, "innererror": {"code": "ResponsibleAIPolicyViolation",
                                      "content_filter_result": filters(**{category: flag})}}})


class Logs:
    """Raw records per delivery path, written the way each service delivers them."""

    def __init__(self) -> None:
        self.files: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def blob(self, category: str, resource_id: str, t: datetime, record: dict[str, Any]) -> None:
        hour = f"y={t:%Y}/m={t:%m}/d={t:%d}/h={t:%H}/m=00/PT1H.json"
        record["time"] = t.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
        record["correlationId"] = record.get("correlationId") or str(uuid.uuid4())
        self.files[f"{category}/resourceId={resource_id.upper()}/{hour}"].append(record)

    def diag(self, t: datetime, name: str, op: str, ip: str, status: int = 200,
             deployment: str = "manifest-4o-mini", model: str = "gpt-4o-mini",
             body: str = "", oid: str = "", request: int = 420) -> None:
        ticks = int((t - datetime(1, 1, 1)).total_seconds() * 10**7)
        props = {"apiName": "Azure OpenAI API version 2024-10-21", "requestTime": ticks,
                 "requestLength": request, "responseTime": ticks + 9_000_000,
                 "responseLength": len(body) or 1500, "objectId": oid,
                 "streamType": "Non-Streaming", "modelDeploymentName": deployment,
                 "modelName": model, "modelVersion": "2024-07-18"}
        self.blob("insights-logs-requestresponse", AOAI[name], t, {
            "resourceId": AOAI[name].upper(), "category": "RequestResponse", "operationName": op,
            "callerIpAddress": ".".join(ip.split(".")[:3]) + ".***", "durationMs": 900,
            "resultSignature": str(status), "location": AREA[name], "Tenant": AREA[name],
            "event": "ShoeboxCallResult", "properties": dumps(props)})

    def apim(self, t: datetime, sub: str, ip: str, agent: str, path: str, request: str,
             status: int, body: str) -> None:
        url = f"https://kh-apim.azure-api.net/claims-ai/openai/deployments/{path}"
        backend = url.replace("kh-apim.azure-api.net/claims-ai", "kh-claims-se.openai.azure.com")
        self.blob("insights-logs-gatewaylogs", APIM, t, {
            "resourceId": APIM.upper(), "category": "GatewayLogs", "durationMs": 1800,
            "operationName": "Microsoft.ApiManagement/GatewayLogs", "callerIpAddress": ip,
            "location": "Sweden Central", "isRequestSuccess": status < 400,
            "resultType": "Succeeded" if status < 400 else "Failed",
            "properties": {"method": "POST", "url": url + "?api-version=2024-10-21",
                           "backendUrl": backend, "responseCode": status,
                           "backendResponseCode": status, "requestSize": len(request) + 600,
                           "responseSize": len(body) + 400, "apiId": "claims-openai",
                           "apimSubscriptionId": sub, "cache": "none",
                           "requestHeaders": {"User-Agent": agent}, "requestBody": request,
                           "responseBody": body}})

    def activity(self, t: datetime, target: str, op: str, oid: str, ip: str) -> None:
        claims = {"http://schemas.microsoft.com/identity/claims/objectidentifier": oid,
                  "appid": oid, "ver": "1.0"}
        correlation = str(uuid.uuid4())
        for result, status, delay in (("Start", "Started", 0), ("Success", "OK", 2)):
            self.blob("insights-activity-logs", f"/subscriptions/{SUB}",
                      t + timedelta(seconds=delay), {
                "resourceId": target.upper(), "operationName": op, "category": "Administrative",
                "resultType": result, "resultSignature": f"{status}.", "level": "Information",
                "callerIpAddress": ip, "location": "global", "correlationId": correlation,
                "identity": {"claims": claims, "authorization": {"scope": target, "action": op}},
                "properties": {"statusCode": status}})

    def spend(self, t: datetime, key: str, ip: str, agent: str, ok: bool = True,
              prompt: int = 600, completion: int = 180, call: str = "acompletion",
              model: str = "gpt-4o-mini", alias: str = "") -> None:
        error = {} if ok else {"error_code": "401", "error_class": "ProxyException",
                               "error_message": "Authentication Error, Invalid proxy token"}
        self.files[f"litellm/spend-logs-{t:%Y-%m-%d}.json"].append({
            "request_id": str(uuid.uuid4()), "call_type": call, "api_key": key,
            "spend": round((prompt + 4 * completion) * 1.5e-7, 8) if ok else 0.0,
            "total_tokens": (prompt + completion) * ok, "prompt_tokens": prompt * ok,
            "completion_tokens": completion * ok, "startTime": t.isoformat(),
            "endTime": t.isoformat(), "model": model, "model_group": model,
            "api_base": "https://kh-shared-ae.openai.azure.com" if ok else "", "user": "",
            "team_id": "", "requester_ip_address": ip, "status": "success" if ok else "failure",
            "request_tags": dumps([f"User-Agent: {agent.split('/')[0]}", f"User-Agent: {agent}"]),
            "metadata": dumps({"user_api_key_alias": alias, "error_information": error})})

    def audit(self, t: datetime, kind: str, user: str, ip: str, target: str = "") -> None:
        browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605"
        self.files[f"openai/audit-logs-{t:%Y-%m-%d}.json"].append({
            "id": "audit_log-" + token(), "type": kind, "effective_at": int(t.timestamp()),
            "organization_id": "org-kestrelharbour", "project": {"id": "proj_manifest"},
            "actor": {"type": "session", "session": {
                "user": {"id": "user-" + user, "email": f"{user}@kestrel.example"},
                "ip_address": ip, "user_agent": browser}},
            kind: {"id": target} if target else {"error_code": "invalid_credentials"}})

    def write(self, root: Path) -> None:
        for name, records in self.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            text = "\n".join(dumps(record) for record in records)  # JSON Lines blobs
            if name.startswith("litellm/"):  # the /spend/logs answer: a JSON array
                text = dumps(records)
            elif name.startswith("openai/"):  # a saved API page
                text = dumps({"object": "list", "data": records, "first_id": records[0]["id"],
                              "last_id": records[-1]["id"], "has_more": False})
            path.write_text(text + "\n", encoding="utf-8")


KEYS = {team: key_hash() for team in ("forecast", "hr", "search", "legal", "ops")}
CLAIMS_AGENT = "KestrelClaims/3.8.1 AzureOpenAI/Python 1.51.0"
DRIVER_AGENT = "KHDriver/2.4.1 (Android 14; Pixel 8) okhttp/4.12.0"
CHAT = "claims-4o/chat/completions"


def benign_history(logs: Logs) -> None:
    for t in working(12):
        logs.diag(t, "kh-docs-ae", "ChatCompletions_Create", OFFICE + ".20",
                  body=chat_ok("gpt-4o-mini", 900, RNG.randint(80, 400)))
    for t in working(3):
        logs.diag(t, "kh-docs-ae", "Embeddings_Create", OFFICE + ".20", body="{" + "0" * 9000,
                  deployment="manifest-embed", model="text-embedding-3-small")
        logs.diag(t, "kh-ops-ae", "ChatCompletions_Create", OFFICE + ".31")
    for t in working(4):
        if t < at(10, 2, 8):  # when the diagnostic settings are deleted (playbook evasion)
            logs.diag(t, "kh-research-eus", "ChatCompletions_Create", "10.40.2.7",
                      oid=RNG.choice(SCIENTISTS), model="gpt-4o", deployment="research-4o")
    for sub, agent, per_hour, prompt in (("claims-portal", CLAIMS_AGENT, 12, 1400),
                                         ("driver-app", DRIVER_AGENT, 6, 300)):
        for t in working(per_hour):  # the portal calls from its App Service, drivers on mobile
            ip = "20.91.14.7" if per_hour == 12 else f"{RNG.choice(CARRIERS)}.{RNG.randint(2, 250)}"
            request = dumps({"messages": [{"role": "user", "content": f"{sub} {token(8)}"}]})
            logs.apim(t, sub, ip, agent, CHAT, request, 200,
                      chat_ok("gpt-4o", prompt, RNG.randint(40, 500)))
    for team, key in KEYS.items():
        for t in working(2):
            logs.spend(t, key, f"10.20.{len(team)}.{RNG.randint(2, 60)}", "OpenAI/Python 1.51.0",
                       alias=f"team-{team}")
    deploy = "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/DEPLOYMENTS/WRITE"
    for day in (1, 6):  # the CI pipeline deploys models: its principal is known
        logs.activity(at(day, 22), AOAI["kh-docs-ae"] + "/deployments/manifest-4o-mini", deploy,
                      CI_SP, "20.91.14.50")
    logs.activity(at(3, 23), AOAI["kh-research-eus"] + "/deployments/research-4o", deploy, DEV,
                  OFFICE + ".44")
    for day in range(0, DAYS, 2):
        for user in ("mara", "tane", "ana"):
            logs.audit(at(day, 21, RNG.uniform(0, 50)), "login.succeeded", user, OFFICE + ".12")
    logs.audit(at(4, 22), "api_key.created", "mara", OFFICE + ".12", "key_" + token(16))


@dataclass(frozen=True)
class Case:
    """What an attack or benign anomaly did: the entities alerts name, and when."""

    entities: frozenset[str]
    start: datetime
    end: datetime


def stolen_key_proxy(logs: Logs) -> Case:
    """Storm-2139 on a key-auth resource: checker probes, then the proxy resells DALL-E 3."""
    for i in range(6):  # key checker: max_tokens 1 completions
        logs.diag(at(9, 3, 10 + i * 0.3), "kh-docs-ae", "ChatCompletions_Create", "5.181.86.120",
                  body=chat_ok("gpt-4o-mini", 9, 1), request=96)
    t = at(9, 4)
    while t < at(DAYS):
        refused = RNG.random() < 0.4
        logs.diag(t, "kh-docs-ae", "ImageGenerations_Create", RNG.choice(PROXY),
                  400 if refused else 200, "dalle3-eval", "dall-e-3",
                  blocked("image") if refused else image_ok())
        t += timedelta(minutes=RNG.uniform(2, 6))
    docs = AOAI["kh-docs-ae"].lower()
    nets = {"45.137.21.0/24", "91.92.243.0/24", "5.181.86.0/24", docs, "azure-key:" + docs}
    return Case(frozenset(nets), at(9, 3), at(DAYS))


def gateway_jailbreaks(logs: Logs) -> Case:
    """The claims portal's APIM key resold: jailbreaks, blocks, rephrasing, DALL-E via de3u."""
    steps = ((CHAT, 400, blocked("jailbreak")), (CHAT, 400, blocked("sexual")),
             (CHAT, 200, chat_ok("gpt-4o", 60, 700, jailbreak=True)),
             *[("dalle3/images/generations", 400, blocked("image"))] * 3,
             ("dalle3/images/generations", 200, image_ok()))
    t = at(9, 6)
    while t < at(10, 6):
        for i, (path, status, body) in enumerate(steps):
            request = dumps({"prompt": f"celebrity {token(5)}", "size": "1024x1024"})
            logs.apim(t + timedelta(seconds=40 * i), "claims-portal", RESALE, "OpenAI/JS 4.67.3",
                      path, request, status, body)
        t += timedelta(minutes=RNG.uniform(15, 30))
    sub = f"apim-subscription:{APIM.lower()}/claims-portal"
    return Case(frozenset({sub, RESALE, APIM.lower()}), at(9, 6), at(10, 6))


def list_keys(logs: Logs) -> Case:
    """The CI service principal's leaked secret lists the keys of every AI resource."""
    for i, name in enumerate(AREA):
        logs.activity(at(9, 2, 55 + i), AOAI[name], LISTKEYS, CI_SP, "194.26.29.14")
    return Case(frozenset({CI_SP, "194.26.29.14"}), at(9, 2, 55), at(9, 3))


def evasion(logs: Logs) -> Case:
    """A developer's stolen session relaxes the content filter and deletes diagnostic settings."""
    research, ip = AOAI["kh-research-eus"], "146.70.199.23"
    logs.activity(at(10, 2), research + "/raiPolicies/relaxed-research",
                  "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/RAIPOLICIES/WRITE", DEV, ip)
    logs.activity(at(10, 2, 8), research + "/providers/microsoft.insights/diagnosticSettings/law",
                  "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", DEV, ip)
    return Case(frozenset({DEV, ip}), at(10, 2), at(10, 2, 9))


def sweep(logs: Logs, start: datetime, ips: list[str]) -> Case:
    """A key checker tries leaked and guessed virtual keys on the LiteLLM proxy (401s)."""
    tried = [key_hash() for _ in ips]
    for i, (key, ip) in enumerate(zip(tried, ips, strict=True)):
        logs.spend(start + timedelta(seconds=10 * i), key, ip, "python-requests/2.32.3", False)
    return Case(frozenset({*ips, *(f"litellm:{k}" for k in tried)}), start,
                start + timedelta(seconds=10 * len(ips)))


def key_sweep(logs: Logs) -> Case:
    """From one VPS; two of the keys (leaked from the repo) work: one-token probes follow."""
    for i, team in enumerate(("forecast", "hr")):
        logs.spend(at(10, 11, 6 + i), KEYS[team], "45.95.147.3", "python-requests/2.32.3", True,
                   9, 1)
    return sweep(logs, at(10, 11), ["45.95.147.3"] * 30)


def distributed_sweep(logs: Logs) -> Case:
    """The same sweep through a residential proxy pool: one key per exit address."""
    return sweep(logs, at(12, 16), [f"{RNG.randint(70, 190)}.{RNG.randint(1, 250)}."
                                     f"{RNG.randint(1, 250)}.{i + 2}" for i in range(24)])


def wallet(logs: Logs) -> Case:
    """The driver app's key, extracted from the APK, replays one long request for two hours."""
    ip = "102.129.152.4"
    request = dumps({"messages": [{"role": "user", "content": "x" * 3000}], "max_tokens": 4096})
    for i in range(500):
        logs.apim(at(11, 8, i * 0.24), "driver-app", ip, "okhttp/4.12.0", CHAT, request, 200,
                  chat_ok("gpt-4o", 900, 4096))
    sub = f"apim-subscription:{APIM.lower()}/driver-app"
    return Case(frozenset({sub, ip}), at(11, 8), at(11, 10))


def openai_takeover(logs: Logs) -> Case:
    """Password spraying on the OpenAI dashboard, one success, then an API key is minted."""
    ip = "185.220.101.34"
    for i in range(12):
        logs.audit(at(10, 9, 40 + i * 0.6), "login.failed", ("mara", "tane", "ana")[i % 3], ip)
    logs.audit(at(10, 9, 49), "login.succeeded", "mara", ip)
    logs.audit(at(10, 9, 52), "api_key.created", "mara", ip, "key_" + token(16))
    return Case(frozenset({ip, "user-mara"}), at(10, 9, 40), at(10, 9, 52))


def new_office(logs: Logs) -> Case:
    """The Wellington branch opens on day 9 and keeps using the ops tool."""
    for t in working(2, range(9, DAYS)):
        logs.diag(t, "kh-ops-ae", "ChatCompletions_Create", NEW_OFFICE + ".15")
    key = "azure-key:" + AOAI["kh-ops-ae"].lower()
    return Case(frozenset({NEW_OFFICE + ".0/24", key}), at(9), at(DAYS))


def nightly_batch(logs: Logs) -> Case:
    """A search re-index job starts on day 9 and runs every night through the gateway."""
    for day in range(9, DAYS):
        for i in range(300):
            logs.spend(at(day, 13, i * 0.5), KEYS["search"], "10.30.5.17", "python-httpx/0.27.2",
                       True, 2000, 0, "aembedding", "text-embedding-3-small", "team-search")
    return Case(frozenset({"litellm:" + KEYS["search"], "10.30.5.17"}), at(9, 13), at(DAYS))


def ci_load_test(logs: Logs) -> Case:
    """A k6 load test from a CI runner before a release replays one prompt 900 times."""
    ip, request = "20.51.44.9", dumps({"messages": [{"role": "user", "content": "load test"}]})
    for i in range(900):
        logs.apim(at(12, 3, i / 60), "loadtest", ip, "k6/0.54.0 (https://k6.io/)", CHAT,
                  request, 200, chat_ok("gpt-4o", 40, 200))
    sub = f"apim-subscription:{APIM.lower()}/loadtest"
    return Case(frozenset({sub, ip}), at(12, 3), at(12, 3, 15))


def monthly_rotation(logs: Logs) -> Case:
    """The key-rotation function (its own managed identity) runs once a month."""
    for i, name in enumerate(AREA):
        for op in (LISTKEYS.replace("LISTKEYS", "REGENERATEKEY"), LISTKEYS):
            logs.activity(at(11, 14, i + 0.5 * (op == LISTKEYS)), AOAI[name], op, ROTATOR,
                          "20.91.14.60")
    return Case(frozenset({ROTATOR}), at(11, 14), at(11, 14, 4))


ATTACKS = (stolen_key_proxy, gateway_jailbreaks, list_keys, evasion, key_sweep,
           distributed_sweep, wallet, openai_takeover)
BENIGN = (new_office, nightly_batch, ci_load_test, monthly_rotation)
# fmt: on


@dataclass(frozen=True)
class World:
    cases: dict[str, Case]
    alerts: tuple[Alert, ...]
    image_blocks: tuple[int, int]  # gateway image 400s, and how many are filter_blocked


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("independent")
    logs = Logs()
    benign_history(logs)
    cases = {build.__name__: build(logs) for build in ATTACKS + BENIGN}
    logs.write(root / "logs")
    with EventStore.open(root / "store.duckdb") as store:
        report = ingest_files([root / "logs"], store)
    assert report.clean, report
    con = duckdb.connect(str(root / "store.duckdb"))
    try:
        alerts = run_detection(con, load_rules())
        [(total, blocked_ones)] = con.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE filter_blocked) FROM events "
            "WHERE source = 'azure_apim' AND operation = 'ImageGenerations_Create' "
            "AND status_code = 400"
        ).fetchall()
    finally:
        con.close()
    return World(cases, alerts, (int(total), int(blocked_ones)))


def _net(value: str) -> str:
    return ".".join(value.split("/")[0].split(".")[:3]) + ".0/24" if value.count(".") == 3 else ""


def touching(case: Case, alerts: tuple[Alert, ...]) -> list[Alert]:
    """Alerts naming one of the case's entities (an IP also by its /24) around its window."""
    wanted = ({e.lower() for e in case.entities} | {_net(e) for e in case.entities}) - {""}
    lo, hi = case.start - timedelta(hours=1), case.end + timedelta(hours=1)
    return [
        alert
        for alert in alerts
        if alert.last_seen >= lo
        and alert.first_seen <= hi
        and any({v.lower(), _net(v)} & wanted for vs in alert.entities.values() for v in vs)
    ]


SIGNATURES = {
    "stolen_key_proxy": ("image-generation-new-on-resource", "around-the-clock-activity",
                         "credential-new-network", "azure-key-validation-probe"),
    "gateway_jailbreaks": ("jailbreak-burst", "rephrase-after-block",
                           "content-filter-burst-resource", "image-generation-new-on-resource",
                           "sdk-default-user-agent-new"),
    "list_keys": ("azure-listkeys-spike",),
    "evasion": ("azure-content-filter-weakened", "azure-diagnostic-settings-deleted"),
    "key_sweep": ("network-many-credentials-failing",),
    "distributed_sweep": ("gateway-many-keys-failing",),
    "wallet": ("duplicate-request-wallet-abuse",),
    "openai_takeover": ("openai-login-failure-burst", "openai-admin-change-from-new-network"),
}  # fmt: skip


@pytest.mark.parametrize("name", [b.__name__ for b in ATTACKS])
def test_playbook_raises_medium_or_higher(world: World, name: str) -> None:
    hits = [a for a in touching(world.cases[name], world.alerts) if SEVERITY_RANK[a.severity] >= 1]
    assert hits, f"{name}: no alert of severity >= medium"


@pytest.mark.parametrize("name", [b.__name__ for b in BENIGN])
def test_benign_anomaly_raises_no_high_alert(world: World, name: str) -> None:
    hits = touching(world.cases[name], world.alerts)
    assert sorted({a.rule_id for a in hits if SEVERITY_RANK[a.severity] >= 2}) == []


@pytest.mark.parametrize(
    ("name", "rule"), [(n, r) for n, rules in SIGNATURES.items() for r in rules]
)
def test_playbook_signature_rule_fires(world: World, name: str, rule: str) -> None:
    """The rule built for the playbook's signal fires on it (any severity)."""
    assert rule in {a.rule_id for a in touching(world.cases[name], world.alerts)}


def test_image_generation_blocks_are_filter_blocks(world: World) -> None:
    total, blocked = world.image_blocks
    assert total > 0 and blocked == total
