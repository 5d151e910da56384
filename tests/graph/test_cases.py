"""Cases from a small store built in the test: grouping, roles, checklist, figures, errors."""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta

import duckdb
import pytest

from stormwatch.detect import Alert, store_alerts
from stormwatch.events.model import COLUMN_NAMES, events_table_ddl
from stormwatch.graph.cases import StoreError, build_cases, check_store
from stormwatch.secrets.exposure import ExposureRecord, record_exposures

T0 = datetime(2025, 6, 2, 9, 0)
THEMES = {"probe-rule": "validation", "abuse-rule": "abuse", "logging-rule": "evasion"}


def _key_id(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))


def _store() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(events_table_ddl())
    return con


def _event(con: duckdb.DuckDBPyConnection, i: int, **values: object) -> None:
    row = dict.fromkeys(COLUMN_NAMES)
    row.update(event_id=f"e{i}-{values.get('time')}", source="cloudtrail", provider="aws")
    row.update(raw_file="trail.json", raw_line=i, **values)
    marks = ", ".join("?" for _ in COLUMN_NAMES)
    con.execute(f"INSERT INTO events VALUES ({marks})", [row[c] for c in COLUMN_NAMES])


def _alert(rule: str, start: datetime, minutes: int = 10, **entities: list[str]) -> Alert:
    return Alert(
        rule_id=rule,
        title=rule.replace("-", " "),
        severity="high",
        first_seen=start,
        last_seen=start + timedelta(minutes=minutes),
        entities={k: tuple(v) for k, v in entities.items()},
        event_count=3,
        evidence=("trail.json:1",),
        techniques=("T1078.004",),
        advice="rotate",
    )


def _save(con: duckdb.DuckDBPyConnection, *alerts: Alert) -> None:
    store_alerts(con, list(alerts), sorted({a.rule_id for a in alerts}))


def test_alerts_sharing_a_credential_form_one_case_and_time_splits_them() -> None:
    rng = random.Random(1)
    key = _key_id(rng)
    con = _store()
    _save(
        con,
        _alert("probe-rule", T0, credential_id=[key]),
        _alert("abuse-rule", T0 + timedelta(hours=5), credential_id=[key], src_ip=["192.0.2.7"]),
        _alert("abuse-rule", T0 + timedelta(days=14), credential_id=[key]),
    )
    cases = build_cases(con, THEMES)
    assert sorted(len(c.alerts) for c in cases) == [1, 2]
    joined = next(c for c in cases if len(c.alerts) == 2)
    assert [e.stage for e in joined.timeline] == ["probe", "abuse"]
    assert {"rotate-key"} <= {item.action for item in joined.checklist}


def test_roles_checklist_identities_and_exposure_figures() -> None:
    rng = random.Random(2)
    key, probed = _key_id(rng), [_key_id(rng) for _ in range(4)]
    con = _store()
    for i, other in enumerate(probed):  # one network tries many keys, mostly failing
        _event(
            con,
            i,
            time=T0 + timedelta(minutes=i),
            credential_id=other,
            src_ip="203.0.113.9",
            success=False,
            operation="InvokeModel",
        )
    for hour in range(30):  # another network serves generation around the clock
        for n in range(10):
            _event(
                con,
                1000 + hour * 10 + n,
                time=T0 + timedelta(hours=hour, minutes=n),
                credential_id=key,
                src_ip="198.51.100.20",
                success=True,
                operation="InvokeModel",
                model="anthropic.claude-3-haiku-20240307-v1:0",
                tokens_in=1000,
                tokens_out=500,
            )
    _event(
        con,
        5000,
        time=T0 + timedelta(hours=2),
        credential_id=key,
        operation="CreateUser",
        target="qzkwbt482",
        success=True,
    )
    record_exposures(
        con,
        [
            ExposureRecord(
                key, "f" * 64, "aws-access-key-id", "repo/.env:1", T0 - timedelta(minutes=5)
            )
        ],
    )
    _save(
        con,
        _alert("probe-rule", T0, src_ip=["203.0.113.9"], credential_id=probed),
        _alert(
            "abuse-rule",
            T0 + timedelta(minutes=30),
            minutes=60 * 29,
            credential_id=[key],
            src_ip=["198.51.100.20"],
        ),
        _alert(
            "logging-rule",
            T0 + timedelta(hours=3),
            credential_id=[key],
            resource=["bedrock.us-east-1"],
        ),
    )
    cases = build_cases(con, THEMES)
    abuse = next(c for c in cases if any(a.rule_id == "abuse-rule" for a in c.alerts))
    roles = {(r.role, r.entity) for r in abuse.roles}
    assert ("proxy", "ip:198.51.100.20") in roles
    assert ("exposure-source", "exposure:repo/.env:1") in roles
    assert all("failed" in " ".join(r.reasons) or r.role == "exposure-source" for r in abuse.roles)
    actions = {(i.action, i.target) for i in abuse.checklist}
    assert ("delete-identity", "qzkwbt482") in actions
    assert ("block-network", "198.51.100.20") in actions
    assert ("re-enable-logging", "bedrock.us-east-1") in actions
    assert abuse.figures.exposure_to_first_use_seconds == 5 * 60
    assert abuse.figures.estimated_cost_usd and abuse.figures.estimated_cost_usd > 0
    probe = next(c for c in cases if any(a.rule_id == "probe-rule" for a in c.alerts))
    assert ("key-checker", "ip:203.0.113.9") in {(r.role, r.entity) for r in probe.roles}
    assert cases == tuple(sorted(cases, key=lambda c: -c.score))


def test_store_errors_are_clear() -> None:
    con = duckdb.connect()
    with pytest.raises(StoreError, match="ingest"):
        check_store(con)
    con.execute(events_table_ddl())
    with pytest.raises(StoreError, match="detect"):
        check_store(con)
    _save(con)
    con.execute("CREATE TABLE schema_version (value INTEGER)")
    con.execute("INSERT INTO schema_version VALUES (99)")
    with pytest.raises(StoreError, match="upgrade"):
        check_store(con)


def test_thousands_of_entities_stay_fast() -> None:
    rng = random.Random(3)
    con = _store()
    keys = [_key_id(rng) for _ in range(2000)]
    _save(con, _alert("probe-rule", T0, credential_id=keys, src_ip=["192.0.2.1"]))
    (case,) = build_cases(con, THEMES)
    assert len(case.entities) >= 2000
