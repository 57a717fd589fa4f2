"""Notifier port: deliver an alert to one channel."""

from __future__ import annotations

from typing import Protocol

from trader.core.domain.alerts import Alert


class Notifier(Protocol):
    """A delivery channel; raises on failure so the outbox can retry."""

    async def send(self, alert: Alert) -> None:
        """Deliver one alert."""
        ...
