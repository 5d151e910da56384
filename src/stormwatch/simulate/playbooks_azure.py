"""Attack playbooks on Azure OpenAI, API Management and the LiteLLM gateway."""

from __future__ import annotations

from stormwatch.simulate import channels, render_azure, render_gateway
from stormwatch.simulate.attack import HOUR, MINUTE, PROXY_UAS, Context, cidr
from stormwatch.simulate.identifiers import ALNUM, mask_ip, sha256_hex, token
from stormwatch.simulate.model import PlaybookLabel
from stormwatch.simulate.plan import from_us

BLOCKED = render_azure.filter_results({"sexual": "high"}, jailbreak=False)
JAILBREAK = render_azure.filter_results({"violence": "medium"}, jailbreak=True)
BORDERLINE = render_azure.filter_results({"sexual": "low"}, jailbreak=False)


def _steal_key(ctx: Context, us: int, ip: str) -> str:
    """A compromised Entra user lists the research resource's keys from the attacker network."""
    world = ctx.world
    person = world.people[3]
    res = world.resource("nwl-openai-research-swc")
    claims = render_azure.user_claims(person, world.tenant_id, ip)
    operation = "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION"
    scope = res.resource_id.lower()
    channels.activity_call(ctx.emit, us, ctx.rng, res.subscription, scope, operation, (claims, ip))
    t = us + 1_500_000
    line = render_azure.audit(res, t, "ListKey", mask_ip(ip), ctx.rng.uuid(), person.object_id)
    ctx.emit(channels.azure_key(res, "Audit", t), t, line)
    return person.upn


def _direct_abuse(ctx: Context, start: int, end: int, ips: list[str]) -> None:
    """Around-the-clock image and chat generation straight on the research resource."""
    res = ctx.world.resource("nwl-openai-research-swc")
    image, chat = res.deployment("dalle3"), res.deployment("gpt-4o-mini")
    hours = max(1, (end - start) // HOUR)
    for us in ctx.times(start, end - start, 45 * hours):
        ip = ctx.pick(ips)
        if ctx.rng.random() < 0.6:
            burst = ctx.rng.random() < 0.3
            status = 400 if burst else (429 if ctx.rng.random() < 0.05 else 200)
            channels.azure_call(ctx.emit, res, us, ctx.rng, image, status, ip)
        else:
            channels.azure_call(ctx.emit, res, us, ctx.rng, chat, 200, ip)
    for us in range(start, end, 5 * MINUTE):  # the proxy re-checks its keys
        channels.azure_call(
            ctx.emit, res, us, ctx.rng, chat, 200, ctx.pick(ips), "Deployments_List"
        )


def _apim_abuse(ctx: Context, start: int, end: int, ips: list[str]) -> None:
    """Resold chat access through a stolen APIM subscription: blocks, jailbreaks, rephrasing."""
    world = ctx.world
    app = world.app("intranet-assistant")
    deployment = world.resource(app.target).deployment("gpt-4o-mini")
    hours = max(1, (end - start) // HOUR)
    for n, us in enumerate(ctx.times(start, end - start, 30 * hours)):
        client = (ctx.pick(ips), ctx.pick(PROXY_UAS), app.apim_subscription)
        r = ctx.rng.random()
        if r < 0.35:
            filters = JAILBREAK if r < 0.1 else BLOCKED
            channels.apim_call(
                ctx.emit,
                world.apim,
                us,
                ctx.rng,
                client,
                deployment,
                400,
                f"[prompt withheld {n}]",
                filters,
            )
            for retry in range(1 + int(ctx.rng.random() * 3)):  # rephrase and retry
                t = us + (retry + 1) * (5 + int(ctx.rng.random() * 35)) * 1_000_000
                ok = retry == 2 or ctx.rng.random() < 0.3
                channels.apim_call(
                    ctx.emit,
                    world.apim,
                    t,
                    ctx.rng,
                    client,
                    deployment,
                    200 if ok else 400,
                    f"[prompt withheld {n} rephrased {retry}]",
                    BORDERLINE if ok else BLOCKED,
                )
        else:
            channels.apim_call(
                ctx.emit,
                world.apim,
                us,
                ctx.rng,
                client,
                deployment,
                200,
                f"[prompt withheld {n}]",
                BORDERLINE if r < 0.5 else "",
            )


def azure_proxy_abuse(ctx: Context) -> PlaybookLabel:
    """Stolen Azure keys resold through a reverse proxy (Storm-2139 style)."""
    plan = ctx.plan
    start = plan.at(0.45)
    end = min(plan.end_us, start + max(6 * HOUR, int((plan.end_us - plan.start_us) * 0.35)))
    networks = ctx.networks(3)
    ips = ctx.hosts(networks, 2)
    principal = _steal_key(ctx, start - 20 * MINUTE, ips[0])
    _direct_abuse(ctx, start, end, ips)
    _apim_abuse(ctx, start + 10 * MINUTE, end, ips[2:])
    world = ctx.world
    return PlaybookLabel(
        "azure-proxy-abuse",
        "attack",
        "Stolen Azure OpenAI key and APIM subscription used by a reverse proxy from new networks: "
        "around-the-clock image generation, content-filter block bursts, jailbreaks, retries.",
        from_us(start - 20 * MINUTE),
        from_us(end),
        {
            "credential_ids": (
                "apim-subscription:" + world.app("intranet-assistant").apim_subscription,
            ),
            "resources": (
                world.resource("nwl-openai-research-swc").resource_id,
                world.apim.resource_id,
            ),
            "ips": tuple(ips),
            "networks": tuple(cidr(n) for n in networks),
            "principals": (principal,),
            "user_agents": PROXY_UAS,
        },
    )


def key_checker_sweep(ctx: Context) -> PlaybookLabel:
    """One network tries many credentials: tiny requests, mostly failing."""
    world, rng = ctx.world, ctx.rng
    start = ctx.plan.at(0.30)
    network = ctx.networks(1)
    ips = ctx.hosts(network, 2)
    ua = "python-requests/2.32.3"
    tried = ["sk-" + token(rng, ALNUM, 22) for _ in range(150)]
    valid = world.gateway_key("web-app")
    times = ctx.times(start, 40 * MINUTE, len(tried) + 1)
    for us, secret in zip(times, [*tried, valid.secret], strict=True):
        key_hash = sha256_hex(secret)
        caller = render_gateway.GatewayCaller(key_hash, "", "", ctx.pick(ips), ua)
        status = 200 if key_hash == valid.key_hash else 401
        channels.gateway_call(ctx.emit, us, rng, caller, "gpt-4o-mini", status, "hi", (5, 1))
    deployment = world.resource("nwl-openai-prod-eus").deployment("gpt-4o-mini")
    for n, us in enumerate(ctx.times(start + 5 * MINUTE, 30 * MINUTE, 60)):
        client = (ctx.pick(ips), ua, "")
        channels.apim_call(ctx.emit, world.apim, us, rng, client, deployment, 401, f"hi {n}")
    dev = world.resource("nwl-aoai-dev-weu")
    for n, us in enumerate(ctx.times(start + 10 * MINUTE, 25 * MINUTE, 45)):
        status = 200 if n % 15 == 14 else 401
        operation = "Deployments_List" if n % 15 == 13 else ""
        channels.azure_call(
            ctx.emit, dev, us, rng, dev.deployments[0], status, ctx.pick(ips), operation
        )
    return PlaybookLabel(
        "key-checker-sweep",
        "attack",
        "A key checker on one network tests many credentials on the gateway, APIM and Azure.",
        from_us(start),
        from_us(start + 40 * MINUTE),
        {
            "credential_ids": (valid.key_hash,),
            "resources": (world.apim.resource_id, dev.resource_id, world.gateway_name),
            "ips": tuple(ips),
            "networks": tuple(cidr(n) for n in network),
            "user_agents": (ua,),
        },
        details={"credentials_tried": str(len(tried) + 1 + 60 + 45)},
    )


def wallet_abuse(ctx: Context) -> PlaybookLabel:
    """Many identical, expensive requests on one gateway key: a cost ("wallet") attack."""
    world, rng = ctx.world, ctx.rng
    start = ctx.plan.at(0.65)
    key = world.gateway_key("partner-portal")
    network = ctx.networks(1)
    ips = ctx.hosts(network, 2)
    ua = world.app("partner-portal").user_agent
    body = "Write a 3000-word report on topic 7."
    for us in ctx.times(start, 2 * HOUR, 2400):
        caller = render_gateway.GatewayCaller.of(key, ctx.pick(ips), ua)
        status = 429 if rng.random() < 0.03 else 200
        tokens = (12, 3500 + int(rng.random() * 600))
        channels.gateway_call(ctx.emit, us, rng, caller, "gpt-4o", status, body, tokens)
    return PlaybookLabel(
        "wallet-abuse",
        "attack",
        "Volume and cost spike of duplicate identical requests on one gateway key.",
        from_us(start),
        from_us(start + 2 * HOUR),
        {
            "credential_ids": (key.key_hash,),
            "resources": (world.gateway_name,),
            "ips": tuple(ips),
            "networks": tuple(cidr(n) for n in network),
        },
        details={"duplicate_prompt": body, "key_alias": key.alias},
    )
