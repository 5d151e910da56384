"""The engine: alert shape, idempotent storage, time bounds, allowlist, lookups, benign cases."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

import stormwatch.detect as detect
from stormwatch.detect import (
    Allowlist,
    DetectionError,
    DetectionSettings,
    DuckDBBackend,
    add_canary,
    detect_alerts,
    ensure_lookup_tables,
    load_ip_list,
    load_rules,
    run_detection,
)
from stormwatch.detect.examples import ANCHOR
from stormwatch.detect.rule import SEVERITY_RANK

RULES = load_rules()
BY_ID = {rule.id: rule for rule in RULES}
AddEvents = Callable[..., list[dict[str, Any]]]
PROBES = {
    "repeat": 6,
    "every": "20s",
    "credential_id": "{{akia:probe}}",
    "operation": "InvokeModel",
    "error_code": "ValidationException",
    "success": False,
    "src_ip": "203.0.113.5",
}


class ThreadedBackend(DuckDBBackend):
    """DuckDB behind a lock, called from several threads as a Spark session is."""

    concurrency = 3

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        super().__init__(con)
        self.lock = threading.Lock()
        self.threads: set[int] = set()

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        with self.lock:
            self.threads.add(threading.get_ident())
            return super().fetch(sql)


def test_public_surface_is_declared() -> None:
    for name in detect.__all__:
        assert hasattr(detect, name), name


def test_alert_shape_and_json(con: duckdb.DuckDBPyConnection, add_events: AddEvents) -> None:
    add_events(PROBES)
    (alert,) = run_detection(con, [BY_ID["bedrock-validation-probe-burst"]])
    assert alert.rule_id == "bedrock-validation-probe-burst"
    assert alert.event_count == 6 and alert.severity == "medium"
    assert alert.entities["credential_id"][0].startswith("AKIA")
    assert alert.evidence == ("example.jsonl:1", "example.jsonl:6")
    data = alert.to_dict()
    assert set(data) >= {
        "rule_id",
        "severity",
        "first_seen",
        "last_seen",
        "entities",
        "event_count",
        "evidence",
        "techniques",
        "advice",
        "title",
    }


def test_one_episode_keeps_its_context_from_every_window(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    """Windows of one credential merge into one alert even when the probing address changes;
    the alert names every address (the rule's context), not only the first."""
    walk = {
        "repeat": 4,
        "every": "1m",
        "credential_id": "{{akia:walker}}",
        "operation": "InvokeModel",
        "error_code": "AccessDeniedException",
        "region": ["us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1"],
        "model": "anthropic.claude-3-sonnet",
        "src_ip": "203.0.113.5",
    }
    add_events(walk, {**walk, "at": "45m", "src_ip": "198.51.100.7"})
    (alert,) = run_detection(con, [BY_ID["bedrock-validation-probe-spread"]])
    assert alert.event_count == 8
    assert alert.entities["src_ip"] == ("203.0.113.5", "198.51.100.7")


REPHRASE = [
    {
        "repeat": 3,
        "provider": "azure",
        "resource": "aoai-contoso-img",
        "src_ip": "192.0.2.0/24",
        "credential_id": "azure-key:aoai-contoso-img",
        "filter_blocked": [True, True, False],
        "success": [False, False, True],
    }
]


def test_a_bucketed_query_reports_one_episode(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    """Rephrase sequences in three 5-minute buckets of one network are one episode; one a day
    later is another."""
    at = ("0s", "10m", "20m", "1d")
    add_events(*({**spec, "at": offset} for offset in at for spec in REPHRASE))
    alerts = run_detection(con, [BY_ID["rephrase-after-block"]])
    assert [a.event_count for a in alerts] == [3, 1]
    assert alerts[0].last_seen - alerts[0].first_seen >= timedelta(minutes=20)


LIST_KEYS = {
    "repeat": 4,
    "every": "1m",
    "provider": "azure",
    "principal": "ops-nightly",
    "resource": "aoai-{i}",
    "operation": "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION",
}


@pytest.mark.parametrize(("days", "severity"), [(3, "low"), (2, "medium")])
def test_a_job_at_the_same_time_every_day_is_routine(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents, days: int, severity: str
) -> None:
    """Keys listed at the same hour on three days are a scheduled job: low, with a note. Two
    days are not yet a routine, and the same burst in the afternoon is not part of it."""
    add_events({**LIST_KEYS, "at": "14h", "days": days}, {**LIST_KEYS, "at": "100h"})
    alerts = run_detection(con, [BY_ID["azure-listkeys-spike"]])
    assert sorted(a.first_seen.hour for a in alerts) == [2] * days + [16]
    assert {a.severity for a in alerts if a.first_seen.hour == 2} == {severity}
    assert [a.severity for a in alerts if a.first_seen.hour == 16] == ["medium"]
    noted = {a.extra for a in alerts if a.severity == "low"}
    assert noted <= {"routine: same time of day on 3 days"}


def _ci_run(run: int, at_hours: float, agent: str = "aws-cli/2.15.0 ci") -> list[dict[str, Any]]:
    """A CI job's model smoke test: a fresh role session and runner address per run."""
    who = {
        "credential_id": f"{{{{asia:run{run}}}}}",
        "credential_kind": "aws_session",
        "principal": f"arn:aws:sts::111122223333:assumed-role/gh-deployer/GitHubActions-{run}",
        "src_ip": f"198.51.100.{run}",
        "user_agent": agent,
    }
    return [
        {**who, "at": f"{at_hours * 60:.0f}m", "operation": "ListFoundationModels"},
        {**who, "at": f"{at_hours * 60 + 1:.0f}m", "operation": "InvokeModel", "success": True},
    ]


@pytest.mark.parametrize(("days", "severity"), [(3, "low"), (2, "medium")])
def test_a_ci_role_that_discovers_models_on_every_run_is_routine(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents, days: int, severity: str
) -> None:
    """A CI job lists models then invokes one at any hour, each run with a session of its own
    from a new runner: on three days it is the role's routine (low); another client using the
    role's session is not part of it."""
    runs = [_ci_run(run, hours) for run, hours in enumerate((2.0, 33.5, 65.75)[:days], 1)]
    stolen = _ci_run(9, 80.0, agent="python-requests/2.31")
    add_events(*(spec for run in runs for spec in run), *stolen)
    alerts = run_detection(con, [BY_ID["bedrock-enumerate-then-invoke"]])
    ci = [a for a in alerts if a.entities["user_agent"] == ("aws-cli/2.15.0 ci",)]
    other = [a for a in alerts if a.entities["user_agent"] == ("python-requests/2.31",)]
    assert (len(ci), {a.severity for a in ci}) == (days, {severity})
    assert [a.severity for a in other] == ["medium"]
    if severity == "low":
        assert {a.extra for a in ci} == {"routine: on 3 days"}


def test_rerun_is_idempotent(con: duckdb.DuckDBPyConnection, add_events: AddEvents) -> None:
    add_events(PROBES)
    rules = [BY_ID["bedrock-validation-probe-burst"], BY_ID["credential-many-networks"]]
    first = run_detection(con, rules)
    second = run_detection(con, rules)
    assert first == second
    stored = con.execute("SELECT alert_id FROM alerts").fetchall()
    assert len(stored) == len(first) == 1


def test_since_and_until(con: duckdb.DuckDBPyConnection, add_events: AddEvents) -> None:
    add_events(PROBES)
    rule = [BY_ID["bedrock-validation-probe-burst"]]
    assert run_detection(con, rule, since=ANCHOR + timedelta(hours=1)) == ()
    assert run_detection(con, rule, until=ANCHOR + timedelta(seconds=30)) == ()
    assert len(run_detection(con, rule, since=ANCHOR - timedelta(days=1))) == 1


def test_parameter_override(con: duckdb.DuckDBPyConnection, add_events: AddEvents) -> None:
    add_events(PROBES)
    settings = DetectionSettings(params={"bedrock-validation-probe-burst": {"min_errors": 10}})
    assert run_detection(con, [BY_ID["bedrock-validation-probe-burst"]], settings) == ()


def test_allowlist_removes_trusted_events(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    add_events(PROBES)
    for entry in ("203.0.113.5", "203.0.113.0/24"):
        settings = DetectionSettings(allowlist=Allowlist(src_ips=(entry,)))
        assert run_detection(con, [BY_ID["bedrock-validation-probe-burst"]], settings) == ()


def test_missing_events_table_is_clear() -> None:
    with pytest.raises(DetectionError, match="ingest"):
        run_detection(duckdb.connect(), RULES)


def test_canary_use(con: duckdb.DuckDBPyConnection, add_events: AddEvents) -> None:
    rows = add_events(
        {"credential_id": "canary-key-hash-1", "operation": "InvokeModel", "src_ip": "198.51.100.9"}
    )
    rule = [BY_ID["canary-credential-used"]]
    assert run_detection(con, rule) == ()
    add_canary(con, "canary-key-hash-1", "repo:fabrikam/website .env")
    (alert,) = run_detection(con, rule)
    assert alert.severity == "critical" and alert.entities["src_ip"] == ("198.51.100.9",)
    assert "fabrikam" in (alert.extra or "") and rows


def test_exposed_credential_used_after_exposure(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    add_events(
        {"at": "-2h", "credential_id": "key-hash-9", "operation": "InvokeModel"},
        {"at": "1h", "credential_id": "key-hash-9", "operation": "InvokeModel"},
    )
    detect.ensure_lookup_tables(con)
    con.execute(
        "INSERT INTO exposures VALUES ('key-hash-9', 'fp1', 'openai-project-key', "
        "'git:fabrikam/app@abc:config.py', ?)",
        [ANCHOR],
    )
    (alert,) = run_detection(con, [BY_ID["exposed-credential-used"]])
    assert alert.event_count == 1 and alert.first_seen > ANCHOR


def test_an_exposed_azure_key_matches_its_account_by_the_endpoint_name(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    """Azure logs name the resource; the leaked key file named the endpoint's account."""
    accounts = "/subscriptions/s1/resourcegroups/rg/providers/microsoft.cognitiveservices/accounts"
    for account in ("fabrikam-aoai", "xfabrikam-aoai"):  # a longer name must not match
        add_events(
            {"at": "1h", "credential_id": f"azure-key:{accounts}/{account}", "repeat": 3},
        )
    detect.ensure_lookup_tables(con)
    con.execute(
        "INSERT INTO exposures VALUES ('azure-account:fabrikam-aoai', 'fp2', "
        "'azure-ai-services-key', 'notebooks/demo.ipynb:4', ?)",
        [ANCHOR],
    )
    (alert,) = run_detection(con, [BY_ID["exposed-credential-used"]])
    assert alert.entities["credential_id"] == (f"azure-key:{accounts}/fabrikam-aoai",)
    assert alert.event_count == 3 and "notebooks/demo.ipynb:4" in (alert.extra or "")


def test_ip_list_match_plain_and_masked(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents, tmp_path: Path
) -> None:
    add_events(
        {"credential_id": "k1", "src_ip": "185.220.101.7", "operation": "InvokeModel"},
        {
            "provider": "azure",
            "resource": "aoai-x",
            "src_ip": "185.220.102.0/24",
            "operation": "ChatCompletions_Create",
        },
        {"credential_id": "k2", "src_ip": "198.51.100.1", "operation": "InvokeModel"},
    )
    listing = tmp_path / "tor.txt"
    listing.write_text("# tor exits\n185.220.101.0/24 tor-exit\n185.220.102.33,tor-exit\n")
    assert load_ip_list(con, listing) == 2
    found = run_detection(con, [BY_ID["ip-intel-match"]])
    assert sorted(a.entities["src_ip"][0] for a in found) == ["185.220.101.7", "185.220.102.0/24"]


def _high(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    alerts = run_detection(con, RULES, DetectionSettings(store=False))
    return [(a.rule_id, a.severity) for a in alerts if SEVERITY_RANK[a.severity] >= 2]


def _app_history(credential: str = "{{akia:app}}") -> dict[str, object]:
    return {
        "at": "-14d",
        "days": 14,
        "repeat": 10,
        "every": "1h",
        "credential_id": credential,
        "account": "acct-fabrikam",
        "principal": "svc-invoice",
        "resource": "bedrock.us-east-1",
        "src_ip": "198.51.100.20",
        "user_agent": "Boto3/1.34.0 app/invoice-bot",
        "operation": "InvokeModel",
        "model": "anthropic.claude-3-haiku",
        "success": True,
        "tokens_in": 400,
        "tokens_out": 200,
    }


def test_benign_new_office_network_that_stays(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    add_events(_app_history(), {**_app_history(), "at": "0d", "days": 7, "src_ip": "203.0.113.40"})
    assert _high(con) == []


def test_benign_ci_load_test_with_usual_agent(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    add_events(
        _app_history(),
        {
            **_app_history(),
            "at": "0d",
            "days": 1,
            "repeat": 3000,
            "every": "1s",
            "request_hash": "load-test-prompt",
        },
    )
    assert _high(con) == []


def test_benign_key_rotation_by_usual_principal(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    rotation = {
        "at": "-28d",
        "days": 5,
        "every": "7d",
        "repeat": 1,
        "credential_id": "{{asia:ops}}",
        "account": "acct-fabrikam",
        "principal": "ops-rotation",
        "target": "svc-invoice",
    }
    add_events(
        _app_history(),
        {**rotation, "operation": "CreateAccessKey"},
        {**rotation, "at": "-27d", "operation": "DeleteAccessKey"},
        {
            "provider": "azure",
            "account": "sub-contoso",
            "principal": "ops-rotation",
            "at": "-20d",
            "days": 20,
            "repeat": 2,
            "every": "1m",
            "resource": "aoai-contoso-east",
            "operation": "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION",
        },
    )
    assert _high(con) == []


def test_benign_admin_checks_logging(con: duckdb.DuckDBPyConnection, add_events: AddEvents) -> None:
    admin = {
        "at": "-14d",
        "days": 14,
        "repeat": 1,
        "credential_id": "{{asia:admin}}",
        "account": "acct-fabrikam",
        "principal": "admin-alice",
        "operation": "ListFoundationModels",
    }
    add_events(
        _app_history(),
        admin,
        {**admin, "at": "0d", "days": 1, "operation": "GetModelInvocationLoggingConfiguration"},
    )
    assert _high(con) == []


def test_attack_on_same_history_is_high(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    add_events(
        _app_history(),
        {
            **_app_history(),
            "at": "0d",
            "days": 1,
            "repeat": 5,
            "every": "1m",
            "src_ip": "192.0.2.66",
            "user_agent": "",
        },
    )
    assert ("sdk-default-user-agent-new", "high") in _high(con)


def test_alerts_after_since_keep_baselines(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    add_events(_app_history(), {**_app_history(), "at": "0d", "repeat": 2, "src_ip": "192.0.2.66"})
    found = run_detection(con, [BY_ID["credential-new-network"]], since=ANCHOR - timedelta(hours=1))
    assert [a.rule_id for a in found] == ["credential-new-network"]
    assert isinstance(found[0].first_seen, datetime)


def test_concurrent_rules_give_the_alerts_of_one_at_a_time(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    add_events(PROBES, {**PROBES, "src_ip": "198.51.100.7", "repeat": 40})
    ensure_lookup_tables(con)
    settings = DetectionSettings(store=False)
    one_at_a_time = detect_alerts(DuckDBBackend(con), RULES, settings)
    threaded = ThreadedBackend(con)
    assert detect_alerts(threaded, RULES, settings) == one_at_a_time != ()
    assert threaded.threads - {threading.get_ident()}, "the rules ran on the caller's thread"


def _agents(days: int) -> dict[str, Any]:
    """A resource's application calling every 2 hours for ``days`` days before the anchor."""
    return {
        "at": f"-{days}d",
        "repeat": days * 12,
        "every": "2h",
        "resource": "bedrock.us-east-1",
        "credential_id": "{{akia:app}}",
        "user_agent": "Boto3/1.34.0 md/Botocore#1.34.0 app/invoice-bot",
        "operation": "InvokeModel",
        "success": True,
    }


AXIOS = {
    "repeat": 3,
    "every": "1m",
    "resource": "bedrock.us-east-1",
    "credential_id": "{{akia:app}}",
    "user_agent": "axios/1.6.8",
    "operation": "InvokeModel",
    "success": True,
}


@pytest.mark.parametrize(
    ("days", "severity"),
    [(10, "high"), (4, "medium"), (1, None)],
    ids=["long-history", "short-history", "too-short"],
)
def test_first_seen_rules_run_on_a_short_history_at_most_medium(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents, days: int, severity: str | None
) -> None:
    """Logs kept for a few days only: a key active since the store's first day needs only the
    days held before the value (at least two), and the alert is medium at most; a longer store
    keeps the rule's own baseline and severity; one day of history is no baseline at all."""
    add_events(_agents(days), AXIOS)
    found = run_detection(con, [BY_ID["sdk-default-user-agent-new"]])
    assert [a.severity for a in found] == ([severity] if severity else [])


def test_a_network_many_people_share_is_medium_at_most(
    con: duckdb.DuckDBPyConnection, add_events: AddEvents
) -> None:
    """An OpenAI admin acting from a network new to them, which colleagues' sessions at other
    services use too (an office move), is medium; from a network nobody else uses, high."""
    rule = [BY_ID["openai-admin-change-from-new-network"]]
    admin = {"provider": "openai", "principal": "user-ada", "success": True}
    add_events(
        {
            "at": "-10d",
            "days": 8,
            "repeat": 1,
            "src_ip": "198.51.100.20",
            "operation": "login.succeeded",
        }
        | admin,
        {"at": "5m", "src_ip": "203.0.113.99", "operation": "api_key.created"} | admin,
    )
    assert [a.severity for a in run_detection(con, rule)] == ["high"]
    # a password spray from that network: other members' logins fail there, it stays high
    for member in ("user-bo", "user-cy", "user-di"):
        add_events(
            {
                "at": "-5m",
                "provider": "openai",
                "principal": member,
                "src_ip": "203.0.113.99",
                "operation": "login.failed",
                "success": False,
            }
        )
    assert [a.severity for a in run_detection(con, rule)] == ["high"]
    for colleague in ("arn:aws:iam::111122223333:user/bo", "oid-cy"):
        add_events(
            {
                "at": "-1h",
                "principal": colleague,
                "src_ip": "203.0.113.40",
                "operation": "InvokeModel",
                "success": True,
            }
        )
    assert [a.severity for a in run_detection(con, rule)] == ["medium"]
