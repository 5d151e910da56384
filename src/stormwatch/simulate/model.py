"""What a simulation returns: the files it wrote, how many events per format, and its labels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

SCENARIOS: tuple[str, ...] = (
    "azure-proxy-abuse",
    "bedrock-llmjacking",
    "iam-persistence",
    "key-checker-sweep",
    "canary-use",
    "wallet-abuse",
    "logging-tampering",
    "exposed-key-use",
    "openai-session-takeover",
)
FORMATS: tuple[str, ...] = (
    "azure_openai",
    "apim",
    "azure_activity",
    "cloudtrail",
    "bedrock_invocation",
    "litellm",
    "openai_audit",
)


class UnknownScenarioError(ValueError):
    """A scenario or format name that the simulator does not know."""


@dataclass(frozen=True)
class PlaybookLabel:
    """Ground truth for one injected playbook (``kind="attack"``) or benign anomaly."""

    scenario: str
    kind: str
    description: str
    start: datetime
    end: datetime
    entities: Mapping[str, tuple[str, ...]]
    files: tuple[str, ...] = ()
    details: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as written to ``labels.json``."""
        return {
            "scenario": self.scenario,
            "kind": self.kind,
            "description": self.description,
            "window": {"start": _iso(self.start), "end": _iso(self.end)},
            "entities": {k: list(v) for k, v in self.entities.items()},
            "files": list(self.files),
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class SimulationSummary:
    """Result of :func:`stormwatch.simulate.simulate`."""

    out_dir: Path
    start: datetime
    end: datetime
    seed: int
    scale: float
    files: tuple[Path, ...]
    counts: Mapping[str, int]
    labels: tuple[PlaybookLabel, ...]
    labels_file: Path

    @property
    def total_events(self) -> int:
        """All events written, every format together."""
        return sum(self.counts.values())

    @property
    def attacks(self) -> tuple[PlaybookLabel, ...]:
        """Labels of the injected attack playbooks."""
        return tuple(label for label in self.labels if label.kind == "attack")

    @property
    def benign_anomalies(self) -> tuple[PlaybookLabel, ...]:
        """Labels of the benign anomalies that rules must not rate as high severity."""
        return tuple(label for label in self.labels if label.kind == "benign")

    @property
    def canary_keys(self) -> tuple[str, ...]:
        """Credential ids of canary keys, for the demo to register before detection."""
        return tuple(
            label.details["canary_key_id"]
            for label in self.labels
            if "canary_key_id" in label.details
        )

    @property
    def exposed_credentials(self) -> tuple[str, ...]:
        """Credential ids / fingerprints that a demo repository exposes and logs later show."""
        return tuple(
            value
            for label in self.labels
            for key, value in sorted(label.details.items())
            if key.startswith("exposed_") and key.endswith(("_key_id", "_key_hash"))
        )


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
