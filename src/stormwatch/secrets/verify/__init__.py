"""Opt-in verification of found keys: does the provider still accept them?

Defensive by construction: a key is sent only to its provider's official host (the registry in
``VERIFIERS``), with the cheapest read-only call, paced per host, capped per run, and with a
timeout. Azure keys go only to an Azure AI host named next to them; AWS and a few others are not
verified (``UNVERIFIABLE`` says why). Nothing here logs or raises with a key in the message.
"""

from stormwatch.secrets.verify._runner import verify_findings
from stormwatch.secrets.verify._settings import VerifySettings
from stormwatch.secrets.verify._specs import (
    UNVERIFIABLE,
    VERIFIERS,
    VerifierSpec,
    azure_host,
)
from stormwatch.secrets.verify._transport import Transport, UrllibTransport

__all__ = [
    "UNVERIFIABLE",
    "VERIFIERS",
    "Transport",
    "UrllibTransport",
    "VerifierSpec",
    "VerifySettings",
    "azure_host",
    "verify_findings",
]
