"""The venue breaker at run time on a simulated clock: one alert each way, the entry gate, the backoff of
the protection monitor, probes only when half-open, and /health's facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trader.adapters.store.memory.uow import MemoryStore
from trader.config.sections import BreakerConfig
from trader.core.errors import ExchangeError, RetryableError
from trader.live.alerts import AlertService
from trader.live.venue_breaker import BACK_KIND, DOWN_KIND, VenueBreaker
from trader.runtime.clock import SimClock

CFG = BreakerConfig(failures=3, open_seconds=30, probe_seconds=5, probes_to_close=2, retry_seconds=5,
                    retry_max_seconds=20)


class Channel:
    async def send(self, alert: object) -> None:  # delivery is not what is tested: the outbox is
        raise ConnectionError("kept in the outbox")


class Venue:
    """Counts probes and monitor passes; ``up`` decides whether they are answered."""

    def __init__(self, breaker_ref: list[VenueBreaker]) -> None:
        self.up, self.probes, self.passes, self.alarms = False, 0, 0, 0
        self._ref = breaker_ref

    def _outcome(self) -> None:
        error = None if self.up else RetryableError("503")
        self._ref[0].observe(error)
        if error is not None:
            raise error

    async def probe(self) -> object:
        self.probes += 1
        self._outcome()
        return None

    async def monitor(self) -> object:
        self.passes += 1
        self._outcome()
        return None

    async def alarm(self) -> object:
        self.alarms += 1
        return None


def _breaker() -> tuple[VenueBreaker, Venue, SimClock, MemoryStore]:
    store = MemoryStore()
    clock = SimClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    ref: list[VenueBreaker] = []
    venue = Venue(ref)
    breaker = VenueBreaker("binance", CFG, AlertService(store.uow_factory, Channel(), clock), clock,
                           probe=venue.probe, alarm=venue.alarm)
    ref.append(breaker)
    return breaker, venue, clock, store


async def _kinds(store: MemoryStore) -> list[str]:
    async with store.uow_factory() as uow:
        return [row.alert.kind for row in await uow.alerts.pending(limit=1000)]


async def test_an_outage_is_one_down_alert_one_back_alert_and_entries_wait_in_between() -> None:
    breaker, venue, clock, store = _breaker()
    monitor = breaker.backoff(venue.monitor)
    assert breaker.entry_gate() == ""
    for _ in range(40):  # 40 s of a monitor every second and the breaker job every 5 s, venue down
        try:
            await monitor()
        except RetryableError:
            pass
        if int(clock.now().timestamp()) % 5 == 0:
            await breaker.run()
        clock.advance(timedelta(seconds=1))
    assert await _kinds(store) == [DOWN_KIND]
    gate = breaker.entry_gate()
    assert gate.startswith("venue binance is down since 2026-01-01 12:00:02 UTC") and "3 venue calls" in gate
    # backed off: 3 passes to open it, then retries 5, 10, 20, 20 ... s apart instead of 37 more passes
    assert breaker.retries == venue.passes - 3 and 3 <= breaker.retries <= 5
    assert venue.alarms > 0  # positions without a stop are checked from the store while down
    assert venue.probes >= 1 and breaker.state.failures_while_down > breaker.retries
    venue.up = True
    for _ in range(12):
        await monitor()
        await breaker.run()
        clock.advance(timedelta(seconds=5))
    assert await _kinds(store) == [DOWN_KIND, BACK_KIND]
    assert breaker.entry_gate() == "" and breaker.facts()["state"] == "closed"
    async with store.uow_factory() as uow:
        back = (await uow.alerts.pending(limit=10))[1].alert.text
    assert back.startswith("Venue binance back after") and "Entries resume" in back


async def test_only_unanswered_calls_are_absorbed_and_the_facts_say_since_when() -> None:
    breaker, venue, clock, _ = _breaker()
    assert breaker.absorbs(RetryableError("timeout")) and not breaker.absorbs(ExchangeError("no funds"))
    for _ in range(3):
        breaker.observe(RetryableError("timeout"))
    facts = breaker.facts()
    assert facts["state"] == "open" and facts["down_since"] == "2026-01-01T12:00:00+00:00"
    await breaker.run()
    assert venue.probes == 0  # open: no probe before open_seconds passed
    clock.advance(timedelta(seconds=31))
    await breaker.run()
    assert venue.probes == 1 and breaker.facts()["state"] == "open"  # the probe failed: open again


async def test_a_restart_during_an_outage_keeps_it_one_down_and_one_back_alert() -> None:
    breaker, venue, clock, store = _breaker()
    alerts = AlertService(store.uow_factory, Channel(), clock)
    breaker = VenueBreaker("binance", CFG, alerts, clock, probe=venue.probe, alarm=venue.alarm,
                           store=store.uow_factory)
    venue._ref[0] = breaker
    for _ in range(3):
        breaker.observe(RetryableError("timeout"))
    await breaker.run()
    assert await _kinds(store) == [DOWN_KIND]
    down_since = breaker.state.down_since
    # the process dies; a new one over the same store restores the outage before any venue call
    again = VenueBreaker("binance", CFG, alerts, clock, probe=venue.probe, alarm=venue.alarm,
                         store=store.uow_factory)
    venue._ref[0] = again
    assert again.entry_gate() == ""  # nothing read yet
    await again.restore()
    assert again.state.down_since == down_since and again.state.failures_while_down == 3
    assert again.entry_gate().startswith("venue binance is down since 2026-01-01 12:00:00 UTC")
    for _ in range(3):  # still down after the restart: counted, not announced again
        again.observe(RetryableError("timeout"))
        await again.run()
    assert await _kinds(store) == [DOWN_KIND]
    venue.up = True
    for _ in range(12):
        await again.run()
        clock.advance(timedelta(seconds=5))
    assert await _kinds(store) == [DOWN_KIND, BACK_KIND] and again.entry_gate() == ""
    async with store.uow_factory() as uow:
        [_, back] = await uow.alerts.pending(limit=10)
        stored = await uow.breakers.get("binance")
    assert back.alert.dedupe_key == "venue-back-binance-1"  # the outage number survived the restart
    assert stored is not None and stored.breaker.allows_entries and stored.outages == 1
    # a third process finds the venue up: no alert either way
    third = VenueBreaker("binance", CFG, alerts, clock, store=store.uow_factory)
    await third.restore()
    await third.run()
    assert third.entry_gate() == "" and await _kinds(store) == [DOWN_KIND, BACK_KIND]
