"""What the store says about a group's entities: activity, created identities, exposures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from stormwatch.detect.lookups import EXPOSURE_MATCH

IDENTITY_OPERATIONS = ("CreateUser", "CreateAccessKey", "CreateLoginProfile")
MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class ActivityRow:
    """Calls of one credential from one source with one user agent to one model."""

    credential_id: str | None
    src_ip: str | None
    user_agent: str | None
    model: str | None
    requests: int
    failures: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    first_seen: datetime
    last_seen: datetime
    hours: int
    evidence: str


@dataclass(frozen=True)
class UsualSource:
    """An address the case's credentials used on several days before the case: the owner's."""

    src_ip: str
    since: datetime
    days: int


@dataclass(frozen=True)
class CreatedIdentity:
    """An identity (IAM user, access key, login) created by a credential of the case."""

    credential_id: str
    operation: str
    name: str
    time: datetime
    evidence: str


@dataclass(frozen=True)
class Exposure:
    """Where `stormwatch scan` found a credential of the case."""

    credential_id: str
    location: str
    rule_id: str
    exposed_at: datetime
    first_use: datetime | None


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    query = "SELECT table_name FROM information_schema.tables"
    return {row[0] for row in con.execute(query).fetchall()}


def activity(
    con: duckdb.DuckDBPyConnection,
    credentials: Sequence[str],
    addresses: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[ActivityRow]:
    """Calls around the group's window by its credentials, from its addresses, or by the
    principals behind its credentials (Bedrock invocation logs name the role, not the key)."""
    if not credentials and not addresses:
        return []
    rows = con.execute(
        """
        SELECT credential_id, src_ip, user_agent, model, COUNT(*),
          COUNT(*) FILTER (WHERE success = false), COALESCE(SUM(tokens_in), 0),
          COALESCE(SUM(tokens_out), 0), COALESCE(SUM(cost_usd), 0), MIN(time), MAX(time),
          COUNT(DISTINCT date_trunc('hour', time)),
          MIN(raw_file || ':' || CAST(raw_line AS VARCHAR))
        FROM events
        WHERE (list_contains($creds, credential_id) OR list_contains($addresses, src_ip)
               OR principal IN (SELECT DISTINCT principal FROM events
                                WHERE list_contains($creds, credential_id)
                                  AND principal IS NOT NULL))
          AND time BETWEEN $start AND $end
        GROUP BY ALL
        """,
        {
            "creds": list(credentials),
            "addresses": list(addresses),
            "start": start - MARGIN,
            "end": end + MARGIN,
        },
    ).fetchall()
    return [ActivityRow(*row) for row in rows]


def usual_sources(
    con: duckdb.DuckDBPyConnection,
    credentials: Sequence[str],
    addresses: Sequence[str],
    before: datetime,
    min_days: int,
) -> list[UsualSource]:
    """Addresses of the case that its credentials used on at least ``min_days`` distinct days
    before ``before`` (the case's start, less the activity margin): the owner's office or NAT,
    not the attacker's. An attacker's one quiet check days ahead is one day, not several."""
    if not credentials or not addresses:
        return []
    rows = con.execute(
        """
        SELECT src_ip, MIN(time), COUNT(DISTINCT CAST(time AS DATE))
        FROM events
        WHERE list_contains($creds, credential_id) AND list_contains($addresses, src_ip)
          AND time < $before
        GROUP BY src_ip
        HAVING COUNT(DISTINCT CAST(time AS DATE)) >= $min_days
        ORDER BY src_ip
        """,
        {
            "creds": list(credentials),
            "addresses": list(addresses),
            "before": before - MARGIN,
            "min_days": min_days,
        },
    ).fetchall()
    return [UsualSource(*row) for row in rows]


def created_identities(
    con: duckdb.DuckDBPyConnection, credentials: Sequence[str]
) -> list[CreatedIdentity]:
    """IAM users, access keys and logins that the group's credentials created."""
    if not credentials:
        return []
    rows = con.execute(
        """
        SELECT credential_id, operation, split_part(target, ';', 1), time,
          raw_file || ':' || CAST(raw_line AS VARCHAR)
        FROM events
        WHERE list_contains(?, credential_id) AND list_contains(?, operation)
          AND target IS NOT NULL AND success IS NOT false
        ORDER BY time
        """,
        [list(credentials), list(IDENTITY_OPERATIONS)],
    ).fetchall()
    return [CreatedIdentity(*row) for row in rows]


def exposures(con: duckdb.DuckDBPyConnection, credentials: Sequence[str]) -> list[Exposure]:
    """Exposures recorded by `stormwatch scan --db` for the group's credentials."""
    if not credentials or "exposures" not in _tables(con):
        return []
    rows = con.execute(
        f"""
        WITH c AS (SELECT UNNEST($credentials) AS credential_id)
        SELECT x.credential_id, x.location, x.rule_id, x.exposed_at,
          (SELECT MIN(e.time) FROM events AS e
           WHERE list_contains($credentials, e.credential_id) AND {EXPOSURE_MATCH}
             AND e.time > x.exposed_at)
        FROM exposures AS x
        WHERE EXISTS (SELECT 1 FROM c AS e WHERE {EXPOSURE_MATCH})
        ORDER BY x.exposed_at
        """,
        {"credentials": list(credentials)},
    ).fetchall()
    return [Exposure(*row) for row in rows]
