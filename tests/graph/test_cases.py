"""Cases from small stores built in the test: grouping, roles, checklist, figures, errors.

Everything is fictional (Northwind Labs, documentation IP ranges); AWS-looking key ids are made
at run time.
"""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

import duckdb
import pytest

from stormwatch.detect import Alert, store_alerts
from stormwatch.events.model import COLUMN_NAMES, events_table_ddl
from stormwatch.events.store import SCHEMA_VERSION, StoreError
from stormwatch.graph.cases import CaseSettings, build_cases, check_store
from stormwatch.graph.model import Case
from stormwatch.graph.prices import load_prices
from stormwatch.graph.stix import cases_to_stix
from stormwatch.secrets.exposure import ExposureRecord, record_exposures

T0 = datetime(2025, 6, 2, 9, 0)
THEMES = {"probe-rule": "validation", "abuse-rule": "abuse", "logging-rule": "evasion"}
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
CHECKER, PROXY, CONSUMER = "203.0.113.9", "198.51.100.20", "192.0.2.50"


def _key_id(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))


def _store() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(events_table_ddl())
    return con


def _event(con: duckdb.DuckDBPyConnection, line: int, **values: object) -> None:
    row = dict.fromkeys(COLUMN_NAMES)
    row.update(event_id=f"e{line}", source="cloudtrail", provider="aws", account="northwind-prod")
    row.update(raw_file="trail.json", raw_line=line, **values)
    marks = ", ".join("?" for _ in COLUMN_NAMES)
    con.execute(f"INSERT INTO events VALUES ({marks})", [row[c] for c in COLUMN_NAMES])


def _alert(
    rule: str,
    start: datetime,
    minutes: int = 10,
    severity: str = "high",
    **entities: Sequence[str],
) -> Alert:
    return Alert(
        rule_id=rule,
        title=rule.replace("-", " "),
        severity=severity,  # type: ignore[arg-type]
        first_seen=start,
        last_seen=start + timedelta(minutes=minutes),
        entities={k: tuple(v) for k, v in entities.items()},
        event_count=3,
        evidence=("trail.json:1",),
        techniques=("T1078.004",),
        advice="rotate",
    )


def _save(con: duckdb.DuckDBPyConnection, *alerts: Alert) -> None:
    store_alerts(con, list(alerts), sorted({a.rule_id for a in alerts}) or ["none"])


def _case_of(cases: Sequence[Case], rule: str) -> Case:
    return next(c for c in cases if any(a.rule_id == rule for a in c.alerts))


# Grouping


def test_alerts_sharing_a_credential_form_one_case_and_time_splits_them() -> None:
    key = _key_id(random.Random(1))
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
    assert joined.title == f"Probe → abuse with credential {key}"
    assert ("rotate-key", key) in {(i.action, i.target) for i in joined.checklist}
    assert len({c.id for c in cases}) == 2


def test_a_shorter_window_splits_what_the_default_joins() -> None:
    key = _key_id(random.Random(11))
    con = _store()
    _save(
        con,
        _alert("probe-rule", T0, credential_id=[key]),
        _alert("abuse-rule", T0 + timedelta(hours=5), credential_id=[key]),
    )
    assert len(build_cases(con, THEMES)) == 1
    assert len(build_cases(con, THEMES, CaseSettings(window=timedelta(hours=1)))) == 2


def test_one_rule_from_one_24_at_the_same_time_is_one_sweep() -> None:
    """A key checker sweeping from two neighbouring addresses at once is one case; the same
    /24 later, or another rule on it, is not joined by the /24 alone."""
    con = _store()
    _save(
        con,
        _alert("sweep-rule", T0, minutes=40, src_ip=["192.0.2.193"]),
        _alert("sweep-rule", T0 + timedelta(minutes=3), minutes=40, src_ip=["192.0.2.204"]),
        _alert("sweep-rule", T0 + timedelta(hours=3), src_ip=["192.0.2.10"]),
        _alert("other-rule", T0 + timedelta(minutes=5), src_ip=["192.0.2.0/24"]),
    )
    cases = build_cases(con, THEMES)
    assert sorted(len(c.alerts) for c in cases) == [1, 1, 2]
    swept = next(c for c in cases if len(c.alerts) == 2)
    assert {"ip:192.0.2.193", "ip:192.0.2.204"} <= {e.key for e in swept.entities}


def test_a_shared_ip_joins_alerts_of_different_credentials() -> None:
    rng = random.Random(4)
    first, second, third = _key_id(rng), _key_id(rng), _key_id(rng)
    con = _store()
    _save(
        con,
        _alert("probe-rule", T0, credential_id=[first], src_ip=["192.0.2.7"]),
        _alert("abuse-rule", T0 + timedelta(hours=3), credential_id=[second], src_ip=["192.0.2.7"]),
        _alert("abuse-rule", T0 + timedelta(days=30), credential_id=[third], src_ip=["192.0.2.7"]),
    )
    cases = build_cases(con, THEMES)
    assert sorted(len(c.alerts) for c in cases) == [1, 2]
    joined = next(c for c in cases if len(c.alerts) == 2)
    assert {"ip:192.0.2.7", f"credential:{first}", f"credential:{second}"} <= {
        e.key for e in joined.entities
    }
    assert joined.title.endswith("(+1 more)")


def test_a_shared_resource_joins_only_an_alert_that_names_nothing_else() -> None:
    """Two keys' incidents on one gateway upstream stay two cases; a volume spike on it (no
    key, no address) joins the nearer of them, and never bridges the two."""
    rng = random.Random(6)
    first, second = _key_id(rng), _key_id(rng)
    upstream = ["https://api.openai.example/v1"]
    con = _store()
    _save(
        con,
        _alert("probe-rule", T0, credential_id=[first], src_ip=["192.0.2.7"], resource=upstream),
        _alert(
            "abuse-rule",
            T0 + timedelta(hours=5),
            credential_id=[second],
            src_ip=["198.51.100.9"],
            resource=upstream,
        ),
        _alert("logging-rule", T0 + timedelta(hours=4), resource=upstream),
    )
    cases = build_cases(con, THEMES)
    assert sorted(sorted(a.rule_id for a in c.alerts) for c in cases) == [
        ["abuse-rule", "logging-rule"],
        ["probe-rule"],
    ]


def test_an_account_alone_does_not_join_alerts() -> None:
    con = _store()
    _save(
        con,
        _alert("logging-rule", T0, account=["111122223333"]),
        _alert("abuse-rule", T0 + timedelta(minutes=30), account=["111122223333"]),
    )
    cases = build_cases(con, THEMES)
    assert len(cases) == 2
    logging = _case_of(cases, "logging-rule")
    assert ("re-enable-logging", "111122223333") in {
        (i.action, i.target) for i in logging.checklist
    }


def test_one_rule_firing_for_two_networks_at_once_makes_two_distinct_cases() -> None:
    con = _store()
    _save(
        con,
        _alert("probe-rule", T0, src_ip=["203.0.113.1"]),
        _alert("probe-rule", T0, src_ip=["198.51.100.2"]),
    )
    cases = build_cases(con, THEMES)
    assert len(cases) == 2
    assert cases[0].id != cases[1].id  # STIX and HTML key objects by case id


def test_alerts_below_the_minimum_severity_are_left_out() -> None:
    con = _store()
    _save(
        con,
        _alert("probe-rule", T0, severity="low", src_ip=["203.0.113.1"]),
        _alert("abuse-rule", T0, severity="critical", src_ip=["203.0.113.2"]),
    )
    (case,) = build_cases(con, THEMES, CaseSettings(min_severity="medium"))
    assert case.severity == "critical"


# Roles, checklist, figures


def _proxy_calls(
    con: duckdb.DuckDBPyConnection, key: str, first_line: int, **values: object
) -> None:
    """Ten successful Haiku calls an hour for 30 hours with ``key`` from the proxy address."""
    for hour in range(30):
        for n in range(10):
            _event(
                con,
                first_line + hour * 10 + n,
                time=T0 + timedelta(hours=hour, minutes=n),
                credential_id=key,
                src_ip=PROXY,
                success=True,
                operation="InvokeModel",
                model=HAIKU,
                **values,
            )


@pytest.fixture(scope="module")
def attacked() -> tuple[tuple[Case, ...], str, list[str]]:
    """A checker network sweeping keys, a proxy network serving one key around the clock, a
    small consumer, an IAM user created with the key, logging deleted, and the key's exposure."""
    rng = random.Random(2)
    key, probed = _key_id(rng), [_key_id(rng) for _ in range(4)]
    con = _store()
    for i, other in enumerate(probed):
        _event(
            con,
            i + 1,
            time=T0 + timedelta(minutes=i),
            credential_id=other,
            src_ip=CHECKER,
            success=False,
            operation="InvokeModel",
            error_code="ValidationException",
        )
    _proxy_calls(con, key, 1000, tokens_in=1000, tokens_out=500)
    for n in range(3):
        _event(
            con,
            4000 + n,
            time=T0 + timedelta(hours=1, minutes=n),
            credential_id=key,
            src_ip=CONSUMER,
            success=True,
            operation="ListFoundationModels",
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
    exposure = ExposureRecord(
        key,
        "f" * 64,
        "aws-access-key-id",
        "notebooks/.env@0123456789ab:1",
        T0 - timedelta(minutes=5),
    )
    record_exposures(con, [exposure])
    _save(
        con,
        _alert("probe-rule", T0, src_ip=[CHECKER], credential_id=probed),
        _alert(
            "abuse-rule",
            T0 + timedelta(minutes=30),
            minutes=60 * 29,
            severity="critical",
            credential_id=[key],
            src_ip=[PROXY],
        ),
        _alert(
            "logging-rule",
            T0 + timedelta(hours=3),
            credential_id=[key],
            resource=["bedrock.us-east-1"],
        ),
    )
    return build_cases(con, THEMES), key, probed


def test_a_network_trying_many_keys_and_failing_is_a_key_checker(
    attacked: tuple[tuple[Case, ...], str, list[str]],
) -> None:
    cases, _, probed = attacked
    probe = _case_of(cases, "probe-rule")
    (role,) = [r for r in probe.roles if r.entity == f"ip:{CHECKER}"]
    assert role.role == "key-checker"
    assert role.confidence == "medium"  # 4 keys: at least the threshold, below twice it
    assert "4 credentials" in role.reasons
    assert "4 requests, 100% failed" in role.reasons
    assert role.evidence and all(e.startswith("trail.json:") for e in role.evidence)
    actions = {(i.action, i.target) for i in probe.checklist}
    assert ("block-network", CHECKER) in actions
    assert {("rotate-key", k) for k in probed} <= actions


def test_sustained_successful_calls_over_many_hours_are_a_proxy(
    attacked: tuple[tuple[Case, ...], str, list[str]],
) -> None:
    cases, _, _ = attacked
    abuse = _case_of(cases, "abuse-rule")
    roles = {r.entity: r for r in abuse.roles}
    proxy = roles[f"ip:{PROXY}"]
    assert proxy.role == "proxy"
    assert proxy.confidence == "high"  # 30 hours ≥ 4 × the 6-hour threshold
    assert "300 requests, 0% failed" in proxy.reasons
    assert "active in 30 distinct hours" in proxy.reasons
    assert proxy.evidence and all(e.startswith("trail.json:") for e in proxy.evidence)
    assert roles[f"ip:{CONSUMER}"].role == "consumer"
    assert roles["exposure:notebooks/.env@0123456789ab:1"].role == "exposure-source"


def test_the_owners_busy_office_is_the_owner_not_a_proxy() -> None:
    """The key's own office, busy on the days before the case and during it, is the owner's
    network: not a proxy, not to block, not an indicator to share; the attacker's proxy is."""
    rng = random.Random(5)
    key, office = _key_id(rng), "192.0.2.80"
    con = _store()
    line = iter(range(1, 100_000))
    for day in range(-3, 2):  # three days before the case, then the case's two
        for hour in range(8, 18):
            for n in range(3):
                _event(
                    con,
                    next(line),
                    time=T0 + timedelta(days=day, hours=hour - 9, minutes=n),
                    credential_id=key,
                    src_ip=office,
                    success=True,
                    operation="InvokeModel",
                    model=HAIKU,
                )
    # one quiet check from the proxy two days ahead is no history
    _event(
        con,
        next(line),
        time=T0 - timedelta(days=2),
        credential_id=key,
        src_ip=PROXY,
        success=True,
        operation="ListFoundationModels",
    )
    _proxy_calls(con, key, 10_000)
    _save(con, _alert("abuse-rule", T0, minutes=60 * 29, credential_id=[key], src_ip=[PROXY]))
    (case,) = build_cases(con, THEMES)
    roles = {r.entity: r for r in case.roles}
    assert roles[f"ip:{PROXY}"].role == "proxy"
    owner = roles[f"ip:{office}"]
    assert owner.role == "owner"
    assert owner.confidence == "medium"  # 3 days before: at least 2, below twice that
    assert any("on 3 days before the case" in reason for reason in owner.reasons)
    blocked = {i.target for i in case.checklist if i.action == "block-network"}
    assert blocked == {PROXY}
    bundle = json.loads(cases_to_stix([case], tool_version="0.1.0"))
    shared = {o.get("value") for o in bundle["objects"] if o["type"] == "ipv4-addr"}
    assert shared == {PROXY}


def test_checklist_covers_keys_identities_networks_and_logging(
    attacked: tuple[tuple[Case, ...], str, list[str]],
) -> None:
    cases, key, _ = attacked
    abuse = _case_of(cases, "abuse-rule")
    assert _case_of(cases, "logging-rule") is abuse
    actions = [(i.action, i.target) for i in abuse.checklist]
    assert actions[0] == ("rotate-key", key)  # most urgent first
    assert ("delete-identity", "qzkwbt482") in actions
    assert ("block-network", PROXY) in actions
    assert ("block-network", CONSUMER) not in actions
    assert ("re-enable-logging", "bedrock.us-east-1") in actions
    assert ("remove-exposure", "notebooks/.env@0123456789ab:1") in actions
    assert len(actions) == len(set(actions))
    created = [e for e in abuse.edges if e.relation == "created"]
    assert [(e.source, e.target) for e in created] == [(f"credential:{key}", "identity:qzkwbt482")]


def test_exposure_to_first_use_and_the_timeline_start_at_the_leak(
    attacked: tuple[tuple[Case, ...], str, list[str]],
) -> None:
    cases, _, _ = attacked
    abuse = _case_of(cases, "abuse-rule")
    assert abuse.figures.exposure_to_first_use_seconds == 5 * 60
    assert abuse.first_seen == T0 - timedelta(minutes=5)
    assert abuse.timeline[0].stage == "exposure"
    assert [e.stage for e in abuse.timeline[1:]] == ["abuse", "persistence", "tampering"]


def test_cost_is_estimated_from_the_price_table_for_a_known_model(
    attacked: tuple[tuple[Case, ...], str, list[str]],
) -> None:
    cases, _, _ = attacked
    abuse = _case_of(cases, "abuse-rule")
    price = load_prices().price_of(HAIKU)
    assert price is not None and price.match == "anthropic.claude-3-haiku"
    expected = (300 * 1000 * price.input + 300 * 500 * price.output) / 1e6
    assert abuse.figures.estimated_cost_usd == pytest.approx(round(expected, 2))
    assert abuse.figures.requests == 300 + 3 + 1
    assert (abuse.figures.tokens_in, abuse.figures.tokens_out) == (300_000, 150_000)


def test_cases_are_sorted_by_score(attacked: tuple[tuple[Case, ...], str, list[str]]) -> None:
    cases, _, _ = attacked
    assert [c.score for c in cases] == sorted((c.score for c in cases), reverse=True)
    assert cases[0].severity == "critical"


def test_reported_cost_replaces_the_estimate() -> None:
    con = _store()
    for n in range(4):
        _event(
            con,
            n + 1,
            time=T0 + timedelta(minutes=n),
            source="litellm",
            provider="gateway",
            credential_id="litellm:" + "ab" * 32,
            src_ip="198.51.100.7",
            success=True,
            model="gpt-4o",
            tokens_in=10_000,
            tokens_out=10_000,
            cost_usd=0.5,
        )
    _save(con, _alert("abuse-rule", T0, credential_id=["litellm:" + "ab" * 32]))
    (case,) = build_cases(con, THEMES)
    assert case.figures.estimated_cost_usd == 2.0


def test_unknown_models_cost_nothing_and_no_activity_means_no_figure() -> None:
    con = _store()
    _event(con, 1, time=T0, credential_id="cred-northwind-1", success=True, model="acme-llm-9")
    _save(
        con,
        _alert("abuse-rule", T0, credential_id=["cred-northwind-1"]),
        _alert("probe-rule", T0 + timedelta(days=9), credential_id=["cred-northwind-2"]),
    )
    figures = {c.alerts[0].rule_id: c.figures for c in build_cases(con, THEMES)}
    assert figures["abuse-rule"].estimated_cost_usd == 0.0
    assert figures["probe-rule"].estimated_cost_usd is None
    assert figures["probe-rule"].exposure_to_first_use_seconds is None


def test_use_before_the_leak_is_not_first_use() -> None:
    key = _key_id(random.Random(5))
    con = _store()
    leak = T0 - timedelta(minutes=10)
    _event(con, 1, time=T0 - timedelta(hours=2), credential_id=key, src_ip="192.0.2.10")
    _event(con, 2, time=T0 + timedelta(seconds=80), credential_id=key, src_ip="203.0.113.80")
    record_exposures(con, [ExposureRecord(key, "e" * 64, "aws-access-key-id", "app.py:3", leak)])
    _save(con, _alert("abuse-rule", T0, credential_id=[key]))
    (case,) = build_cases(con, THEMES)
    assert case.figures.exposure_to_first_use_seconds == 10 * 60 + 80


# Store checks and scale


def test_store_errors_are_clear() -> None:
    con = duckdb.connect()
    with pytest.raises(StoreError, match=r"no events: run `stormwatch ingest`"):
        check_store(con)
    con.execute(events_table_ddl())
    with pytest.raises(StoreError, match=r"no alerts: run `stormwatch detect`"):
        check_store(con)
    _save(con)
    con.execute("CREATE TABLE schema_version (value INTEGER)")
    con.execute("INSERT INTO schema_version VALUES (1)")
    check_store(con)
    con.execute("INSERT INTO schema_version VALUES (99)")
    newest = rf"schema version 99.*reads up to {SCHEMA_VERSION}: upgrade stormwatch"
    with pytest.raises(StoreError, match=newest):
        check_store(con)
    with pytest.raises(StoreError):
        build_cases(con, THEMES)


def test_thousands_of_entities_build_quickly() -> None:
    rng = random.Random(3)
    keys = [_key_id(rng) for _ in range(3000)]
    con = _store()
    con.execute(
        """
        INSERT INTO events BY NAME
        SELECT 'e' || i AS event_id, ?::TIMESTAMP + to_seconds(i) AS time, 'cloudtrail' AS source,
          'aws' AS provider, key AS credential_id, '192.0.2.' || (1 + i % 250) AS src_ip,
          'InvokeModel' AS operation, false AS success, 'trail.json' AS raw_file, i AS raw_line
        FROM (SELECT unnest(?::VARCHAR[]) AS key, generate_subscripts(?::VARCHAR[], 1) AS i)
        """,
        [T0, keys, keys],
    )
    _save(
        con,
        _alert("probe-rule", T0, minutes=60, credential_id=keys[:1500], src_ip=["192.0.2.1"]),
        _alert("abuse-rule", T0 + timedelta(minutes=5), credential_id=keys[1500:]),
        _alert("abuse-rule", T0 + timedelta(minutes=6), credential_id=[keys[0], keys[-1]]),
    )
    started = time.perf_counter()
    (case,) = build_cases(con, THEMES)
    assert time.perf_counter() - started < 5
    kinds = [e.kind for e in case.entities]
    assert kinds.count("credential") == 3000
    assert kinds.count("ip") == 250
    checkers = [r for r in case.roles if r.role == "key-checker"]
    assert len(checkers) == 250
