"""The venue's circuit breaker at run time: fed by every engine venue call, it pauses entries and alerts.

``VenueWatch`` tells it each call's outcome; the pure state machine (``trader.core.risk.breaker``) decides.
While it is open: ``step`` refuses entries with ``VENUE_DOWN`` (``entry_gate`` is the runner's gate), the
protection monitor (outbox exits, stop placements) runs with capped exponential backoff (``backoff``),
positions left without a stop are alarmed from the store (the monitor's own pass cannot get that far),
and failures are counted, not alerted. Exactly one "venue down" alert when it opens and one "venue back"
when probes close it; ``run`` (a scheduled job) probes a half-open venue and delivers those alerts.

With a store, the breaker (state, since when, counters, the outage number) is saved with its alerts in
one transaction and ``restore`` reads it back at start: a restart during an outage keeps the venue down
(entries still refused, no second "venue down") and announces "venue back" once, when it is.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from trader.config.sections import BreakerConfig
from trader.core.domain.alerts import Alert, Severity
from trader.core.errors import RetryableError
from trader.core.risk.breaker import Breaker, BreakerState, advance, came_back, record, went_down
from trader.live.alerts import AlertService
from trader.live.engine_handle import LiveEngine
from trader.live.venue_watch import VenueWatch
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import BreakerMemory, OpsUnitOfWorkFactory

logger = logging.getLogger(__name__)

DOWN_KIND = "venue_down"
BACK_KIND = "venue_back"
Work = Callable[[], Awaitable[object]]


def _at(moment: datetime | None) -> str:
    return "start" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


class VenueBreaker:
    """One venue's breaker: ``observe`` outcomes, ``entry_gate`` for the engine, ``run`` as a job."""

    def __init__(self, venue: str, cfg: BreakerConfig, alerts: AlertService, clock: Clock, *,
                 probe: Work | None = None, alarm: Work | None = None,
                 store: OpsUnitOfWorkFactory | None = None) -> None:
        self.venue = venue
        self._store = store
        self._saved: BreakerMemory | None = None  # as last stored: save only what changed
        self.config = cfg
        self._alerts = alerts
        self._clock = clock
        self._probe = probe
        self._alarm = alarm
        self._breaker = Breaker()
        self._pending: list[Alert] = []
        self._outages = 0
        self._delay = cfg.retry_seconds
        self._next_retry: datetime | None = None
        self.retries = 0  # backed-off monitor passes while down (exits and stops retried)

    async def restore(self, store: OpsUnitOfWorkFactory | None = None) -> None:
        """Take the breaker back from the store (before the first venue call): an outage goes on.

        ``store`` (when given) is where the breaker is kept from now on.
        """
        self._store = store or self._store
        if self._store is None:
            return
        async with self._store() as uow:
            memory = await uow.breakers.get(self.venue)
        if memory is None:
            return
        self._breaker, self._outages, self.retries = memory.breaker, memory.outages, memory.retries
        self._saved = memory
        if not memory.breaker.allows_entries:
            logger.warning("venue %s still down since %s (from before the restart); entries stay paused",
                           self.venue, _at(memory.breaker.down_since))

    def use(self, *, probe: Work | None = None, alarm: Work | None = None) -> None:
        """Set the probe call and the unprotected-position alarm (built after the breaker)."""
        self._probe = probe or self._probe
        self._alarm = alarm or self._alarm

    @property
    def state(self) -> Breaker:
        """Return the breaker as of now (an open one half-opens once its wait is over)."""
        self._breaker = advance(self._breaker, self._clock.now(), self.config)
        return self._breaker

    def observe(self, error: BaseException | None) -> None:
        """Record one venue call's outcome (None: answered); queue the alert of a change."""
        before = self._breaker
        why = None if error is None else type(error).__name__  # the type only: messages carry hosts
        after = record(before, self._clock.now(), self.config, why)
        self._breaker = after
        if went_down(before, after):
            self._outages += 1
            self._delay, self._next_retry, self.retries = self.config.retry_seconds, None, 0
            logger.warning("venue %s down: %s; entries paused", self.venue, after.reason)
            self._pending.append(Alert(DOWN_KIND, (
                f"Venue {self.venue} down: {after.reason}. New entries are refused until it answers again; "
                f"exits and stop placements keep being retried (every {self.config.retry_seconds:g}s, up to "
                f"{self.config.retry_max_seconds:g}s). Further failures are counted, not alerted."),
                Severity.ERROR, dedupe_key=f"venue-down-{self.venue}-{self._outages}"))
        elif came_back(before, after):
            down_for = after.since - before.down_since if after.since and before.down_since else timedelta()
            logger.warning("venue %s back after %s; entries resume", self.venue, down_for)
            self._pending.append(Alert(BACK_KIND, (
                f"Venue {self.venue} back after {int(down_for.total_seconds())}s: "
                f"{before.failures_while_down} unanswered call(s) while down, exits and stops retried "
                f"{self.retries} time(s). Entries resume."),
                Severity.WARNING, dedupe_key=f"venue-back-{self.venue}-{self._outages}"))

    def entry_gate(self) -> str:
        """Return why entries must wait ("" while the breaker is closed); ``step`` refuses with it."""
        breaker = self.state
        if breaker.allows_entries:
            return ""
        return (f"venue {self.venue} is down since {_at(breaker.down_since)} ({breaker.reason}); "
                "entries resume by themselves once it answers again")

    def absorbs(self, error: BaseException) -> bool:
        """Return True for a failure the breaker counts and alerts on itself (a venue call unanswered)."""
        return isinstance(error, RetryableError)

    def backoff(self, work: Work) -> Work:
        """Return ``work`` (the protection monitor) run every time while the venue is up, and with
        doubling pauses (``retry_seconds`` up to ``retry_max_seconds``) while it is down."""

        async def run() -> object:
            if self.state.allows_entries:
                self._delay, self._next_retry = self.config.retry_seconds, None
                return await work()
            now = self._clock.now()
            if self._next_retry is not None and now < self._next_retry:
                return None
            self.retries += 1
            try:
                return await work()
            finally:
                if not self.state.allows_entries:  # still down: wait longer before the next try
                    self._next_retry = now + timedelta(seconds=self._delay)
                    self._delay = min(self._delay * 2, self.config.retry_max_seconds)
        return run

    async def run(self) -> None:
        """The breaker's job: probe a half-open venue, alarm on unprotected positions while down, and
        deliver the queued "venue down" / "venue back" alerts."""
        breaker = self.state
        if breaker.state is BreakerState.HALF_OPEN and self._probe is not None:
            try:
                await self._probe()  # its outcome reaches ``observe`` through the watch
            except Exception as exc:  # an unanswered probe re-opens the breaker; nothing else to do
                logger.info("venue %s probe unanswered: %s", self.venue, type(exc).__name__)
        if not self.state.allows_entries and self._alarm is not None:
            await self._alarm()
        await self.flush()

    async def flush(self) -> None:
        """Publish the queued alerts in order; what the store does not take stays for the next run.

        With a store, the alerts and the breaker are written in one transaction, so a crash never
        keeps one without the other (an outage saved but never announced, or announced twice).
        """
        if self._store is not None:
            await self._save()
            return
        while self._pending:
            try:
                await self._alerts.publish(self._pending[0])
            except Exception as exc:  # the store may be failing too: keep it, try on the next run
                logger.error("venue alert not queued: %s: %s", type(exc).__name__, exc)
                return
            self._pending.pop(0)

    async def _save(self) -> None:
        memory = BreakerMemory(self._breaker, self._outages, self.retries)
        if memory == self._saved and not self._pending:
            return
        assert self._store is not None
        try:
            async with self._store() as uow:
                for alert in self._pending:
                    await self._alerts.enqueue(uow, alert)
                await uow.breakers.save(self.venue, memory, self._clock.now())
                await uow.commit()
        except Exception as exc:  # the store may be failing too: keep both, try on the next run
            logger.error("venue breaker not saved: %s: %s", type(exc).__name__, exc)
            return
        self._pending.clear()
        self._saved = memory
        self._alerts.wake()

    def facts(self) -> dict[str, object]:
        """Return the breaker for /health: state, since when, the outage's counts and reason."""
        breaker = self.state
        return {"venue": self.venue, "state": breaker.state.value,
                "since": breaker.since.isoformat() if breaker.since else None,
                "down_since": breaker.down_since.isoformat() if breaker.down_since else None,
                "failures_while_down": breaker.failures_while_down, "retries": self.retries,
                "reason": breaker.reason}


def attach_breaker(venue: str, cfg: BreakerConfig, alerts: AlertService, clock: Clock, watch: VenueWatch,
                   exchange: Exchange, engine: LiveEngine) -> VenueBreaker | None:
    """Build the venue's breaker and wire it: fed by ``watch``, gating ``engine``'s entries, probing with
    a signed balance read, alarming through the protection monitor (None when disabled). Call
    ``restore(store)`` on it before the first venue call to keep it in the store."""
    if not cfg.enabled:
        return None
    breaker = VenueBreaker(venue, cfg, alerts, clock, probe=exchange.balances, alarm=engine.monitor.alarm)

    def observe(error: BaseException | None) -> None:
        if not watch.state().waiting:  # start-up waits for the venue on its own (shown on /ready)
            breaker.observe(error)
    watch.listen(observe)
    engine.trading.runner.entry_gate = breaker.entry_gate  # the runner outlives parameter changes
    return breaker
