"""Benign control-plane routine and the benign anomalies that rules must not rate high.

Routine: daily Azure key rotation by the automation principal (``ListKeys``, weekly
``regenerateKey``), daily model listing by the Bedrock app, weekday sign-ins to the OpenAI
organisation. Anomalies (each labelled ``kind="benign"``): a new office network that then stays,
a CI load-test burst with the usual user agent, the known admin reading the invocation-logging
configuration, and a new model rolled out and then used by the usual apps.
"""

from __future__ import annotations

import time
from random import Random

from stormwatch.simulate import channels, render_aws, render_azure, render_gateway
from stormwatch.simulate.background import (
    NEW_OFFICE,
    NEW_OFFICE_APPS,
    new_office_opening,
    prompt,
    rollout_time,
    spread,
)
from stormwatch.simulate.channels import Emit
from stormwatch.simulate.identifiers import HOUR_US, SimRandom, aws_key_id, mask_ip
from stormwatch.simulate.model import PlaybookLabel
from stormwatch.simulate.plan import Plan, from_us
from stormwatch.simulate.world import NEW_CLAUDE, Person, World

ROTATION = "benign:key-rotation"
CI_BURST = "benign:ci-load-test"
ADMIN_READ = "benign:admin-reads-logging-config"
ROLLOUT = "benign:new-model-rollout"
CONSOLE_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/17.5"
GEO = ("NL", "Amsterdam", "AS64496")


def ci_burst_time(plan: Plan) -> int:
    """Start of the CI load test (15 minutes of many requests from the usual runner)."""
    return plan.moment(0.65, 14)


def admin_read_time(plan: Plan) -> int:
    """When the platform admin reviews the Bedrock logging configuration."""
    return plan.moment(0.45, 10) + 17 * 60_000_000


def _rotation(emit: Emit, world: World, us: int, rng: SimRandom, weekly: bool) -> None:
    bot = world.automation
    claims = render_azure.service_principal_claims(bot.object_id, bot.object_id, world.tenant_id)
    for i, res in enumerate(world.azure):
        scope = res.resource_id.lower()
        t = us + i * 40_000_000
        for op in ("REGENERATEKEY", "LISTKEYS") if weekly else ("LISTKEYS",):
            operation = f"MICROSOFT.COGNITIVESERVICES/ACCOUNTS/{op}/ACTION"
            channels.activity_call(
                emit, t, rng, res.subscription, scope, operation, (claims, bot.ip), tag=ROTATION
            )
            t += 2_000_000
        line = render_azure.audit(res, t, "ListKey", mask_ip(bot.ip), rng.uuid(), bot.object_id)
        emit(channels.azure_key(res, "Audit", t), t, line, ROTATION)


def _sign_ins(emit: Emit, world: World, plan: Plan, hour_us: int, rng: SimRandom) -> None:
    for person in world.people:
        us = hour_us + int(rng.random() * HOUR_US)
        ip = person.ip
        if person is world.people[1] and us >= new_office_opening(plan):
            ip = world.new_office_ip
        actor = openai_actor(person, ip)
        tag = NEW_OFFICE if ip == world.new_office_ip else ""
        if rng.random() < 0.08:
            failed = {"error_code": "invalid_credentials", "error_message": "Wrong password."}
            channels.openai_audit_call(emit, us - 40_000_000, rng, "login.failed", actor, failed)
        channels.openai_audit_call(emit, us, rng, "login.succeeded", actor, {}, tag)


def openai_user_id(person: Person) -> str:
    """The OpenAI organisation user id of ``person``."""
    return f"user-{person.object_id.replace('-', '')[:24]}"


def openai_actor(person: Person, ip: str, user_agent: str | None = None) -> dict[str, object]:
    """A dashboard session of ``person`` from ``ip`` (their own browser unless told)."""
    agent = person.user_agent if user_agent is None else user_agent
    return render_gateway.session_actor(openai_user_id(person), person.upn, ip, agent, GEO)


def _aws_routine(emit: Emit, world: World, plan: Plan, us: int, rng: SimRandom) -> None:
    role = world.principal("bedrock-app-role")
    app = world.app("claims-summarizer")
    key = aws_key_id(Random(f"{plan.seed}:session:{role.name}:{us // HOUR_US}"), "ASIA")
    caller = render_aws.Caller(
        render_aws.identity_json(role, key, us - us % HOUR_US),
        role.account.account_id,
        app.ips[0],
        app.user_agent,
    )
    channels.control_call(emit, role.account, "us-east-1", caller, us, rng, "ListFoundationModels")


def _admin_read(emit: Emit, world: World, plan: Plan, us: int, rng: SimRandom) -> None:
    admin = world.principal("platform-admin")
    session = aws_key_id(Random(f"{plan.seed}:console:{us}"), "ASIA")
    caller = render_aws.Caller(
        render_aws.identity_json(admin, session),
        admin.account.account_id,
        world.people[0].ip,
        CONSOLE_UA,
    )
    for i, name in enumerate(("GetModelInvocationLoggingConfiguration", "ListGuardrails")):
        t = us + i * 9_000_000
        channels.control_call(
            emit, admin.account, "us-east-1", caller, t, rng, name, tag=ADMIN_READ
        )


def _rollout(emit: Emit, world: World, us: int, rng: SimRandom) -> None:
    res = world.resource("nwl-openai-prod-eus")
    person = world.people[0]
    scope = f"{res.resource_id.lower()}/deployments/gpt-41-chat"
    claims = render_azure.user_claims(person, world.tenant_id, person.ip)
    extra = {
        "requestbody": '{"sku":{"name":"Standard","capacity":50},"properties":{"model":'
        '{"format":"OpenAI","name":"gpt-4.1","version":"2025-04-14"}}}'
    }
    operation = "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/DEPLOYMENTS/WRITE"
    channels.activity_call(
        emit, us, rng, res.subscription, scope, operation, (claims, person.ip), extra, ROLLOUT
    )


def _ci_burst(emit: Emit, world: World, start: int, rng: SimRandom, scale: float) -> None:
    app = world.app("ci-loadtest")
    caller = render_gateway.GatewayCaller.of(
        world.gateway_key(app.target), app.ips[0], app.user_agent
    )
    for us in spread(rng, start, 15 * 60_000_000, int(600 * max(scale, 0.5))):
        status = 429 if rng.random() < 0.04 else 200
        channels.gateway_call(
            emit, us, rng, caller, "gpt-4o-mini", status, prompt(rng), tag=CI_BURST
        )


def routine_hour(emit: Emit, world: World, plan: Plan, hour: int) -> None:
    """Scheduled control-plane activity and benign anomalies that fall in ``hour``."""
    rng = SimRandom(f"{plan.seed}:routine:{hour}")
    hour_us = hour * HOUR_US
    t = time.gmtime(hour * 3600)
    if t.tm_hour == 2:
        _rotation(emit, world, hour_us + 4 * 60_000_000, rng, weekly=t.tm_wday == 6)
    if t.tm_hour == 6:
        _aws_routine(emit, world, plan, hour_us + 5 * 60_000_000, rng)
    if t.tm_hour == 8 and t.tm_wday < 5:
        _sign_ins(emit, world, plan, hour_us, rng)
    read, rollout, burst = (
        admin_read_time(plan),
        rollout_time(plan) - 30 * 60_000_000,
        ci_burst_time(plan),
    )
    if read // HOUR_US == hour:
        _admin_read(emit, world, plan, read, rng)
    if rollout // HOUR_US == hour:
        _rollout(emit, world, rollout, rng)
    if burst // HOUR_US == hour:
        _ci_burst(emit, world, burst, rng, plan.scale)


def benign_labels(world: World, plan: Plan) -> list[PlaybookLabel]:
    """Labels of the benign anomalies (files are filled in once the run knows them)."""
    opening, ci, read, rollout = (
        new_office_opening(plan),
        ci_burst_time(plan),
        admin_read_time(plan),
        rollout_time(plan),
    )
    prod = world.resource("nwl-openai-prod-eus")
    return [
        PlaybookLabel(
            NEW_OFFICE,
            "benign",
            "A new office network starts sending traffic and keeps doing so.",
            from_us(opening),
            from_us(plan.end_us),
            {
                "ips": (world.new_office_ip,),
                "apps": tuple(sorted(NEW_OFFICE_APPS)),
                "principals": (world.people[1].upn,),
            },
        ),
        PlaybookLabel(
            CI_BURST,
            "benign",
            "A CI load test: a burst of requests on the CI key, usual IP and user agent.",
            from_us(ci),
            from_us(ci + 15 * 60_000_000),
            {
                "credential_ids": (world.gateway_key("ci-loadtest").key_hash,),
                "ips": world.app("ci-loadtest").ips,
            },
        ),
        PlaybookLabel(
            ROTATION,
            "benign",
            "Scheduled key rotation: ListKeys (weekly regenerateKey) by the automation principal.",
            from_us(plan.start_us),
            from_us(plan.end_us),
            {
                "principals": (world.automation.object_id,),
                "ips": (world.automation.ip,),
                "resources": tuple(r.resource_id for r in world.azure),
            },
        ),
        PlaybookLabel(
            ADMIN_READ,
            "benign",
            "The known platform admin reads the Bedrock invocation-logging configuration.",
            from_us(read),
            from_us(read + 60_000_000),
            {"principals": (world.principal("platform-admin").arn,), "ips": (world.people[0].ip,)},
        ),
        PlaybookLabel(
            ROLLOUT,
            "benign",
            "A new model is deployed by an admin, then used by the usual apps.",
            from_us(rollout - 30 * 60_000_000),
            from_us(plan.end_us),
            {
                "resources": (prod.resource_id,),
                "models": ("gpt-4.1", NEW_CLAUDE.model),
                "apps": ("support-bot", "claims-summarizer"),
            },
        ),
    ]
