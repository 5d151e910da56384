"""The frozen settings of one run and the moments derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from stormwatch.simulate.identifiers import DAY_US, HOUR_US

# A fixed Monday: the default keeps runs reproducible (``start`` overrides it).
DEFAULT_START = datetime(2025, 6, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Plan:
    """What to simulate: window, volume, seed and wanted formats."""

    seed: int
    start_us: int
    days: int
    scale: float
    formats: frozenset[str]
    scenarios: tuple[str, ...]

    @property
    def end_us(self) -> int:
        """End of the window (exclusive)."""
        return self.start_us + self.days * DAY_US

    @property
    def first_hour(self) -> int:
        """Hour index (since the epoch) of the window's first hour."""
        return self.start_us // HOUR_US

    def at(self, fraction: float) -> int:
        """The time ``fraction`` of the way through the window, to the second."""
        us = self.start_us + int((self.end_us - self.start_us) * fraction)
        return us - us % 1_000_000

    def moment(self, fraction: float, hour_of_day: int) -> int:
        """``hour_of_day`` o'clock (UTC) on the day ``fraction`` of the way through the window."""
        day = min(int(self.days * fraction), self.days - 1)
        midnight = self.start_us - self.start_us % DAY_US
        return max(self.start_us, midnight + day * DAY_US + hour_of_day * HOUR_US)

    def clamp(self, us: int) -> int:
        """``us`` forced inside the window."""
        return min(max(us, self.start_us), self.end_us - 1)


def to_us(value: datetime) -> int:
    """Microseconds since the epoch of an aware (or UTC-naive) datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp()) * 1_000_000 + value.microsecond


def from_us(us: int) -> datetime:
    """Aware UTC datetime of microseconds since the epoch."""
    return datetime.fromtimestamp(us // 1_000_000, tz=UTC).replace(microsecond=us % 1_000_000)
