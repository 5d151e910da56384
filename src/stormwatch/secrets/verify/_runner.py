"""Verification of findings: plan one request per unique key, send them politely, judge answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from stormwatch.secrets.model import Finding, Verification
from stormwatch.secrets.ruleset import RuleSet, SecretRule
from stormwatch.secrets.verify._bucket import TokenBucket
from stormwatch.secrets.verify._settings import VerifySettings
from stormwatch.secrets.verify._specs import UNVERIFIABLE, VERIFIERS, VerifierSpec, azure_host
from stormwatch.secrets.verify._transport import Transport, UrllibTransport

USER_AGENT = "stormwatch-verify (defensive secret scanner)"

# A verdict and the reason for it, as shown in the finding's notes; never holds the key.
Outcome = tuple[Verification, str]


@dataclass(frozen=True)
class _Probe:
    """One request to send. ``headers`` carry the key, so they are kept out of ``repr``."""

    key: tuple[str, str]
    url: str
    spec: VerifierSpec = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


def verify_findings(
    findings: Sequence[Finding],
    rules: RuleSet,
    settings: VerifySettings,
    transport: Transport | None = None,
) -> tuple[Finding, ...]:
    """Copies of ``findings`` with ``verified`` set to live, dead or unknown, and a note why.

    Each key is sent only to its provider's official host (an Azure key only to an Azure AI host
    named next to it), once per run however often it was found, at a pace per host, and no more
    than ``settings.max_requests`` requests in all. Opt-in: call this only when the user asked.
    """
    by_id = rules.by_id()
    plans = [_plan(finding, by_id.get(finding.rule_id), settings) for finding in findings]
    unique = list({plan.key: plan for plan in plans if isinstance(plan, _Probe)}.values())
    sent, held = unique[: settings.max_requests], unique[settings.max_requests :]
    outcomes = _send_all(sent, settings, transport or UrllibTransport())
    capped: Outcome = ("unknown", f"not sent: the run's cap of {settings.max_requests} was reached")
    outcomes.update({probe.key: capped for probe in held})
    return tuple(
        _noted(finding, outcomes[plan.key] if isinstance(plan, _Probe) else plan)
        for finding, plan in zip(findings, plans, strict=True)
    )


def _plan(finding: Finding, rule: SecretRule | None, settings: VerifySettings) -> _Probe | Outcome:
    name = rule.verify if rule else None
    if name is None:
        return "unknown", "no verifier for this rule"
    if name in UNVERIFIABLE:
        return "unknown", f"{name} keys are not verified: {UNVERIFIABLE[name]}"
    spec = VERIFIERS.get(name)
    if spec is None:
        return "unknown", f"no verifier named {name!r}"
    origin = spec.base_url
    if origin is None:
        host = azure_host(finding.pair_secret)
        if host is None:
            return "unknown", "not sent: the endpoint next to the key is not an Azure AI host"
        origin = f"https://{host}"
    origin = (settings.base_url_override or {}).get(name, origin)
    url = origin.rstrip("/") + spec.path
    headers = {**dict(spec.headers), spec.key_header: spec.key_prefix + finding.secret}
    headers["User-Agent"] = USER_AGENT
    return _Probe((url, finding.secret_sha256), url, spec, headers)


def _send_all(
    probes: Sequence[_Probe], settings: VerifySettings, transport: Transport
) -> dict[tuple[str, str], Outcome]:
    if not probes:
        return {}
    rate = settings.requests_per_second
    buckets = {probe.host: TokenBucket(rate, max(1.0, rate)) for probe in probes}
    with ThreadPoolExecutor(max_workers=settings.workers) as pool:
        futures = {
            probe.key: pool.submit(
                _send, probe, buckets[probe.host], transport, settings.timeout_seconds
            )
            for probe in probes
        }
        return {key: future.result() for key, future in futures.items()}


def _send(probe: _Probe, bucket: TokenBucket, transport: Transport, timeout: float) -> Outcome:
    bucket.acquire()
    try:
        status = transport.get(probe.url, probe.headers, timeout)
    except Exception as error:  # any failure leaves the key unknown; its text may quote the request
        return "unknown", f"no answer from {probe.host}: {type(error).__name__}"
    if status in probe.spec.live:
        return "live", f"{probe.host} answered {status}"
    if status in probe.spec.dead:
        return "dead", f"{probe.host} answered {status}"
    return "unknown", f"{probe.host} answered {status}, which does not decide"


def _noted(finding: Finding, outcome: Outcome) -> Finding:
    verdict, reason = outcome
    return replace(finding, verified=verdict, notes=(*finding.notes, f"verify {verdict}: {reason}"))
