"""Building Northwind Labs from a seed: resources, accounts, keys, people and apps."""

from __future__ import annotations

from random import Random

from stormwatch.simulate.identifiers import (
    ALNUM,
    aws_account_id,
    aws_key_id,
    host,
    token,
    uuid4,
)
from stormwatch.simulate.world import (
    CHAT,
    CLAUDE,
    DOMAIN,
    EMBED,
    HAIKU,
    IMAGE,
    TITAN_EMBED,
    ApimService,
    App,
    AwsAccount,
    AwsPrincipal,
    AzureResource,
    Deployment,
    GatewayKey,
    Person,
    World,
)


def _azure(rng: Random, subs: tuple[str, str]) -> tuple[AzureResource, ...]:
    prod = AzureResource(
        "nwl-openai-prod-eus",
        subs[0],
        "rg-ai-prod",
        "eastus",
        (
            Deployment("gpt-4o-chat", "gpt-4o", "2024-08-06", CHAT),
            Deployment("gpt-4o-mini", "gpt-4o-mini", "2024-07-18", CHAT),
            Deployment("text-embed", "text-embedding-3-large", "1", EMBED),
            Deployment("gpt-41-chat", "gpt-4.1", "2025-04-14", CHAT),
        ),
        "storage",
        False,
    )
    research = AzureResource(
        "nwl-openai-research-swc",
        subs[1],
        "rg-research-ai",
        "swedencentral",
        (
            Deployment("gpt-4o-mini", "gpt-4o-mini", "2024-07-18", CHAT),
            Deployment("o3-mini", "o3-mini", "2025-01-31", CHAT),
            Deployment("dalle3", "dall-e-3", "3.0", IMAGE),
        ),
        "eventhub",
        True,
    )
    dev = AzureResource(
        "nwl-aoai-dev-weu",
        subs[1],
        "rg-dev-ai",
        "westeurope",
        (Deployment("gpt-4o-mini-dev", "gpt-4o-mini", "2024-07-18", CHAT),),
        "storage",
        True,
    )
    return prod, research, dev


def _apps(
    azure: tuple[AzureResource, ...], rng: Random, office: tuple[str, ...]
) -> tuple[App, ...]:
    prod, research, dev = azure
    app_ips = tuple(host("203.0.113", rng) for _ in range(4))
    gpt_mini = Deployment("gpt-4o-mini", "gpt-4o-mini", "", "chat")
    gpt_4o = Deployment("gpt-4o", "gpt-4o", "", "chat")
    office_hosts = tuple(host(net, rng) for net in office for _ in range(3))
    return (
        App(
            "support-bot",
            "apim",
            prod.name,
            app_ips[:2],
            "NorthwindSupport/2.3 openai-python/1.40.6",
            500,
            True,
            (prod.deployment("gpt-4o-chat"),),
            "support-bot-prod",
        ),
        App(
            "intranet-assistant",
            "apim",
            prod.name,
            (host("198.51.100", rng),),
            "IntranetAssistant/1.8 azsdk-net-AI.OpenAI/2.0.0",
            200,
            True,
            (prod.deployment("gpt-4o-mini"),),
            "intranet-assistant",
        ),
        App(
            "docs-search",
            "azure",
            prod.name,
            (app_ips[2],),
            "DocsIndexer/4.1",
            150,
            False,
            (prod.deployment("text-embed"),),
        ),
        App(
            "research-notebooks",
            "azure",
            research.name,
            office_hosts,
            "OpenAI/Python 1.51.0",
            120,
            True,
            (research.deployment("gpt-4o-mini"), research.deployment("o3-mini")),
        ),
        App(
            "dev-sandbox",
            "azure",
            dev.name,
            office_hosts[:2],
            "OpenAI/Python 1.51.0",
            60,
            True,
            dev.deployments,
        ),
        App(
            "claims-summarizer",
            "bedrock",
            "ml-platform",
            (app_ips[3],),
            "Boto3/1.34.162 md/Botocore#1.34.162 ua/2.0 os/linux#5.10 lang/python#3.11.9",
            350,
            True,
            (CLAUDE, TITAN_EMBED),
            principal="bedrock-app-role",
        ),
        App(
            "ds-batch",
            "bedrock",
            "ds-sandbox",
            office_hosts[:3],
            "Boto3/1.35.10 md/Botocore#1.35.10 ua/2.0 os/macos#23.5.0 lang/python#3.12.4",
            40,
            True,
            (HAIKU,),
            principal="ds-batch",
        ),
        App(
            "research-etl",
            "bedrock",
            "research",
            (app_ips[3],),
            "aws-sdk-java/2.25.60 Linux/5.10 OpenJDK_64-Bit_Server_VM/21.0.3",
            60,
            False,
            (TITAN_EMBED, HAIKU),
            principal="research-etl-role",
        ),
        App(
            "web-app",
            "litellm",
            "web-app",
            app_ips[:2],
            "NorthwindWeb/5.2 openai-node/4.52.0",
            300,
            True,
            (gpt_mini, gpt_4o),
        ),
        App(
            "analytics",
            "litellm",
            "analytics",
            office_hosts,
            "MyApp/2.3 openai-python/1.40.6",
            80,
            False,
            (gpt_mini,),
        ),
        App(
            "ci-loadtest",
            "litellm",
            "ci-loadtest",
            (host("198.51.100", rng),),
            "NorthwindCI/1.0 python-httpx/0.27.0",
            5,
            True,
            (gpt_mini,),
        ),
        App(
            "partner-portal",
            "litellm",
            "partner-portal",
            (app_ips[1],),
            "PartnerPortal/3.0 openai-python/1.40.6",
            60,
            True,
            (gpt_mini,),
        ),
        App(
            "hackathon-demo",
            "litellm",
            "hackathon-demo",
            office_hosts[:2],
            "OpenAI/Python 1.51.0",
            3,
            True,
            (gpt_mini,),
        ),
    )


def build_world(seed: int) -> World:
    """The organisation for ``seed``; identical seeds give identical worlds."""
    rng = Random(f"{seed}:world")
    subs = (uuid4(rng), uuid4(rng))
    prod, research, dev = _azure(rng, subs)
    office = ("192.0.2", "198.51.100")
    apim = ApimService(
        "nwl-apim-prod", subs[0], "rg-ai-prod", "East US", host("203.0.113", rng), prod
    )
    aws = (
        AwsAccount("ml-platform", aws_account_id(rng), ("us-east-1", "us-west-2"), "s3", True),
        AwsAccount("ds-sandbox", aws_account_id(rng), ("us-east-1",), "s3", True),
        AwsAccount("research", aws_account_id(rng), ("eu-central-1",), "siem", False),
    )
    principals = (
        AwsPrincipal(
            aws[0],
            "bedrock-app-role",
            "AssumedRole",
            aws_key_id(rng, "ASIA"),
            "AROA" + token(rng, ALNUM.upper(), 17),
        ),
        AwsPrincipal(
            aws[0],
            "platform-admin",
            "IAMUser",
            aws_key_id(rng),
            "AIDA" + token(rng, ALNUM.upper(), 17),
        ),
        AwsPrincipal(
            aws[0], "ml-ops-ci", "IAMUser", aws_key_id(rng), "AIDA" + token(rng, ALNUM.upper(), 17)
        ),
        AwsPrincipal(
            aws[1], "ds-batch", "IAMUser", aws_key_id(rng), "AIDA" + token(rng, ALNUM.upper(), 17)
        ),
        AwsPrincipal(
            aws[2],
            "research-etl-role",
            "AssumedRole",
            aws_key_id(rng, "ASIA"),
            "AROA" + token(rng, ALNUM.upper(), 17),
        ),
        AwsPrincipal(
            aws[2],
            "demo-notebook",
            "IAMUser",
            aws_key_id(rng),
            "AIDA" + token(rng, ALNUM.upper(), 17),
        ),
        AwsPrincipal(
            aws[1],
            "backup-reader",
            "IAMUser",
            aws_key_id(rng),
            "AIDA" + token(rng, ALNUM.upper(), 17),
        ),
    )
    keys = tuple(
        GatewayKey(alias, team, "sk-" + token(rng, ALNUM, 22))
        for alias, team in (
            ("web-app", "product"),
            ("analytics", "data"),
            ("ci-loadtest", "platform"),
            ("partner-portal", "partners"),
            ("hackathon-demo", "devrel"),
        )
    )
    people = tuple(
        Person(
            name,
            f"{name}@{DOMAIN}",
            uuid4(rng),
            host(office[i % 2], rng),
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36",
        )
        for i, name in enumerate(("a.okafor", "j.lindqvist", "m.tanaka", "r.alvarez"))
    )
    automation = Person(
        "kv-key-rotation",
        "",
        uuid4(rng),
        host("203.0.113", rng),
        "azsdk-python-mgmt-cognitiveservices/13.5.0 Python/3.11.9",
    )
    return World(
        tenant_id=uuid4(rng),
        azure=(prod, research, dev),
        apim=apim,
        aws=aws,
        principals=principals,
        gateway_keys=keys,
        apps=_apps((prod, research, dev), rng, office),
        people=people,
        automation=automation,
        openai_org="org-" + token(rng, ALNUM, 24),
        office_networks=office,
        new_office_ip=host("198.51.100", rng),
        gateway_name="llm-gateway.northwindlabs.example",
    )
