"""SwitchableNotifier: the alert outbox's one Notifier, re-routed when Telegram becomes available.

The bot builds the Telegram channel only after the runtime exists (it needs the PTB Application), so
the container starts with console/apprise routes and ``use_telegram`` swaps in a router that has the
Telegram route too. Delivery state of an alert in flight stays with the router that sent it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from trader.adapters.notify.router import AlertRouter, build_routes
from trader.config import NotifyConfig
from trader.core.domain.alerts import Alert
from trader.ports.clock import Clock
from trader.ports.notify import Notifier


class SwitchableNotifier:
    """A Notifier delegating to the current AlertRouter."""

    def __init__(self, config: NotifyConfig, clock: Clock, *, redact: Callable[[str], str] | None = None,
                 console: TextIO | None = None) -> None:
        self._config = config
        self._clock = clock
        self._redact = redact
        self._console = console
        self.router = AlertRouter(build_routes(config, None, console), clock, redact=redact)

    def use_telegram(self, telegram: Notifier) -> None:
        """Route alerts to Telegram too (and to the console only when ``notify.console`` is on)."""
        self.router = AlertRouter(build_routes(self._config, telegram, self._console), self._clock,
                                  redact=self._redact)

    async def send(self, alert: Alert) -> None:
        """Deliver through the current router."""
        await self.router.send(alert)
