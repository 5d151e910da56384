"""The simulator's labelled canaries and exposed credentials, registered in a detection store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from stormwatch.detect import add_canary, ensure_lookup_tables

EXPOSED_FIELDS = ("exposed_aws_key_id", "exposed_gateway_key_hash")


def register_labels(con: duckdb.DuckDBPyConnection, labels: dict[str, Any]) -> None:
    """Canaries and exposures of ``labels.json`` as the lookup rows `canary add` and `scan --db`
    would write."""
    ensure_lookup_tables(con)
    for key in labels.get("canary_keys", []):
        add_canary(con, key if isinstance(key, str) else key["key_id"], "simulated canary")
    for exposed in labels.get("exposed_credentials", []):
        when = datetime.fromisoformat(exposed["exposed_at"].replace("Z", "+00:00"))
        for field in EXPOSED_FIELDS:
            if exposed.get(field):
                con.execute(
                    "INSERT INTO exposures VALUES (?, 'fp', 'sim', ?, ?)",
                    [exposed[field], exposed.get("path", "?"), when.replace(tzinfo=None)],
                )
