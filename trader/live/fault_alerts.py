"""Faults the running service notices in its own work, alerted once per episode instead of only logged.

Sources: a scheduled job that raised (a tick, the protection monitor, the equity job ...), the venue
leaving several calls in a row unanswered (repeated timeouts, seen on the ``VenueWatch``), and an order
intent left unsent in the outbox for over a minute. An *episode* opens with the first fault and
closes once every failing source has succeeded again and ``quiet_seconds`` passed without a fault;
everything in between is grouped into the one alert sent when it opened (a venue outage fails every
job at once: that is one alert, not one per job and run). On close, one "fault_cleared" note sums the
episode up. Rate limit: an episode opening within ``min_interval`` of the last fault alert is not
alerted on its own; it is counted and named in the next alert, so a flapping venue cannot flood the
chat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from trader.core.domain.alerts import Alert, Severity
from trader.live.alerts import AlertService
from trader.live.execution import outbox_ids
from trader.live.trading import TradingService
from trader.live.venue_watch import VenueWatch
from trader.ports.clock import Clock

logger = logging.getLogger(__name__)

FAULT_KIND = "fault"
CLEARED_KIND = "fault_cleared"
UNANSWERED_STREAK = 3  # venue calls in a row without an answer that make a fault by themselves
STUCK_INTENT = timedelta(minutes=1)


@dataclass
class Episode:
    """One stretch of faults: when it began, the last fault, and failures per source."""

    number: int
    started: float
    last_fault: float
    counts: dict[str, int] = field(default_factory=dict)
    alerted: bool = False


class FaultAlerts:
    """Group faults into episodes and alert each episode once (see the module docstring)."""

    def __init__(self, alerts: AlertService, *, quiet_seconds: float = 120.0, min_interval: float = 600.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._alerts = alerts
        self._quiet = quiet_seconds
        self._min_interval = min_interval
        self._now = now
        self._failing: dict[str, str] = {}
        self._episode: Episode | None = None
        self._episodes = 0
        self._last_alert_at: float | None = None
        self._unalerted = 0  # episodes swallowed by the rate limit since the last alert

    @property
    def episode(self) -> Episode | None:
        """Return the open episode, if any."""
        return self._episode

    async def failed(self, source: str, error: str) -> None:
        """Record a fault of ``source``; the first one of an episode is alerted (rate limit permitting)."""
        now = self._now()
        self._failing[source] = error
        episode = self._episode
        if episode is None:
            self._episodes += 1
            episode = self._episode = Episode(self._episodes, now, now)
        episode.last_fault = now
        episode.counts[source] = episode.counts.get(source, 0) + 1
        if episode.alerted or sum(episode.counts.values()) > 1:
            return
        if self._last_alert_at is not None and now - self._last_alert_at < self._min_interval:
            self._unalerted += 1
            logger.warning("fault (alert held back by the rate limit): %s: %s", source, error)
            return
        earlier = (f" ({self._unalerted} earlier fault episode(s) were not alerted on their own.)"
                   if self._unalerted else "")
        text = (f"Fault: {source} failed: {error}. Further faults are grouped under this alert until "
                f"everything works again.{earlier}")
        if await self._publish(Alert(FAULT_KIND, text, Severity.ERROR, dedupe_key=f"fault-{episode.number}")):
            episode.alerted = True
            self._last_alert_at = now
            self._unalerted = 0

    async def succeeded(self, source: str) -> None:
        """Record that ``source`` works again; close the episode when nothing fails and it was quiet."""
        self._failing.pop(source, None)
        episode = self._episode
        if episode is None or self._failing or self._now() - episode.last_fault < self._quiet:
            return
        self._episode = None
        total = sum(episode.counts.values())
        parts = ", ".join(f"{s} x{n}" for s, n in sorted(episode.counts.items()))
        minutes = (self._now() - episode.started) / 60
        logger.info("fault episode %d over: %d fault(s) in %.1f min (%s)", episode.number, total, minutes,
                    parts)
        if episode.alerted:
            text = f"Recovered: {total} fault(s) over {minutes:.1f} min ({parts})."
            await self._publish(Alert(CLEARED_KIND, text, Severity.WARNING,
                                      dedupe_key=f"fault-{episode.number}-over"))

    async def _publish(self, alert: Alert) -> bool:
        try:
            await self._alerts.publish(alert)
        except Exception as exc:  # the store may be the failing part; the log keeps the fault
            logger.error("fault alert not queued: %s: %s", type(exc).__name__, exc)
            return False
        return True


class FaultChecks:
    """The periodic checks that are not a job's own failure: the venue's streak and stuck intents."""

    def __init__(self, faults: FaultAlerts, watch: VenueWatch, trading: Callable[[], TradingService],
                 clock: Clock, *, watch_venue: bool = True) -> None:
        self._faults = faults
        self._watch_venue = watch_venue  # False: the venue's circuit breaker alerts on its outages
        self._watch = watch
        self._trading = trading
        self._clock = clock

    async def run(self) -> None:
        """Check the venue's answer streak and the order outbox; report faults and recoveries."""
        state = self._watch.state()
        if self._watch_venue and state.failures >= UNANSWERED_STREAK:
            await self._faults.failed("venue", f"{state.failures} calls in a row got no answer "
                                               f"(last: {state.last_error})")
        elif self._watch_venue and state.failures == 0:
            await self._faults.succeeded("venue")
        stuck = await self._stuck_intents(self._clock.now())
        if stuck:
            await self._faults.failed("order intents", f"{len(stuck)} order(s) unsent for over "
                                                       f"{STUCK_INTENT.seconds}s: {', '.join(stuck)}")
        else:
            await self._faults.succeeded("order intents")

    async def _stuck_intents(self, now: datetime) -> list[str]:
        runner = self._trading().runner
        waiting = outbox_ids((await runner.snapshot()).outbox)
        if not waiting:
            return []
        async with runner.uow_factory() as uow:
            records = await uow.orders.open()
        return sorted(r.client_order_id for r in records
                      if r.client_order_id in waiting and now - r.created_at > STUCK_INTENT)
