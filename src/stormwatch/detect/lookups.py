"""Lookup tables rules join against, and the allowlist that keeps trusted activity out.

Tables (created when missing, in the same DuckDB store as ``events``):

- ``canaries(credential_id, label, added_at)``: credentials whose any use is an alert;
- ``exposures(credential_id, fingerprint, rule_id, location, exposed_at)``: credentials ``scan``
  found exposed; use after ``exposed_at`` is an alert. An Azure key is recorded as
  ``azure-account:<name>`` (its endpoint's account), which stands for the events of
  ``azure-key:<resource id ending in /accounts/name>`` (:data:`EXPOSURE_MATCH`);
- ``ip_intel(network, label)``: user-supplied networks (Tor exits, threat intel), IPv4 or CIDR.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml

from stormwatch.detect.portable import literal
from stormwatch.events.parsers.litellm import CREDENTIAL_PREFIX, key_credential

AZURE_ACCOUNT_PREFIX = "azure-account:"
# An event credential ``e`` is the exposed credential ``x``: the same id, or the Azure account a
# key's endpoint named (Azure logs name the resource, the key file names its endpoint host).
EXPOSURE_MATCH = (
    f"(e.credential_id = x.credential_id OR (x.credential_id LIKE '{AZURE_ACCOUNT_PREFIX}%'"
    " AND e.credential_id LIKE 'azure-key:%' AND e.credential_id LIKE"
    f" ('%/accounts/' || SUBSTR(x.credential_id, {len(AZURE_ACCOUNT_PREFIX) + 1}))))"
)
LOOKUP_DDL: Mapping[str, str] = {
    "canaries": "credential_id VARCHAR, label VARCHAR, added_at TIMESTAMP",
    "exposures": (
        "credential_id VARCHAR, fingerprint VARCHAR, rule_id VARCHAR, location VARCHAR, "
        "exposed_at TIMESTAMP"
    ),
    "ip_intel": "network VARCHAR, label VARCHAR",
}


def ensure_lookup_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the lookup tables that do not exist yet (never alters existing ones)."""
    for table, columns in LOOKUP_DDL.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")


@dataclass(frozen=True)
class Canary:
    """A registered canary credential."""

    credential_id: str
    label: str
    added_at: datetime


# LiteLLM shows a virtual key as the sha256 of its text (``token``, ``api_key`` in spend logs).
_LITELLM_KEY_PREFIX = "sk-"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def canary_credential_id(value: str) -> str:
    """The credential id events carry for a canary given as users know it: a LiteLLM key's hash
    (64 hex digits, as LiteLLM's tables show it) or the virtual key itself (``sk-...``, hashed
    here as LiteLLM does: the key is never stored); any other value as it is."""
    text = value.strip()
    if _SHA256_HEX.fullmatch(text.lower()):
        return CREDENTIAL_PREFIX + text.lower()
    if text.startswith(_LITELLM_KEY_PREFIX):
        return key_credential(text)
    return text


def add_canary(
    con: duckdb.DuckDBPyConnection, credential_id: str, label: str, added_at: datetime | None = None
) -> Canary:
    """Register (or relabel) a canary credential (``credential_id`` as events carry it: see
    :func:`canary_credential_id`)."""
    ensure_lookup_tables(con)
    when = added_at or datetime.now(UTC).replace(tzinfo=None)
    con.execute("DELETE FROM canaries WHERE credential_id = ?", [credential_id])
    con.execute("INSERT INTO canaries VALUES (?, ?, ?)", [credential_id, label, when])
    return Canary(credential_id, label, when)


def list_canaries(con: duckdb.DuckDBPyConnection) -> tuple[Canary, ...]:
    """Registered canaries, oldest first."""
    ensure_lookup_tables(con)
    rows = con.execute("SELECT * FROM canaries ORDER BY added_at, credential_id").fetchall()
    return tuple(Canary(str(c), str(lbl), when) for c, lbl, when in rows)


def remove_canary(con: duckdb.DuckDBPyConnection, credential_id: str) -> bool:
    """Unregister a canary; False when it was not registered."""
    ensure_lookup_tables(con)
    found = con.execute("SELECT count(*) FROM canaries WHERE credential_id = ?", [credential_id])
    row = found.fetchone()
    con.execute("DELETE FROM canaries WHERE credential_id = ?", [credential_id])
    return bool(row and row[0])


def parse_ip_list(lines: Iterable[str], default_label: str) -> list[tuple[str, str]]:
    """(network, label) pairs from lines ``NETWORK [LABEL]`` or ``NETWORK,LABEL``; ``#`` comments.

    Raises ``ValueError`` naming the line of an entry that is not an IP address or network.
    """
    entries = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        network, _, label = line.replace(",", " ", 1).partition(" ")
        try:
            parsed = ipaddress.ip_network(network.strip(), strict=False)
        except ValueError as exc:
            raise ValueError(f"line {number}: {network!r} is not an IP address or network") from exc
        entries.append((str(parsed), label.strip() or default_label))
    return entries


def load_ip_list(con: duckdb.DuckDBPyConnection, path: Path, *, replace: bool = True) -> int:
    """Load the networks of an IP list file into ``ip_intel`` (replacing its rows unless told
    otherwise); returns how many were loaded. Raises ``ValueError`` for a bad line."""
    ensure_lookup_tables(con)
    entries = parse_ip_list(path.read_text(encoding="utf-8-sig").splitlines(), path.stem)
    if replace:
        con.execute("DELETE FROM ip_intel")
    if entries:
        con.executemany("INSERT INTO ip_intel VALUES (?, ?)", entries)
    return len(entries)


@dataclass(frozen=True)
class Allowlist:
    """Trusted principals, source IPs / networks, user agents and credentials: their events are
    left out of detection (and out of baselines)."""

    principals: tuple[str, ...] = ()
    src_ips: tuple[str, ...] = ()
    user_agents: tuple[str, ...] = ()
    credential_ids: tuple[str, ...] = ()

    def condition(self) -> str:
        """Portable SQL condition true for an allowlisted event (FALSE when empty)."""
        terms = [
            f"COALESCE({column} IN {literal(values)}, FALSE)"
            for column, values in (
                ("principal", self.principals),
                ("user_agent", self.user_agents),
                ("credential_id", self.credential_ids),
            )
            if values
        ]
        for entry in self.src_ips:
            net = ipaddress.ip_network(entry, strict=False)
            if net.version == 4 and net.num_addresses > 1:
                low, high = int(net.network_address), int(net.broadcast_address)
                terms.append(f"COALESCE(IPV4_INT(src_ip) BETWEEN {low} AND {high}, FALSE)")
            else:
                terms.append(f"COALESCE(src_ip = {literal(entry)}, FALSE)")
        return " OR ".join(terms) or "FALSE"


ALLOWLIST_KEYS = ("principals", "src_ips", "user_agents", "credential_ids")


def load_allowlist(path: Path) -> Allowlist:
    """Read an allowlist YAML (lists under the keys of ``Allowlist``); raises ``ValueError``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not YAML: {exc}") from exc
    if not isinstance(data, Mapping) or set(data) - set(ALLOWLIST_KEYS):
        raise ValueError(f"{path}: expected a mapping with keys {', '.join(ALLOWLIST_KEYS)}")
    values: dict[str, tuple[str, ...]] = {}
    for key in ALLOWLIST_KEYS:
        items = data.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"{path}: {key} must be a list of strings")
        values[key] = tuple(items)
    for entry in values["src_ips"]:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ValueError(f"{path}: src_ips: {entry!r} is not an IP address or network") from exc
    return Allowlist(**values)
