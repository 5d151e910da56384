"""Simulated raw logs of a fictional organisation, with labelled LLMjacking playbooks.

Used by tests, the demo and benchmarks: ``simulate(out_dir)`` writes Azure OpenAI diagnostic
logs, API Management gateway logs, the Azure Activity Log, CloudTrail, Bedrock invocation logs,
LiteLLM spend logs and the OpenAI audit log in their real formats, plus ``labels.json``.
"""

from stormwatch.simulate.model import (
    FORMATS,
    SCENARIOS,
    PlaybookLabel,
    SimulationSummary,
    UnknownScenarioError,
)
from stormwatch.simulate.simulator import simulate

__all__ = [
    "FORMATS",
    "SCENARIOS",
    "PlaybookLabel",
    "SimulationSummary",
    "UnknownScenarioError",
    "simulate",
]
