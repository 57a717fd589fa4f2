"""Clocks implementing ``trader.ports.clock.Clock``: the system clock live, a settable one for replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SystemClock:
    """Wall-clock UTC time."""

    def now(self) -> datetime:
        """Return the current aware UTC datetime."""
        return datetime.now(UTC)


class SimClock:
    """A clock that only moves when told to: backtests, replays and tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the simulated time."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``; time never runs backwards."""
        if moment < self._now:
            raise ValueError(f"SimClock cannot go back from {self._now} to {moment}")
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        self.set(self._now + delta)
