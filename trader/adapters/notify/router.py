"""AlertRouter: send each alert to the channels subscribed to its severity; hold back repeated errors.

With ``redact`` (the log redactor's ``redact``), every known secret is removed from the text first.

The router is itself a Notifier, so the alert outbox sees one port. When some channels fail, it raises
NotifyError and remembers which channels already delivered that alert, so the outbox's retry reaches
only the failed ones (the outbox delivers in order, so the retry is the next call). Repeats of an
alert with the same ``dedupe_key`` inside the window are held back and counted in the next message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TextIO

from trader.adapters.notify.console_channel import ConsoleNotifier
from trader.adapters.notify.render import repeat_note
from trader.config import NotifyConfig
from trader.core.domain.alerts import Alert, Severity
from trader.core.errors import NotifyError
from trader.ports.clock import Clock
from trader.ports.notify import Notifier

logger = logging.getLogger(__name__)

_Fingerprint = tuple[str, str, Severity, str | None, int]


@dataclass(frozen=True, slots=True)
class Route:
    """A named channel and the lowest severity it receives."""

    name: str
    channel: Notifier
    min_severity: Severity = Severity.INFO

    def accepts(self, alert: Alert) -> bool:
        """Return True when the alert is at or above this route's minimum severity."""
        return alert.severity.rank >= self.min_severity.rank


class AlertRouter:
    """Route alerts by severity to channels and de-duplicate by ``dedupe_key`` within a window."""

    def __init__(self, routes: Sequence[Route], clock: Clock,
                 dedupe_window: timedelta = timedelta(minutes=10),
                 redact: Callable[[str], str] | None = None) -> None:
        names = [r.name for r in routes]
        if len(set(names)) != len(names):
            raise ValueError(f"route names must be unique: {names}")
        self._routes = tuple(routes)
        self._clock = clock
        self._window = dedupe_window
        self._redact = redact
        self._last_sent: dict[str, datetime] = {}
        self._suppressed: dict[str, int] = {}
        self._delivered_to: dict[_Fingerprint, set[str]] = {}

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Return the configured route names in order."""
        return tuple(r.name for r in self._routes)

    async def send(self, alert: Alert) -> None:
        """Deliver to every subscribed channel; NotifyError names the channels that failed."""
        targets = [r for r in self._routes if r.accepts(alert)]
        if not targets or self._is_repeat(alert):
            return
        key = alert.dedupe_key
        held_back = self._suppressed.get(key, 0) if key else 0
        if held_back:
            alert = replace(alert, text=f"{alert.text}\n{repeat_note(held_back)}")
        if self._redact is not None:  # error texts may quote a URL or exception that carries a secret
            alert = replace(alert, text=self._redact(alert.text))
        fingerprint = (alert.kind, alert.text, alert.severity, key, len(alert.image or b""))
        done = self._delivered_to.setdefault(fingerprint, set())
        pending = [r for r in targets if r.name not in done]
        results = await asyncio.gather(*(r.channel.send(alert) for r in pending), return_exceptions=True)
        failed: list[str] = []
        for route, outcome in zip(pending, results, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome  # cancellation and interrupts are not delivery failures
                failed.append(f"{route.name} ({type(outcome).__name__}: {outcome})")
                logger.warning("alert channel %s failed: %s", route.name, outcome)
            else:
                done.add(route.name)
        if failed:
            reasons = "; ".join(failed)
            if self._redact is not None:
                reasons = self._redact(reasons)
            raise NotifyError(f"alert not delivered to {reasons}; {len(done)} channel(s) did get it")
        del self._delivered_to[fingerprint]
        if key:
            self._last_sent[key] = self._clock.now()
            self._suppressed.pop(key, None)

    def _is_repeat(self, alert: Alert) -> bool:
        key = alert.dedupe_key
        if key is None:
            return False
        now = self._clock.now()
        self._forget_older_than(now - self._window)
        if key not in self._last_sent:
            return False
        self._suppressed[key] = self._suppressed.get(key, 0) + 1
        logger.info("held back a repeat of alert %s (%d so far)", key, self._suppressed[key])
        return True

    def _forget_older_than(self, cutoff: datetime) -> None:
        for key in [k for k, t in self._last_sent.items() if t <= cutoff]:
            del self._last_sent[key]


def build_routes(config: NotifyConfig, telegram: Notifier | None = None,
                 console_stream: TextIO | None = None) -> list[Route]:
    """Return the routes for ``config``: Telegram (all alerts), console, apprise URLs from min_severity.

    The console is added when enabled, and always when there is no Telegram channel.
    """
    routes: list[Route] = []
    if telegram is not None:
        routes.append(Route("telegram", telegram))
    if config.console or telegram is None:
        routes.append(Route("console", ConsoleNotifier(console_stream)))
    if config.apprise_urls:
        from trader.adapters.notify.apprise_channel import (
            AppriseNotifier,  # apprise loads 180 plugins: only when used
        )

        urls = [u.get_secret_value() for u in config.apprise_urls]
        routes.append(Route("apprise", AppriseNotifier(urls), Severity(config.min_severity)))
    return routes
