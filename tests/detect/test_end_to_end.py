"""simulate → ingest → detect: every labelled playbook is detected, benign anomalies stay low."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest
from tests.detect.labelled_lookups import register_labels

from stormwatch.detect import Alert, load_rules, run_detection
from stormwatch.detect.rule import SEVERITY_RANK

simulator = pytest.importorskip("stormwatch.simulate.simulator")
ingest_module = pytest.importorskip("stormwatch.events.ingest")
store_module = pytest.importorskip("stormwatch.events.store")

# Context the attack shares with benign activity (the victim's own resources, apps, models).
SHARED = {"apps", "models", "regions", "policies", "created_users", "resources"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], tuple[Alert, ...]]:
    root = tmp_path_factory.mktemp("e2e")
    simulator.simulate(root / "logs", days=14, scale=0.1, seed=7)
    store = store_module.EventStore.open(root / "store.duckdb")
    ingest_module.ingest([root / "logs"], store)
    store.close()
    labels = json.loads((root / "logs" / "labels.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(root / "store.duckdb"))
    register_labels(con, labels)
    return labels, run_detection(con, load_rules())


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def _label_entities(label: dict[str, Any], skip: set[str]) -> set[str]:
    return {
        value.lower()
        for kind, values in label["entities"].items()
        if kind not in skip
        for value in values
        if value
    }


def _alert_entities(alert: Alert) -> set[str]:
    found = set()
    for kind, values in alert.entities.items():
        for value in values:
            found.add(value.lower())
            if kind == "src_ip" and value.count(".") == 3:
                found.add(".".join(value.split("/")[0].split(".")[:3]) + ".0/24")
    return found


def _touching(label: dict[str, Any], alerts: tuple[Alert, ...], skip: set[str]) -> list[Alert]:
    wanted = _label_entities(label, skip)
    start = _time(label["window"]["start"]) - timedelta(hours=1)
    end = _time(label["window"]["end"]) + timedelta(hours=1)
    return [
        a
        for a in alerts
        if _alert_entities(a) & wanted and a.last_seen >= start and a.first_seen <= end
    ]


@pytest.mark.slow
def test_every_playbook_is_detected(world: tuple[dict[str, Any], tuple[Alert, ...]]) -> None:
    labels, alerts = world
    missed = [
        label["scenario"]
        for label in labels["playbooks"]
        if not _touching(label, alerts, {"apps", "models", "regions", "policies"})
    ]
    assert missed == []


@pytest.mark.slow
def test_benign_anomalies_raise_no_high_alert(
    world: tuple[dict[str, Any], tuple[Alert, ...]],
) -> None:
    labels, alerts = world
    loud = {
        label["scenario"]: sorted({a.rule_id for a in hits if SEVERITY_RANK[a.severity] >= 2})
        for label in labels["benign_anomalies"]
        if (hits := _touching(label, alerts, SHARED))
    }
    assert {k: v for k, v in loud.items() if v} == {}
