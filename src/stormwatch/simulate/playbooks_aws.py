"""Attack playbooks on AWS Bedrock and IAM (and the exposed-key story across sources)."""

from __future__ import annotations

import json

from stormwatch.simulate import channels, render_aws, render_azure
from stormwatch.simulate.attack import BOTO3, HOUR, MINUTE, SDK_JS, Context, cidr
from stormwatch.simulate.identifiers import (
    ALNUM,
    aws_key_id,
    iso_seconds,
    random_user_name,
    token,
)
from stormwatch.simulate.model import PlaybookLabel
from stormwatch.simulate.plan import from_us
from stormwatch.simulate.world import AwsPrincipal

PROBE_MODELS = (
    "anthropic.claude-v2",
    "anthropic.claude-3-sonnet-20240229-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-opus-20240229-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "meta.llama3-70b-instruct-v1:0",
    "mistral.mistral-large-2402-v1:0",
    "amazon.titan-text-premier-v1:0",
)
PROBE_REGIONS = ("us-east-1", "us-west-2", "eu-central-1", "eu-west-3", "ap-northeast-1")
MALFORMED = (
    "ValidationException",
    "Malformed input request: #: extraneous key "
    "[max_tokens_to_sample] is not permitted, please reformat your input and try again.",
)
NO_ACCESS = (
    "AccessDeniedException",
    "You don't have access to the model with the specified model ID.",
)
RUNTIME = ("InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream")
IAM = "iam.amazonaws.com"
STS = "sts.amazonaws.com"


def _probe(ctx: Context, principal: AwsPrincipal, start: int, ip: str) -> int:
    """Validation: identity, model list, invalid-request probes across models and regions."""
    caller = ctx.aws_caller(principal, principal.key_id, ip, SDK_JS)
    account, emit, rng = principal.account, ctx.emit, ctx.rng
    channels.control_call(
        emit, account, "us-east-1", caller, start, rng, "GetCallerIdentity", source=STS
    )
    channels.control_call(
        emit, account, "us-east-1", caller, start + 4_000_000, rng, "ListFoundationModels"
    )
    t = start + 10_000_000
    for region in PROBE_REGIONS:
        for model in PROBE_MODELS:
            error = MALFORMED if ctx.rng.random() < 0.6 else NO_ACCESS
            channels.bedrock_call(
                emit, account, region, caller, principal.arn, t, rng, "InvokeModel", model, error
            )
            t += 1_000_000 + int(rng.random() * 3_000_000)
    channels.control_call(
        emit, account, "us-east-1", caller, t, rng, "GetModelInvocationLoggingConfiguration"
    )
    return t + 5_000_000


def _enable_models(ctx: Context, principal: AwsPrincipal, start: int, ip: str) -> int:
    """Model-access enablement with the stolen long-term key."""
    caller = ctx.aws_caller(principal, principal.key_id, ip, SDK_JS)
    model = "anthropic.claude-3-opus-20240229-v1:0"
    steps: tuple[tuple[str, dict[str, object] | None], ...] = (
        ("GetFoundationModelAvailability", {"modelId": model}),
        ("ListFoundationModelAgreementOffers", {"modelId": model}),
        ("PutUseCaseForModelAccess", {"formData": "HIDDEN_DUE_TO_SECURITY_REASONS"}),
        ("CreateFoundationModelAgreement", {"modelId": model, "offerToken": "HIDDEN"}),
        ("PutFoundationModelEntitlement", {"modelId": model}),
    )
    t = start
    for name, request in steps:
        channels.control_call(
            ctx.emit, principal.account, "us-east-1", caller, t, ctx.rng, name, request
        )
        t += 8_000_000 + int(ctx.rng.random() * 20_000_000)
    return t


def _sustained(
    ctx: Context,
    principal: AwsPrincipal,
    key_id: str,
    window: tuple[int, int],
    ips: list[str],
    per_hour: int,
) -> None:
    """Resold, around-the-clock generation from proxy networks."""
    start, end = window
    callers = [ctx.aws_caller(principal, key_id, ip, ua) for ip in ips for ua in (SDK_JS, BOTO3)]
    models = ("anthropic.claude-3-opus-20240229-v1:0", "anthropic.claude-3-5-sonnet-20240620-v1:0")
    for us in ctx.times(start, end - start, per_hour * max(1, (end - start) // HOUR)):
        error = (
            ("ThrottlingException", "Too many requests, please wait before trying again.")
            if ctx.rng.random() < 0.04
            else None
        )
        channels.bedrock_call(
            ctx.emit,
            principal.account,
            "us-east-1",
            ctx.pick(callers),
            principal.arn,
            us,
            ctx.rng,
            ctx.pick(RUNTIME),
            ctx.pick(models),
            error,
        )


def bedrock_llmjacking(ctx: Context) -> PlaybookLabel:
    """A leaked AKIA key: probes, logging check, model enablement, then sustained invocation."""
    plan = ctx.plan
    victim = ctx.world.principal("ds-batch")
    start = plan.at(0.35)
    networks = ctx.networks(4)
    ips = ctx.hosts(networks, 2)
    t = _probe(ctx, victim, start, ips[0])
    t = _enable_models(ctx, victim, t + 3 * MINUTE, ips[0])
    end = min(plan.end_us, t + max(4 * HOUR, int((plan.end_us - plan.start_us) * 0.3)))
    _sustained(ctx, victim, victim.key_id, (t + 10 * MINUTE, end), ips[2:], 50)
    return PlaybookLabel(
        "bedrock-llmjacking",
        "attack",
        "Leaked long-term key: ValidationException probes across models and regions, logging "
        "check, model-access enablement, then sustained invocation from new networks.",
        from_us(start),
        from_us(end),
        {
            "credential_ids": (victim.key_id,),
            "principals": (victim.arn,),
            "accounts": (victim.account.account_id,),
            "ips": tuple(ips),
            "networks": tuple(cidr(n) for n in networks),
            "user_agents": (SDK_JS, BOTO3),
            "regions": PROBE_REGIONS,
        },
    )


def _iam(
    ctx: Context,
    caller: render_aws.Caller,
    us: int,
    name: str,
    request: dict[str, object],
    error: tuple[str, str] | None = None,
) -> None:
    channels.control_call(
        ctx.emit,
        ctx.world.principal("ml-ops-ci").account,
        "us-east-1",
        caller,
        us,
        ctx.rng,
        name,
        request,
        error,
        IAM,
    )


def iam_persistence(ctx: Context) -> PlaybookLabel:
    """After AI activity, the key creates a user with keys, console login and admin policy."""
    plan, rng = ctx.plan, ctx.rng
    victim = ctx.world.principal("ml-ops-ci")
    account = victim.account
    start = plan.at(0.55)
    networks = ctx.networks(2)
    ips = ctx.hosts(networks, 1)
    caller = ctx.aws_caller(victim, victim.key_id, ips[0], BOTO3)
    channels.control_call(
        ctx.emit, account, "us-east-1", caller, start, rng, "ListFoundationModels"
    )
    for i in range(5):
        channels.bedrock_call(
            ctx.emit,
            account,
            "us-east-1",
            caller,
            victim.arn,
            start + (i + 1) * 30_000_000,
            rng,
            "InvokeModel",
            PROBE_MODELS[2],
        )
    new_user = random_user_name(rng)
    new_key = aws_key_id(rng)
    t = start + 12 * MINUTE
    key_response = {
        "accessKey": {
            "userName": new_user,
            "accessKeyId": new_key,
            "status": "Active",
            "createDate": iso_seconds(t),
        }
    }
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    _iam(ctx, caller, t, "CreateUser", {"userName": new_user})
    channels.control_call(
        ctx.emit,
        account,
        "us-east-1",
        caller,
        t + 3_000_000,
        rng,
        "CreateAccessKey",
        {"userName": new_user},
        source=IAM,
        response=key_response,
    )
    _iam(
        ctx,
        caller,
        t + 6_000_000,
        "CreateLoginProfile",
        {"userName": new_user, "passwordResetRequired": False},
    )
    _iam(ctx, caller, t + 9_000_000, "AttachUserPolicy", {"userName": new_user, "policyArn": admin})
    quarantine_at = t + 50 * MINUTE
    aws_internal = render_aws.Caller(
        render_aws.AWS_INTERNAL_IDENTITY, account.account_id, "AWS Internal", "AWS Internal"
    )
    quarantine = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"
    _iam(
        ctx,
        aws_internal,
        quarantine_at,
        "AttachUserPolicy",
        {"userName": victim.name, "policyArn": quarantine},
    )
    denied = (
        "AccessDenied",
        f"User: {victim.arn} is not authorized to perform: iam:CreateUser "
        "with an explicit deny in an identity-based policy",
    )
    _iam(
        ctx,
        caller,
        quarantine_at + 20 * MINUTE,
        "CreateUser",
        {"userName": random_user_name(rng)},
        denied,
    )
    created = AwsPrincipal(
        account, new_user, "IAMUser", new_key, "AIDA" + token(rng, ALNUM.upper(), 17)
    )
    end = min(plan.end_us, quarantine_at + 4 * HOUR)
    _sustained(ctx, created, new_key, (quarantine_at + 25 * MINUTE, end), ips, 30)
    return PlaybookLabel(
        "iam-persistence",
        "attack",
        "After AI activity a stolen key creates an IAM user (random name), an access key, a "
        "console login and an admin policy; AWS quarantines the key; the new key keeps working.",
        from_us(start),
        from_us(end),
        {
            "credential_ids": (victim.key_id, new_key),
            "principals": (victim.arn, created.arn),
            "accounts": (account.account_id,),
            "ips": tuple(ips),
            "networks": tuple(cidr(n) for n in networks),
            "created_users": (new_user,),
            "policies": (admin, quarantine),
        },
    )


def _azure_tampering(ctx: Context, us: int, ip: str) -> str:
    """A compromised admin deletes diagnostic settings and weakens the content filter."""
    world = ctx.world
    person = world.people[2]
    res = world.resource("nwl-openai-prod-eus")
    claims = render_azure.user_claims(person, world.tenant_id, ip)
    scope = res.resource_id.lower()
    policy = {
        "properties": {
            "mode": "Default",
            "basePolicyName": "Microsoft.Default",
            "contentFilters": [
                {
                    "name": c,
                    "blocking": False,
                    "enabled": False,
                    "severityThreshold": "High",
                    "source": s,
                }
                for c in ("hate", "sexual", "violence", "selfharm")
                for s in ("Prompt", "Completion")
            ],
        }
    }
    steps = (
        (
            f"{scope}/providers/microsoft.insights/diagnosticSettings/send-to-storage",
            "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
            None,
        ),
        (
            f"{scope}/raiPolicies/relaxed",
            "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/RAIPOLICIES/WRITE",
            {"requestbody": json.dumps(policy)},
        ),
    )
    for i, (target, operation, extra) in enumerate(steps):
        channels.activity_call(
            ctx.emit,
            us + i * 90_000_000,
            ctx.rng,
            res.subscription,
            target,
            operation,
            (claims, ip),
            extra,
        )
    return person.upn


def logging_tampering(ctx: Context) -> PlaybookLabel:
    """Defense evasion: invocation logging and a guardrail deleted; Azure logging, filters off."""
    plan, rng = ctx.plan, ctx.rng
    admin = ctx.world.principal("platform-admin")
    account = admin.account
    start = plan.at(0.80)
    networks = ctx.networks(1)
    ips = ctx.hosts(networks, 2)
    caller = ctx.aws_caller(admin, admin.key_id, ips[0], BOTO3)
    guardrail = token(rng, "abcdefghijklmnopqrstuvwxyz0123456789", 12)
    steps: tuple[tuple[str, dict[str, object] | None], ...] = (
        ("GetModelInvocationLoggingConfiguration", None),
        ("DeleteModelInvocationLoggingConfiguration", None),
        ("ListGuardrails", None),
        ("DeleteGuardrail", {"guardrailIdentifier": guardrail}),
    )
    for i, (name, request) in enumerate(steps):
        channels.control_call(
            ctx.emit, account, "us-east-1", caller, start + i * 40_000_000, rng, name, request
        )
    person = _azure_tampering(ctx, start + 15 * MINUTE, ips[1])
    return PlaybookLabel(
        "logging-tampering",
        "attack",
        "Invocation logging and a guardrail deleted with a long-term key from a new network; "
        "Azure diagnostic settings deleted and a content-filter policy weakened.",
        from_us(start),
        from_us(start + 20 * MINUTE),
        {
            "credential_ids": (admin.key_id,),
            "principals": (admin.arn, person),
            "accounts": (account.account_id,),
            "resources": (ctx.world.resource("nwl-openai-prod-eus").resource_id,),
            "ips": tuple(ips),
            "networks": tuple(cidr(n) for n in networks),
        },
        details={"guardrail": guardrail},
    )
