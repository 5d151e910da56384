"""Pure coercions from raw log values to normalized column values.

Each function returns the value, or ``None`` plus a :class:`Problem` when the raw value is
impossible. Parsers decide whether a problem rejects the record (a bad timestamp) or only blanks
one field (a service name where an IP should be).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from iptocc import country_code

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_COUNT = 2**63 - 1
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
# .NET ticks (100 ns since 0001-01-01) of the Unix epoch.
DOTNET_EPOCH_TICKS = 621_355_968_000_000_000
_DOTTED_QUAD = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}|\*{1,3})")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a record was rejected, or why one of its fields was left empty.

    ``reason`` is a short fixed category that reports count by; ``detail`` carries the value.
    ``ignore`` marks a record that is no event by design (an APIM record holding only message
    text): it is counted per file as ignored, not rejected, and is no error.
    """

    reason: str
    detail: str = ""
    ignore: bool = False


def within_range(moment: datetime) -> Problem | None:
    """A problem when ``moment`` lies outside the years any real log can hold."""
    if EARLIEST <= moment < LATEST:
        return None
    return Problem("timestamp out of range", moment.isoformat())


def parse_iso_time(value: Any) -> tuple[datetime | None, Problem | None]:
    """ISO-8601 text (``Z`` or offset; no offset means UTC) as an aware UTC datetime."""
    if value is None or value == "":
        return None, Problem("missing time", repr(value)[:80])
    if not isinstance(value, str):  # present, but not text: epoch numbers are no ISO time
        return None, Problem("invalid time", repr(value)[:80])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, Problem("invalid time", value[:80])
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    problem = within_range(moment)
    return (None, problem) if problem else (moment, None)


def parse_epoch_seconds(value: Any) -> tuple[datetime | None, Problem | None]:
    """Unix seconds (int or float) as an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, Problem("missing time", repr(value)[:80])
    try:
        moment = EPOCH + timedelta(seconds=value)
    except OverflowError:
        return None, Problem("timestamp out of range", repr(value)[:80])
    problem = within_range(moment)
    return (None, problem) if problem else (moment, None)


def parse_dotnet_ticks(value: Any) -> tuple[datetime | None, Problem | None]:
    """.NET ticks (100 ns units since 0001-01-01 UTC) as an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None, Problem("missing time", repr(value)[:80])
    try:
        moment = EPOCH + timedelta(microseconds=(value - DOTNET_EPOCH_TICKS) // 10)
    except OverflowError:
        return None, Problem("timestamp out of range", repr(value)[:80])
    problem = within_range(moment)
    return (None, problem) if problem else (moment, None)


def epoch_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    return (moment - EPOCH) // ONE_MICROSECOND


def normalize_ip(value: Any) -> tuple[str | None, bool | None, Problem | None]:
    """Caller address as ``(ip, masked, problem)``; see :func:`_normalize_ip`."""
    if value is None or value == "":
        return None, None, None
    if not isinstance(value, str):
        return None, None, Problem("invalid ip", repr(value)[:80])
    return _normalize_ip(value)


# Pure and bounded: a log repeats few callers many times, so most look-ups are hits.
@lru_cache(maxsize=1 << 16)
def _normalize_ip(value: str) -> tuple[str | None, bool | None, Problem | None]:
    """Caller address as ``(ip, masked, problem)``.

    * ``203.0.113.***`` (Azure masks the last octet) becomes the network ``203.0.113.0/24``
      with ``masked=True``: the network is all the log knows, and it still joins on prefix.
    * ``035.249.253.232`` (anonymised datasets pad octets to three digits) is read as decimal
      and normalised to ``35.249.253.232``; nobody writes octal in logs, and keeping the padded
      text would make the same caller two different IPs. The address is kept, with a
      ``padded ip`` problem: a note, so the report says where such values were.
    * An AWS service name (``bedrock.amazonaws.com``, ``AWS Internal``: a service calling on
      the account's behalf) gives ``None`` and a ``service name as ip`` problem; anything else
      that is not an IPv4/IPv6 address gives ``None`` and an ``invalid ip`` problem, never an
      exception.

    A problem is always a note on a kept event: the address, when there is one, is still used.
    """
    quad = _DOTTED_QUAD.fullmatch(value)
    if quad is not None:
        return _dotted_quad(quad, value)
    try:
        return str(ipaddress.ip_address(value.strip("[]"))), False, None
    except ValueError:
        pass
    if value.endswith(".amazonaws.com") or value == "AWS Internal":
        # AWS documents these: a service calling on the account's behalf; counted apart from
        # values that are wrong, which they would otherwise bury
        return None, None, Problem("service name as ip", value[:80])
    return None, None, Problem("invalid ip", value[:80])


def _dotted_quad(quad: re.Match[str], value: str) -> tuple[str | None, bool | None, Problem | None]:
    first, second, third, fourth = quad.groups()
    octets = [int(first), int(second), int(third)]
    masked = fourth.startswith("*")
    if not masked:
        octets.append(int(fourth))
    if any(octet > 255 for octet in octets):
        return None, None, Problem("invalid ip", value[:80])
    address = ".".join(map(str, octets)) + (".0/24" if masked else "")
    padded = any(len(part) > 1 and part.startswith("0") for part in quad.groups())
    note = Problem("padded ip", f"{value[:40]} read as {address}") if padded else None
    return address, masked, note


def country_of(address: str | None) -> str | None:
    """The ISO 3166 country that an address (or a masked network's first address) is
    registered to by its Regional Internet Registry, offline; ``None`` for private, reserved
    and documentation space. Where the block is used may differ (RIR data agrees with
    commercial geolocation for about 95% of IPv4 addresses)."""
    if not address:
        return None
    return country_code(address.partition("/")[0])


def count_value(value: Any, name: str) -> tuple[int | None, Problem | None]:
    """A non-negative integer count (tokens, bytes); absent gives ``None`` without a problem."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, Problem(f"invalid {name}", repr(value))
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return None, Problem(f"invalid {name}", value[:80])
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        return None, Problem(f"invalid {name}", repr(value)[:80])
    if value < 0:
        return None, Problem(f"negative {name}", str(value))
    if value > MAX_COUNT:  # no BIGINT column holds it
        return None, Problem(f"invalid {name}", str(value)[:80])
    return value, None


def amount_value(value: Any, name: str) -> tuple[float | None, Problem | None]:
    """A non-negative amount (cost); absent gives ``None`` without a problem."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, Problem(f"invalid {name}", repr(value))
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None, Problem(f"invalid {name}", repr(value)[:80])
    if amount != amount or amount < 0:  # NaN or negative
        return None, Problem(f"negative {name}", repr(value)[:80])
    return amount, None


def http_status(value: Any) -> int | None:
    """An HTTP status from ``200``, ``200.0`` (a Log Analytics real), ``"200"``; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if 100 <= value <= 599 else None
    if isinstance(value, str) and value.isdigit():
        code = int(value)
        return code if 100 <= code <= 599 else None
    return None


def text(value: Any) -> str | None:
    """A string field as text; other JSON types are kept as their JSON-ish ``str``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(value)
