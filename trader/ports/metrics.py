"""Metrics port: what the engine services report (orders, tick latency, equity, open positions, alerts).

``trader.adapters.ops.health.Metrics`` satisfies it structurally; services default to ``NO_METRICS`` so a
service built without metrics (tests, tools) reports nowhere.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Protocol


class EngineMetrics(Protocol):
    """Receive the engine's measurements; every method is cheap and never raises."""

    def set_open_positions(self, count: int) -> None:
        """Record the number of open positions."""
        ...

    def set_equity(self, equity: Decimal) -> None:
        """Record account equity in the quote currency."""
        ...

    def order_placed(self) -> None:
        """Count one order the venue accepted."""
        ...

    def order_failed(self) -> None:
        """Count one order the venue rejected."""
        ...

    def observe_tick(self, seconds: float) -> None:
        """Record how long one strategy tick took, in seconds."""
        ...

    def set_alerts_pending(self, count: int) -> None:
        """Record how many alerts wait for delivery."""
        ...


class NoMetrics:
    """Discard every measurement (the default when no metrics are wired)."""

    def set_open_positions(self, count: int) -> None:
        """Ignore ``count``."""

    def set_equity(self, equity: Decimal) -> None:
        """Ignore ``equity``."""

    def order_placed(self) -> None:
        """Ignore the order."""

    def order_failed(self) -> None:
        """Ignore the order."""

    def observe_tick(self, seconds: float) -> None:
        """Ignore the duration."""

    def set_alerts_pending(self, count: int) -> None:
        """Ignore ``count``."""


NO_METRICS: Final[EngineMetrics] = NoMetrics()
