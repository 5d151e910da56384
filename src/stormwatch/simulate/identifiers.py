"""Identifiers, addresses and timestamps drawn from a seeded random source.

Every value that looks like a credential is generated here at run time from the seed, so the
repository itself holds no secret-looking literal. Times are integer microseconds since the Unix
epoch (``us``): integers keep .NET ticks exact and make rendering cheap.
"""

from __future__ import annotations

import hashlib
import string
import time
from functools import lru_cache
from random import Random

BASE32 = string.ascii_uppercase + "234567"
ALNUM = string.ascii_letters + string.digits
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
# Microseconds between 0001-01-01 (the .NET epoch) and 1970-01-01.
_DOTNET_EPOCH_OFFSET_US = 62_135_596_800_000_000
# Documentation networks (RFC 5737): used for the organisation's own egress.
DOC_NETWORKS = ("192.0.2", "198.51.100", "203.0.113")


class SimRandom(Random):
    """``random.Random`` plus cheap UUID-shaped ids.

    Formatting 128 random bits costs more than rendering half a record, so each random stream
    draws one random UUID prefix and completes it with 48 random bits per id: still unique
    within a run, still random-looking, four times cheaper.
    """

    def __init__(self, seed: str) -> None:
        super().__init__(seed)
        h = f"{self.getrandbits(80):020x}"
        self._prefix = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-a{h[15:18]}-{h[18:20]}"

    def uuid(self) -> str:
        """A UUID-shaped random id."""
        return f"{self._prefix}{self.getrandbits(40):010x}"


def uuid4(rng: Random) -> str:
    """A fully random UUID (version nibble set like uuid4) for low-volume records."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def hex_id(rng: Random, length: int) -> str:
    """``length`` random lowercase hex digits."""
    return f"{rng.getrandbits(4 * length):0{length}x}"


def token(rng: Random, alphabet: str, length: int) -> str:
    """``length`` characters drawn from ``alphabet``."""
    return "".join(rng.choices(alphabet, k=length))


def aws_key_id(rng: Random, prefix: str = "AKIA") -> str:
    """An AWS access key id shape: AKIA (long-term) or ASIA (session) + 16 of [A-Z2-7]."""
    return prefix + token(rng, BASE32, 16)


def aws_account_id(rng: Random) -> str:
    """A 12-digit AWS account id that does not start with 0."""
    return str(rng.randrange(100_000_000_000, 999_999_999_999))


def sha256_hex(value: str) -> str:
    """Hex SHA-256, the fingerprint LiteLLM stores for a virtual key."""
    return hashlib.sha256(value.encode()).hexdigest()


def random_user_name(rng: Random) -> str:
    """Six lowercase letters + three digits, the shape of attacker-created IAM users."""
    return token(rng, string.ascii_lowercase, 6) + f"{rng.randrange(1000):03d}"


def public_network(rng: Random) -> str:
    """A plausible public /24 prefix (``a.b.c``) outside private and reserved space."""
    while True:
        a = rng.randrange(11, 224)
        if a in (100, 127, 169, 172, 192, 198, 203):
            continue
        return f"{a}.{rng.randrange(256)}.{rng.randrange(256)}"


def host(network: str, rng: Random) -> str:
    """A host address in a /24 prefix ``a.b.c``."""
    return f"{network}.{rng.randrange(2, 254)}"


def mask_ip(ip: str) -> str:
    """Azure diagnostic-log masking: the last octet becomes ``***``."""
    return ip[: ip.rfind(".") + 1] + "***"


def zero_padded_ip(ip: str) -> str:
    """The anonymised form some public CloudTrail datasets use, e.g. ``035.249.253.232``."""
    return ".".join(f"{int(part):03d}" for part in ip.split("."))


def dotnet_ticks(us: int) -> int:
    """.NET ticks (100 ns since 0001-01-01) for a Unix time in microseconds."""
    return (us + _DOTNET_EPOCH_OFFSET_US) * 10


@lru_cache(maxsize=8192)
def hour_prefix(hour: int) -> str:
    """``YYYY-MM-DDTHH:`` for an hour index since the epoch (pure, so caching is safe)."""
    return time.strftime("%Y-%m-%dT%H:", time.gmtime(hour * 3600))


_TWO = tuple(f"{i:02d}" for i in range(60))


def iso_seconds(us: int) -> str:
    """``2025-06-02T09:01:02Z`` (CloudTrail, Bedrock invocation logs)."""
    sec = us // 1_000_000
    rest = sec % 3600
    return f"{hour_prefix(sec // 3600)}{_TWO[rest // 60]}:{_TWO[rest % 60]}Z"


def iso_ticks(us: int) -> str:
    """``2025-06-02T09:01:02.1234560Z`` (Azure Monitor's seven fractional digits)."""
    sec = us // 1_000_000
    rest = sec % 3600
    return f"{hour_prefix(sec // 3600)}{_TWO[rest // 60]}:{_TWO[rest % 60]}.{us % 1_000_000:06d}0Z"


def iso_micros(us: int) -> str:
    """``2025-06-02T09:01:02.123456`` (LiteLLM's Python ``isoformat`` without offset)."""
    sec = us // 1_000_000
    rest = sec % 3600
    return f"{hour_prefix(sec // 3600)}{_TWO[rest // 60]}:{_TWO[rest % 60]}.{us % 1_000_000:06d}"


def compact_time(us: int) -> str:
    """``20250602T0905Z``, the timestamp in CloudTrail object names."""
    return time.strftime("%Y%m%dT%H%MZ", time.gmtime(us // 1_000_000))
