"""The fictional organisation "Northwind Labs": its cloud resources, keys, apps and people.

Everything is drawn from the seed, so two runs with the same seed describe the same company.
The world is plain frozen data; the background and playbook modules decide what happens in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from stormwatch.simulate.identifiers import (
    sha256_hex,
)

ORGANISATION = "Northwind Labs"
DOMAIN = "northwindlabs.example"


@dataclass(frozen=True)
class Deployment:
    """An Azure OpenAI deployment (or a Bedrock / gateway model when ``version`` is empty)."""

    name: str
    model: str
    version: str
    operation: str


@dataclass(frozen=True)
class AzureResource:
    """An Azure OpenAI account and how its diagnostic logs leave Azure."""

    name: str
    subscription: str
    resource_group: str
    location: str
    deployments: tuple[Deployment, ...]
    pipeline: str  # "storage" (PT1H.json) or "eventhub" ({"records": [...]} batches)
    properties_as_string: bool

    @cached_property
    def resource_id(self) -> str:
        """Upper-case ARM id, as diagnostic logs print it."""
        return (
            f"/SUBSCRIPTIONS/{self.subscription.upper()}/RESOURCEGROUPS/"
            f"{self.resource_group.upper()}/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/"
            f"{self.name.upper()}"
        )

    def deployment(self, name: str) -> Deployment:
        """The deployment called ``name``."""
        return next(d for d in self.deployments if d.name == name)


@dataclass(frozen=True)
class ApimService:
    """Azure API Management in front of one Azure OpenAI resource."""

    name: str
    subscription: str
    resource_group: str
    location: str
    egress_ip: str
    backend: AzureResource

    @cached_property
    def resource_id(self) -> str:
        """Upper-case ARM id of the APIM service."""
        return (
            f"/SUBSCRIPTIONS/{self.subscription.upper()}/RESOURCEGROUPS/"
            f"{self.resource_group.upper()}/PROVIDERS/MICROSOFT.APIMANAGEMENT/SERVICE/"
            f"{self.name.upper()}"
        )


@dataclass(frozen=True)
class AwsAccount:
    """An AWS account, its Bedrock regions and where its CloudTrail goes."""

    alias: str
    account_id: str
    regions: tuple[str, ...]
    delivery: str  # "s3" (gz Records files) or "siem" (one event per line)
    invocation_logging: bool


@dataclass(frozen=True)
class AwsPrincipal:
    """An IAM user (long-term AKIA key) or role (ASIA session keys)."""

    account: AwsAccount
    name: str
    kind: str  # "IAMUser" or "AssumedRole"
    key_id: str
    principal_id: str

    @property
    def arn(self) -> str:
        """The principal's ARN (session ARN for a role)."""
        if self.kind == "IAMUser":
            return f"arn:aws:iam::{self.account.account_id}:user/{self.name}"
        return f"arn:aws:sts::{self.account.account_id}:assumed-role/{self.name}/{self.name}-app"


@dataclass(frozen=True)
class GatewayKey:
    """A LiteLLM virtual key: the raw value never appears in logs, only its SHA-256."""

    alias: str
    team: str
    secret: str

    @cached_property
    def key_hash(self) -> str:
        """What LiteLLM writes in ``api_key``."""
        return sha256_hex(self.secret)


@dataclass(frozen=True)
class Person:
    """A human or automation identity in Entra ID / OpenAI."""

    name: str
    upn: str
    object_id: str
    ip: str
    user_agent: str


@dataclass(frozen=True)
class App:
    """A benign workload: where it sends requests, from where, how often, with which models."""

    name: str
    channel: str  # "apim", "azure", "bedrock", "litellm"
    target: str  # resource / account alias / gateway key alias
    ips: tuple[str, ...]
    user_agent: str
    peak_per_hour: float
    office_hours: bool
    models: tuple[Deployment, ...]
    apim_subscription: str = ""
    principal: str = ""


@dataclass(frozen=True)
class World:
    """The whole organisation."""

    tenant_id: str
    azure: tuple[AzureResource, ...]
    apim: ApimService
    aws: tuple[AwsAccount, ...]
    principals: tuple[AwsPrincipal, ...]
    gateway_keys: tuple[GatewayKey, ...]
    apps: tuple[App, ...]
    people: tuple[Person, ...]
    automation: Person
    openai_org: str
    office_networks: tuple[str, ...]
    new_office_ip: str
    gateway_name: str

    def resource(self, name: str) -> AzureResource:
        """Azure resource by name."""
        return next(r for r in self.azure if r.name == name)

    def account(self, alias: str) -> AwsAccount:
        """AWS account by alias."""
        return next(a for a in self.aws if a.alias == alias)

    def principal(self, name: str) -> AwsPrincipal:
        """AWS principal by name."""
        return next(p for p in self.principals if p.name == name)

    def gateway_key(self, alias: str) -> GatewayKey:
        """LiteLLM key by alias."""
        return next(k for k in self.gateway_keys if k.alias == alias)

    def app(self, name: str) -> App:
        """Benign app by name."""
        return next(a for a in self.apps if a.name == name)


CHAT = "ChatCompletions_Create"
EMBED = "Embeddings_Create"
IMAGE = "ImageGenerations_Create"
CLAUDE = Deployment("claude", "anthropic.claude-3-5-sonnet-20240620-v1:0", "", "InvokeModel")
HAIKU = Deployment("haiku", "anthropic.claude-3-haiku-20240307-v1:0", "", "Converse")
TITAN_EMBED = Deployment("titan", "amazon.titan-embed-text-v2:0", "", "InvokeModel")
NEW_CLAUDE = Deployment("claude37", "anthropic.claude-3-7-sonnet-20250219-v1:0", "", "Converse")
