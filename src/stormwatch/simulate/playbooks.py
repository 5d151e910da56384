"""The registry of attack playbooks: scenario name → function that injects it."""

from __future__ import annotations

from collections.abc import Callable

from stormwatch.simulate.attack import Context
from stormwatch.simulate.model import PlaybookLabel
from stormwatch.simulate.playbooks_aws import bedrock_llmjacking, iam_persistence, logging_tampering
from stormwatch.simulate.playbooks_azure import azure_proxy_abuse, key_checker_sweep, wallet_abuse
from stormwatch.simulate.playbooks_exposure import canary_use, exposed_key_use
from stormwatch.simulate.playbooks_openai import openai_session_takeover

Playbook = Callable[[Context], PlaybookLabel]

PLAYBOOKS: dict[str, Playbook] = {
    "azure-proxy-abuse": azure_proxy_abuse,
    "bedrock-llmjacking": bedrock_llmjacking,
    "iam-persistence": iam_persistence,
    "key-checker-sweep": key_checker_sweep,
    "canary-use": canary_use,
    "wallet-abuse": wallet_abuse,
    "logging-tampering": logging_tampering,
    "exposed-key-use": exposed_key_use,
    "openai-session-takeover": openai_session_takeover,
}
