"""Clock port: time is injected, never read directly by core or services."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Source of the current UTC time (system clock live, simulated clock in backtest/replay)."""

    def now(self) -> datetime:
        """Return the current aware UTC datetime."""
        ...
