"""Benign data-plane traffic: every app's requests, hour by hour.

Volume follows a diurnal, weekday-heavy curve; each hour has its own random stream
(``seed:bg:hour``), so an hour's records do not depend on which other hours are generated
or in which process. Normal failures (429 throttling, the odd 400 / 500, a rare benign
content-filter block) are part of the background, as in real logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from random import Random

from stormwatch.simulate import channels, render_aws, render_azure
from stormwatch.simulate.channels import Emit
from stormwatch.simulate.identifiers import HOUR_US, SimRandom, aws_key_id
from stormwatch.simulate.plan import Plan
from stormwatch.simulate.render_gateway import GatewayCaller
from stormwatch.simulate.world import NEW_CLAUDE, App, World

PROMPTS = (
    "Summarise support ticket #{n} in three bullet points.",
    "Draft a polite reply about order {n}.",
    "Classify the sentiment of customer review {n}.",
    "Extract the invoice fields from document {n}.",
    "Translate product description {n} into German.",
    "List the action items from meeting notes {n}.",
)
BENIGN_FILTER = render_azure.filter_results({"violence": "medium"}, False)
THROTTLED = ("ThrottlingException", "Too many requests, please wait before trying again.")
MALFORMED = ("ValidationException", "Malformed input request, please reformat your input.")


def diurnal(hour: int, office_hours: bool) -> float:
    """Relative load at ``hour`` (index since the epoch, UTC): office apps peak on weekdays."""
    t = time.gmtime(hour * 3600)
    weekday, h = t.tm_wday < 5, t.tm_hour
    if not office_hours:
        return 0.85 + (0.15 if 7 <= h <= 19 else 0.0)
    if weekday:
        if 8 <= h <= 17:
            return 1.0
        return 0.45 if h in (7, 18, 19) else 0.06
    return 0.12 if 9 <= h <= 18 else 0.04


def prompt(rng: SimRandom) -> str:
    """A bland, mostly unique prompt."""
    return PROMPTS[int(rng.random() * len(PROMPTS))].format(n=10_000 + int(rng.random() * 90_000))


NEW_OFFICE_APPS = frozenset({"research-notebooks", "dev-sandbox", "ds-batch", "analytics"})
NEW_OFFICE = "benign:new-office-ip"


def app_ips(app: App, world: World, plan: Plan, us: int) -> tuple[str, ...]:
    """The app's egress addresses; office apps gain the new office from its opening day."""
    if app.name in NEW_OFFICE_APPS and us >= new_office_opening(plan):
        return (*app.ips, world.new_office_ip, world.new_office_ip)
    return app.ips


def new_office_opening(plan: Plan) -> int:
    """When the new office starts sending traffic (a benign anomaly that then stays)."""
    return plan.moment(0.3, 8)


def rollout_time(plan: Plan) -> int:
    """When the usual apps start using their newly deployed model (benign anomaly)."""
    return plan.moment(0.55, 10)


def _status(rng: SimRandom, throttled: float) -> int:
    r = rng.random()
    if r < throttled:
        return 429
    if r < throttled + 0.002:
        return 400
    if r < throttled + 0.003:
        return 500
    return 200


def _apim(emit: Emit, world: World, app: App, times: list[int], rng: SimRandom, plan: Plan) -> None:
    models = app.models
    if app.name == "support-bot" and times and times[0] >= rollout_time(plan):
        models = (*models, world.resource(app.target).deployment("gpt-41-chat"))
    ips = app_ips(app, world, plan, times[0])
    for us in times:
        status = _status(rng, 0.01)
        client = (ips[int(rng.random() * len(ips))], app.user_agent, app.apim_subscription)
        deployment = models[int(rng.random() * len(models))]
        filters = BENIGN_FILTER if status == 400 else ""
        channels.apim_call(
            emit, world.apim, us, rng, client, deployment, status, prompt(rng), filters
        )


def _azure(
    emit: Emit, world: World, app: App, times: list[int], rng: SimRandom, plan: Plan
) -> None:
    res = world.resource(app.target)
    ips = app_ips(app, world, plan, times[0])
    models = app.models
    for us in times:
        deployment = models[int(rng.random() * len(models))]
        ip = ips[int(rng.random() * len(ips))]
        tag = NEW_OFFICE if ip == world.new_office_ip else ""
        channels.azure_call(emit, res, us, rng, deployment, _status(rng, 0.01), ip, tag=tag)


def _bedrock(
    emit: Emit, world: World, app: App, times: list[int], rng: SimRandom, plan: Plan
) -> None:
    principal = world.principal(app.principal)
    account = principal.account
    hour = times[0] // HOUR_US
    key = principal.key_id
    if principal.kind == "AssumedRole":
        key = aws_key_id(Random(f"{plan.seed}:session:{principal.name}:{hour}"), "ASIA")
    ips = app_ips(app, world, plan, times[0])
    callers = [
        render_aws.Caller(
            render_aws.identity_json(principal, key, hour * HOUR_US),
            account.account_id,
            ip,
            app.user_agent,
        )
        for ip in dict.fromkeys(ips)
    ]
    models = app.models
    if app.name == "claims-summarizer" and times[0] >= rollout_time(plan):
        models = (*models, NEW_CLAUDE)
    regions = account.regions
    for us in times:
        model = models[int(rng.random() * len(models))]
        r = rng.random()
        error = THROTTLED if r < 0.006 else MALFORMED if r < 0.008 else None
        name = model.operation
        if name == "InvokeModel" and r > 0.7:
            name = "InvokeModelWithResponseStream"
        region = regions[0] if r < 0.85 else regions[-1]
        caller = callers[int(rng.random() * len(callers))]
        tag = NEW_OFFICE if caller.source_ip == world.new_office_ip else ""
        channels.bedrock_call(
            emit, account, region, caller, principal.arn, us, rng, name, model.model, error, tag
        )


def _litellm(
    emit: Emit, world: World, app: App, times: list[int], rng: SimRandom, plan: Plan
) -> None:
    key = world.gateway_key(app.target)
    ips = app_ips(app, world, plan, times[0])
    callers = [GatewayCaller.of(key, ip, app.user_agent) for ip in dict.fromkeys(ips)]
    models = app.models
    for us in times:
        caller = callers[int(rng.random() * len(callers))]
        model = models[int(rng.random() * len(models))].model
        tag = NEW_OFFICE if caller.ip == world.new_office_ip else ""
        status = _status(rng, 0.005)
        channels.gateway_call(emit, us, rng, caller, model, status, prompt(rng), tag=tag)


Channel = Callable[[Emit, World, App, list[int], SimRandom, Plan], None]
CHANNELS: dict[str, Channel] = {
    "apim": _apim,
    "azure": _azure,
    "bedrock": _bedrock,
    "litellm": _litellm,
}


def spread(rng: SimRandom, start_us: int, span_us: int, n: int) -> list[int]:
    """``n`` sorted random times in ``[start_us, start_us + span_us)``."""
    return sorted(start_us + int(rng.random() * span_us) for _ in range(n))


# Formats each channel writes: an app is skipped when none of them is wanted.
CHANNEL_FORMATS = {
    "apim": frozenset({"apim", "azure_openai"}),
    "azure": frozenset({"azure_openai"}),
    "bedrock": frozenset({"cloudtrail", "bedrock_invocation"}),
    "litellm": frozenset({"litellm"}),
}


def generate_hour(emit: Emit, world: World, plan: Plan, hour: int) -> None:
    """All apps' requests during ``hour`` (index since the epoch)."""
    rng = SimRandom(f"{plan.seed}:bg:{hour}")
    hour_us = hour * HOUR_US
    for app in world.apps:
        if not CHANNEL_FORMATS[app.channel] & plan.formats:
            continue
        mean = app.peak_per_hour * plan.scale * diurnal(hour, app.office_hours)
        n = int(mean * (0.85 + 0.3 * rng.random()) + rng.random())
        if n > 0:
            CHANNELS[app.channel](emit, world, app, spread(rng, hour_us, HOUR_US, n), rng, plan)
