"""Verifier specs as data: each provider's cheapest read-only call and how to read its answer.

Every spec names the official origin of the provider, the path of a call that reads and never
writes or bills (list models, who-am-i), how the key travels, and which status codes decide. A
status that is in neither ``live`` nor ``dead`` (429, 5xx, a redirect, a 403 that may only mean
"this key lacks a permission"), a timeout or a network error leaves the key ``unknown``: a key
is called ``dead`` only when the answer cannot come from a working key.

``source`` records where each endpoint and its statuses were checked, so a maintainer can check
them again when a provider changes its API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

AZURE_HOST = re.compile(
    r"^[a-z0-9-]+\.(openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$"
)


@dataclass(frozen=True)
class VerifierSpec:
    """How to ask one provider whether a key works.

    ``base_url`` is the provider's official origin; ``None`` means the host comes from the finding
    (Azure resources have their own host) and must match ``AZURE_HOST``. The key is sent in
    ``key_header`` as ``key_prefix + key``, next to the fixed ``headers``.
    """

    base_url: str | None
    path: str
    source: str
    key_header: str = "Authorization"
    key_prefix: str = "Bearer "
    headers: tuple[tuple[str, str], ...] = ()
    live: frozenset[int] = frozenset({200})
    dead: frozenset[int] = frozenset({401})


def _keyed(
    base_url: str | None,
    path: str,
    header: str,
    source: str,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    dead: frozenset[int] = frozenset({401}),
) -> VerifierSpec:
    """A spec whose key travels bare in its own header (no ``Bearer``)."""
    return VerifierSpec(
        base_url, path, source, key_header=header, key_prefix="", headers=headers, dead=dead
    )


_ANTHROPIC_VERSION = (("anthropic-version", "2023-06-01"),)

# Google answers 400 API_KEY_INVALID for a key that does not exist; 403 means the key exists but
# may not call this API (not enabled, restricted, or blocked as leaked), so it stays unknown.
_GOOGLE = _keyed(
    "https://generativelanguage.googleapis.com",
    "/v1beta/models?pageSize=1",
    "x-goog-api-key",
    "ai.google.dev/api/rest/v1beta/models/list; TruffleHog googlegemini (400 = invalid key)",
    dead=frozenset({400}),
)

VERIFIERS: Mapping[str, VerifierSpec] = MappingProxyType(
    {
        # A restricted OpenAI key without the model-read scope also answers 401 here.
        "openai": VerifierSpec(
            "https://api.openai.com",
            "/v1/models",
            "developers.openai.com/api/reference (models list); TruffleHog openai",
        ),
        "openai-admin": VerifierSpec(
            "https://api.openai.com",
            "/v1/organization/projects?limit=1",
            "developers.openai.com/api/reference (organization projects list, admin keys)",
        ),
        "anthropic": _keyed(
            "https://api.anthropic.com",
            "/v1/models?limit=1",
            "x-api-key",
            "platform.claude.com/docs/en/api/models-list",
            headers=_ANTHROPIC_VERSION,
        ),
        "anthropic-admin": _keyed(
            "https://api.anthropic.com",
            "/v1/organizations/me",
            "x-api-key",
            "platform.claude.com/docs/en/api/admin/organizations/me",
            headers=_ANTHROPIC_VERSION,
        ),
        "google": _GOOGLE,
        "gemini": _GOOGLE,
        "huggingface": VerifierSpec(
            "https://huggingface.co",
            "/api/whoami-v2",
            "huggingface.js hub whoAmI (/api/whoami-v2)",
        ),
        "replicate": VerifierSpec(
            "https://api.replicate.com",
            "/v1/account",
            "Replicate HTTP API: account.get (GET /v1/account)",
        ),
        "groq": VerifierSpec(
            "https://api.groq.com",
            "/openai/v1/models",
            "Groq API reference: models list (OpenAI-compatible)",
        ),
        # xAI answers 400 "incorrect API key" as well as 401.
        "xai": VerifierSpec(
            "https://api.x.ai",
            "/v1/models",
            "xAI REST API reference (models, api-key: 400 for an invalid key); TruffleHog xai",
            dead=frozenset({400, 401}),
        ),
        "openrouter": VerifierSpec(
            "https://openrouter.ai",
            "/api/v1/key",
            "openrouter.ai/docs/api/api-reference/api-keys/get-current-api-key; TruffleHog",
        ),
        "together": VerifierSpec(
            "https://api.together.xyz",
            "/v1/models",
            "docs.together.ai/reference/models (Bearer required)",
        ),
        # ElevenLabs answers 401 "missing_permissions" to a working key without user_read, so a
        # 401 cannot tell a dead key from a restricted live one: only 200 decides.
        "elevenlabs": _keyed(
            "https://api.elevenlabs.io",
            "/v1/user",
            "xi-api-key",
            "ElevenLabs API: GET /v1/user; TruffleHog elevenlabs v2 (missing_permissions)",
            dead=frozenset(),
        ),
        "mistral": VerifierSpec(
            "https://api.mistral.ai",
            "/v1/models",
            "Mistral API reference: models list",
        ),
        # check-api-key is a POST; the models list is the read-only GET.
        "cohere": VerifierSpec(
            "https://api.cohere.com",
            "/v1/models?page_size=1",
            "docs.cohere.com/v1/reference/list-models (check-api-key is POST)",
        ),
        "deepseek": VerifierSpec(
            "https://api.deepseek.com",
            "/models",
            "api-docs.deepseek.com/api/list-models; TruffleHog deepseek (/user/balance)",
        ),
        # Pinecone answers 403 to a working key without control-plane rights.
        "pinecone": _keyed(
            "https://api.pinecone.io",
            "/indexes",
            "Api-Key",
            "Pinecone API: list indexes; TruffleHog pinecone (403 = valid but restricted)",
            headers=(("X-Pinecone-API-Version", "2025-04"),),
        ),
        "azure-openai": _keyed(
            None,
            "/openai/models?api-version=2024-10-21",
            "api-key",
            "learn.microsoft.com/rest/api/azureopenai/models/list (2024-10-21)",
        ),
    }
)

# Providers a rule may name but that are deliberately not verified, with the reason.
UNVERIFIABLE: Mapping[str, str] = MappingProxyType(
    {
        "aws": "AWS keys need SigV4-signed requests, which the standard library does not make",
        "bedrock": "Bedrock API keys are regional and the region is not known from the key",
        "nvidia": "the documented key check (NGC get-caller-info) is a POST",
        "perplexity": "no documented read-only call; a chat completion would bill the owner",
    }
)


def azure_host(endpoint: str | None) -> str | None:
    """The Azure AI host an endpoint from the scanned file names, or None if it names none.

    Only a plain host (no user, no port) under an Azure AI domain passes: the key is then sent to
    that host over https, never to any other host the file mentions.
    """
    if not endpoint:
        return None
    text = endpoint.strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    netloc = parts.netloc.lower()
    if parts.scheme.lower() not in ("https", "http") or not AZURE_HOST.fullmatch(netloc):
        return None
    return netloc
