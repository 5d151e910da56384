"""Playbooks that start from a known credential: a canary key and a key exposed in a repository.

Their labels carry what the demo needs before detection runs: the canary key id to register, and
the exposed credential (AWS key id, LiteLLM key hash, and the generated dummy secret values that
a demo repository can plant so the secret scanner finds them, a Bedrock API key among them).
"""

from __future__ import annotations

import base64
import string
from dataclasses import replace

from stormwatch.simulate import channels, render_gateway
from stormwatch.simulate.attack import BOTO3, HOUR, MINUTE, PROXY_UAS, SDK_JS, Context, cidr
from stormwatch.simulate.identifiers import ALNUM, BASE32, iso_seconds, token
from stormwatch.simulate.model import PlaybookLabel
from stormwatch.simulate.plan import from_us
from stormwatch.simulate.world import AwsPrincipal

STS = "sts.amazonaws.com"
DEMO_REPOSITORY = "github.com/northwind-labs-demo/hackathon-notebooks"
BEARER_UAS = ("python-requests/2.32.3", "OpenAI/Python 1.51.0")


def canary_use(ctx: Context) -> PlaybookLabel:
    """A canary key that no workload uses is tried once."""
    canary = ctx.world.principal("backup-reader")
    at = ctx.plan.at(0.25)
    network = ctx.networks(1)
    ip = ctx.hosts(network, 1)[0]
    caller = ctx.aws_caller(canary, canary.key_id, ip, BOTO3)
    channels.control_call(
        ctx.emit, canary.account, "us-east-1", caller, at, ctx.rng, "GetCallerIdentity", source=STS
    )
    return PlaybookLabel(
        "canary-use",
        "attack",
        "A canary access key (never used by any workload) is used once.",
        from_us(at),
        from_us(at + 1_000_000),
        {
            "credential_ids": (canary.key_id,),
            "principals": (canary.arn,),
            "accounts": (canary.account.account_id,),
            "ips": (ip,),
            "networks": (cidr(network[0]),),
        },
        details={"canary_key_id": canary.key_id, "canary_kind": "aws_access_key"},
    )


def _aws_use(ctx: Context, start: int, ips: list[str]) -> None:
    principal = ctx.world.principal("demo-notebook")
    account, rng = principal.account, ctx.rng
    region = account.regions[0]
    caller = ctx.aws_caller(principal, principal.key_id, ips[0], SDK_JS)
    channels.control_call(
        ctx.emit, account, region, caller, start, rng, "GetCallerIdentity", source=STS
    )
    channels.control_call(
        ctx.emit, account, region, caller, start + 5_000_000, rng, "ListFoundationModels"
    )
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    channels.bedrock_call(
        ctx.emit,
        account,
        region,
        caller,
        principal.arn,
        start + 9_000_000,
        rng,
        "InvokeModel",
        model,
        ("ValidationException", "Malformed input request, please reformat."),
    )
    callers = [ctx.aws_caller(principal, principal.key_id, ip, SDK_JS) for ip in ips]
    for us in ctx.times(start + 2 * MINUTE, HOUR, 120):
        channels.bedrock_call(
            ctx.emit, account, region, ctx.pick(callers), principal.arn, us, rng, "Converse", model
        )


def _gateway_use(ctx: Context, start: int, ips: list[str]) -> None:
    key = ctx.world.gateway_key("hackathon-demo")
    for us in ctx.times(start, 2 * HOUR, 200):
        caller = render_gateway.GatewayCaller.of(key, ctx.pick(ips), ctx.pick(PROXY_UAS))
        status = 429 if ctx.rng.random() < 0.05 else 200
        channels.gateway_call(ctx.emit, us, ctx.rng, caller, "gpt-4o", status, "[prompt withheld]")


def _bedrock_key_use(ctx: Context, start: int, ips: list[str]) -> tuple[AwsPrincipal, str]:
    """A long-term Bedrock API key from the same commit, called with its bearer token: the
    console's ``BedrockAPIKey-...`` user and the (generated, non-functional) key that names it."""
    account, rng = ctx.world.principal("demo-notebook").account, ctx.rng
    name = "BedrockAPIKey-" + token(rng, string.ascii_lowercase + string.digits, 4)
    user = AwsPrincipal(account, name, "IAMUser", "", "AIDA" + token(rng, BASE32, 17))
    callers = [
        replace(ctx.aws_caller(user, "", ip, agent), bearer=True)
        for ip in ips
        for agent in BEARER_UAS
    ]
    model = "anthropic.claude-3-5-sonnet-20240620-v1:0"
    for us in ctx.times(start, HOUR, 90):
        channels.bedrock_call(
            ctx.emit, account, "us-east-1", ctx.pick(callers), user.arn, us, rng, "Converse", model
        )
    secret = token(rng, ALNUM + "/+", 59) + "="
    named = f"{name}-at-{account.account_id}:{secret}"
    return user, "ABSK" + base64.b64encode(named.encode()).decode()


def exposed_key_use(ctx: Context) -> PlaybookLabel:
    """Keys pushed to a public demo repository are used minutes later from new networks."""
    world, rng = ctx.world, ctx.rng
    exposed_at = ctx.plan.at(0.15)
    networks = ctx.networks(2)
    ips = ctx.hosts(networks, 2)
    aws_start = exposed_at + 3 * MINUTE + int(rng.random() * 60_000_000)
    _aws_use(ctx, aws_start, ips[:2])
    _gateway_use(ctx, exposed_at + 6 * MINUTE, ips[2:])
    bedrock_user, bedrock_key = _bedrock_key_use(ctx, exposed_at + 8 * MINUTE, ips)
    principal = world.principal("demo-notebook")
    key = world.gateway_key("hackathon-demo")
    return PlaybookLabel(
        "exposed-key-use",
        "attack",
        "An AWS key, a long-term Bedrock API key and a LiteLLM key committed to a public demo "
        "repository are used minutes after the push, from networks the organisation never used.",
        from_us(exposed_at),
        from_us(exposed_at + 6 * MINUTE + 2 * HOUR),
        {
            "credential_ids": (
                principal.key_id,
                f"bedrock-api-key:{bedrock_user.arn}",
                key.key_hash,
            ),
            "principals": (principal.arn, bedrock_user.arn),
            "accounts": (principal.account.account_id,),
            "ips": tuple(ips),
            "networks": tuple(cidr(n) for n in networks),
            "resources": (world.gateway_name,),
        },
        details={
            "exposed_at": iso_seconds(exposed_at),
            "repository": DEMO_REPOSITORY,
            "path": "notebooks/.env",
            "exposed_aws_key_id": principal.key_id,
            # Generated, non-functional values for the demo to plant in a fake repository.
            "exposed_aws_secret": token(rng, ALNUM + "/+", 40),
            "exposed_bedrock_api_key": bedrock_key,
            "exposed_gateway_key_hash": key.key_hash,
            "exposed_gateway_key": key.secret,
        },
    )
