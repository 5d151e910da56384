"""What every attack playbook gets: the world, the window, a random stream and a recorder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from stormwatch.simulate import render_aws
from stormwatch.simulate.identifiers import HOUR_US, SimRandom, host, public_network
from stormwatch.simulate.plan import Plan
from stormwatch.simulate.sinks import FileKey
from stormwatch.simulate.world import AwsPrincipal, World

Injected = tuple[FileKey, int, str, str]
T = TypeVar("T")

SDK_JS = (
    "aws-sdk-js/3.590.0 ua/2.0 os/linux#5.15.0 lang/js md/nodejs#20.14.0 "
    "api/bedrock-runtime#3.590.0"
)
BOTO3 = "Boto3/1.34.131 md/Botocore#1.34.131 ua/2.0 os/linux#6.5.0 lang/python#3.10.12"
PROXY_UAS = ("", "axios/1.7.2", "OpenAI/NodeJS/4.52.0", "node-fetch/1.0")


@dataclass
class Recorder:
    """Collects one playbook's records; drops any that fall outside the window."""

    plan: Plan
    tag: str
    records: list[Injected] = field(default_factory=list)

    def __call__(self, key: FileKey, us: int, line: str, tag: str = "") -> None:
        if self.plan.start_us <= us < self.plan.end_us and key[2] == us // HOUR_US:
            self.records.append((key, us, line, self.tag))


@dataclass(frozen=True)
class Context:
    """Inputs of one playbook run."""

    world: World
    plan: Plan
    rng: SimRandom
    emit: Recorder

    def networks(self, n: int) -> list[str]:
        """``n`` fresh attacker /24 prefixes (``a.b.c``)."""
        return [public_network(self.rng) for _ in range(n)]

    def hosts(self, networks: list[str], per_network: int) -> list[str]:
        """Addresses inside the given prefixes."""
        return [host(net, self.rng) for net in networks for _ in range(per_network)]

    def pick(self, values: Sequence[T]) -> T:
        """One value at random."""
        return values[int(self.rng.random() * len(values))]

    def aws_caller(
        self, principal: AwsPrincipal, key_id: str, ip: str, ua: str
    ) -> render_aws.Caller:
        """A CloudTrail caller using ``principal``'s identity with ``key_id``."""
        return render_aws.Caller(
            render_aws.identity_json(principal, key_id),
            principal.account.account_id,
            ip,
            ua,
        )

    def times(self, start: int, span_us: int, n: int) -> list[int]:
        """``n`` sorted random times in ``[start, start + span_us)``."""
        return sorted(start + int(self.rng.random() * span_us) for _ in range(n))


def cidr(network: str) -> str:
    """``a.b.c`` → ``a.b.c.0/24``."""
    return f"{network}.0/24"


MINUTE = 60_000_000
HOUR = 60 * MINUTE
