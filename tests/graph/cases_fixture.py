"""Fictional cases built directly as model values, for the exporter tests.

Organisations, accounts and addresses are documentation values (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32, account 111122223333). Credentials appear only as fingerprints
derived at run time, never as key-shaped literals.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from stormwatch.graph.model import (
    AlertRef,
    Case,
    CaseFigures,
    ChecklistItem,
    Edge,
    Entity,
    RoleHypothesis,
    TimelineEntry,
)

T0 = datetime(2025, 3, 4, 9, 12, 0, tzinfo=UTC)
HOSTILE_AGENT = "<script>alert('x')</script> \"quoted\" back\\slash"


def fingerprint(seed: str) -> str:
    """A credential fingerprint as the case builder writes it."""
    return "fp:" + hashlib.sha256(seed.encode()).hexdigest()[:16]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _entity(
    kind: str, value: str, first: float, last: float, count: int, label: str = ""
) -> Entity:
    return Entity(kind, value, at(first), at(last), count, label)  # type: ignore[arg-type]


def _edge(source: Entity, target: Entity, relation: str, count: int) -> Edge:
    return Edge(source.key, target.key, relation, source.first_seen, target.last_seen, count)


def bedrock_case() -> Case:
    """A leaked AWS key: probed within minutes, models enabled, an IAM user made, Claude abused."""
    exposure = _entity(
        "exposure", "github.com/northwind-labs/ml-notebooks:.env@3f2a9c1", 0, 0, 1, "public .env"
    )
    key = _entity(
        "credential", fingerprint("northwind-bedrock"), 0, 900, 4210, "AWS key (long-term)"
    )
    checker = _entity("ip", "203.0.113.45", 3, 9, 14)
    proxy = _entity("ip", "2001:db8:4::17", 30, 900, 4170)
    other = _entity("ip", "198.51.100.23", 12, 14, 26)
    agent = _entity(
        "user_agent", "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#5.15", 3, 14, 40
    )
    hostile = _entity("user_agent", HOSTILE_AGENT, 30, 900, 4170)
    principal = _entity("principal", "arn:aws:iam::111122223333:user/ci-deployer", 0, 900, 4210)
    created = _entity("identity", "arn:aws:iam::111122223333:user/qkzwbt482", 18, 18, 1)
    resource = _entity("resource", "aws:111122223333:us-east-1:bedrock", 3, 900, 4210)
    model = _entity("model", "anthropic.claude-3-sonnet-20240229-v1:0", 30, 900, 4170)
    entities = (exposure, key, checker, proxy, other, agent, hostile, principal, created, resource)
    edges = (
        _edge(key, exposure, "exposed-at", 1),
        _edge(key, checker, "used-from", 14),
        _edge(key, other, "used-from", 26),
        _edge(key, proxy, "used-from", 4170),
        _edge(checker, agent, "used-by", 14),
        _edge(proxy, hostile, "used-by", 4170),
        _edge(key, principal, "belongs-to", 4210),
        _edge(principal, created, "created", 1),
        _edge(key, resource, "invoked", 4210),
        _edge(resource, model, "invoked", 4170),
    )
    alerts = (
        AlertRef(
            "aws-bedrock-validation-probe",
            "Bedrock key validated with an invalid request",
            "high",
            at(3),
            at(9),
            14,
            ("AML.T0012", "T1078.004"),
            ("cloudtrail/2025/03/04/0910.json:12", "cloudtrail/2025/03/04/0910.json:40"),
            (key.key, checker.key),
        ),
        AlertRef(
            "aws-bedrock-model-access-enabled",
            "Model access enabled from a long-term key",
            "high",
            at(12),
            at(14),
            3,
            ("T1098",),
            ("cloudtrail/2025/03/04/0925.json:7",),
            (key.key, other.key),
        ),
        AlertRef(
            "aws-iam-user-created-by-ai-key",
            "IAM user created with an AI workload key",
            "critical",
            at(18),
            at(18),
            1,
            ("T1136.003",),
            ("cloudtrail/2025/03/04/0930.json:3",),
            (key.key, created.key),
        ),
        AlertRef(
            "aws-bedrock-invocation-burst",
            "Around-the-clock Claude invocations",
            "critical",
            at(30),
            at(900),
            4170,
            ("T1496", "AML.T0034"),
            ("bedrock-invocations/2025/03/04/10.jsonl:1",),
            (key.key, proxy.key, model.key),
        ),
    )
    timeline = (
        TimelineEntry(
            at(0),
            "exposure",
            "Key committed to a public repository",
            None,
            ("github.com/northwind-labs/ml-notebooks:.env:3",),
        ),
        TimelineEntry(
            at(3),
            "probe",
            "InvokeModel with max_tokens_to_sample -1",
            "aws-bedrock-validation-probe",
            ("cloudtrail/2025/03/04/0910.json:12",),
        ),
        TimelineEntry(
            at(12),
            "enablement",
            "PutUseCaseForModelAccess",
            "aws-bedrock-model-access-enabled",
            ("cloudtrail/2025/03/04/0925.json:7",),
        ),
        TimelineEntry(
            at(18),
            "persistence",
            "CreateUser qkzwbt482",
            "aws-iam-user-created-by-ai-key",
            ("cloudtrail/2025/03/04/0930.json:3",),
        ),
        TimelineEntry(
            at(25),
            "tampering",
            "DeleteModelInvocationLoggingConfiguration",
            None,
            ("cloudtrail/2025/03/04/0937.json:2",),
        ),
        TimelineEntry(
            at(30),
            "abuse",
            "4,170 Claude invocations from one IPv6 address",
            "aws-bedrock-invocation-burst",
            ("bedrock-invocations/2025/03/04/10.jsonl:1",),
        ),
    )
    roles = (
        RoleHypothesis(
            "key-checker",
            checker.key,
            "high",
            ("invalid InvokeModel right after exposure", "no further use"),
            ("cloudtrail/2025/03/04/0910.json:12",),
        ),
        RoleHypothesis(
            "proxy",
            proxy.key,
            "medium",
            ("steady invocations around the clock", "many distinct prompts"),
            ("bedrock-invocations/2025/03/04/10.jsonl:1",),
        ),
        RoleHypothesis("exposure-source", exposure.key, "high", ("key found in the file",)),
    )
    checklist = (
        ChecklistItem("rotate-key", key.value, "used from 3 unknown addresses"),
        ChecklistItem("delete-access-key", created.value, "created by the attacker"),
        ChecklistItem("block-network", "2001:db8:4::/64", "proxy hypothesis"),
        ChecklistItem("restore-logging", resource.value, "invocation logging deleted"),
    )
    figures = CaseFigures(4210, 8_400_000, 2_100_000, 56_700.0, 180.0, 900 * 60.0)
    return Case(
        "case-0001",
        "Leaked Bedrock key resold through a proxy (Northwind Labs)",
        "critical",
        96.5,
        at(0),
        at(900),
        alerts,
        (*entities, model),
        edges,
        timeline,
        roles,
        checklist,
        figures,
    )


def azure_proxy_case() -> Case:
    """An Azure OpenAI resource key used through a reverse proxy from masked networks."""
    resource = _entity("resource", "azure:northwind-openai-eastus", 0, 600, 2300, "Azure OpenAI")
    masked = _entity("network", "198.51.100.0/24", 0, 600, 2200)
    v6 = _entity("network", "2001:db8:ab::/48", 40, 90, 100)
    empty_agent = _entity("user_agent", "", 0, 600, 1000, "(empty)")
    axios = _entity("user_agent", "axios/1.6.8", 0, 600, 1300)
    image = _entity("model", "dall-e-3", 5, 600, 2100)
    entities = (resource, masked, v6, empty_agent, axios, image)
    edges = (
        _edge(resource, masked, "used-from", 2200),
        _edge(resource, v6, "used-from", 100),
        _edge(masked, axios, "used-by", 1300),
        _edge(masked, empty_agent, "used-by", 900),
        _edge(resource, image, "invoked", 2100),
    )
    alerts = (
        AlertRef(
            "azure-openai-content-filter-burst",
            "Burst of content-filter blocks",
            "high",
            at(5),
            at(600),
            380,
            ("AML.T0054",),
            ("apim/gateway-2025-03-04.jsonl:88",),
            (resource.key, masked.key),
        ),
    )
    timeline = (
        TimelineEntry(
            at(5),
            "abuse",
            "ImageGenerations_Create on a resource that never did it",
            "azure-openai-content-filter-burst",
            ("apim/gateway-2025-03-04.jsonl:88",),
        ),
    )
    roles = (
        RoleHypothesis("proxy", masked.key, "medium", ("SDK default user agents", "re-checks"), ()),
    )
    checklist = (ChecklistItem("rotate-key", resource.value, "key used through a proxy"),)
    return Case(
        "case-0002",
        "Azure OpenAI key behind a reverse proxy",
        "high",
        71.0,
        at(0),
        at(600),
        alerts,
        entities,
        edges,
        timeline,
        roles,
        checklist,
        CaseFigures(2300, 0, 0, None, None, 600 * 60.0),
    )


def huge_case(n_entities: int = 3000) -> Case:
    """One credential used from thousands of addresses: the page must stay usable."""
    key = _entity("credential", fingerprint("huge"), 0, 1440, 50_000, "leaked key")
    ips = [
        _entity("ip", f"2001:db8:{i // 65536:x}:{i % 65536:x}::1", i % 60, 1440, 1 + i % 97)
        for i in range(n_entities - 1)
    ]
    edges = tuple(_edge(key, ip, "used-from", ip.count) for ip in ips)
    alert = AlertRef(
        "gateway-many-sources",
        "One key used from thousands of addresses",
        "medium",
        at(0),
        at(1440),
        50_000,
        (),
        ("litellm/spend.jsonl:1",),
        (key.key,),
    )
    return Case(
        "case-0003",
        "Key spread over a residential proxy pool",
        "medium",
        40.0,
        at(0),
        at(1440),
        (alert,),
        (key, *ips),
        edges,
        (TimelineEntry(at(0), "abuse", "first use"),),
        (),
        (),
        CaseFigures(50_000, 1, 1, 12.5, None, 1440 * 60.0),
    )


def all_cases() -> list[Case]:
    return [bedrock_case(), azure_proxy_case()]
