"""Faults noticed while running, through the real ccxt client and the fake venue: an order intent left
unsent for over a minute, and the venue leaving calls unanswered again and again, each become one
grouped alert in the outbox (and one recovery note), not only log lines."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.live_harness import LiveRig
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.config.sections import ExchangeConfig
from trader.core.domain.ids import Symbol
from trader.core.errors import ExchangeError
from trader.live.fault_alerts import CLEARED_KIND, FAULT_KIND, FaultAlerts, FaultChecks
from trader.live.venue_watch import VenueWatch, WatchedExchange

PLACE = "POST /api/v3/order"


async def _outbox(rig: LiveRig) -> list[tuple[str, str]]:
    async with rig.db.uow() as uow:
        return [(r.alert.kind, r.alert.text) for r in await uow.alerts.pending(limit=1000)]


async def test_an_intent_unsent_for_over_a_minute_is_alerted_once_and_cleared_once(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, sqlite_url: str) -> None:
    rig = await LiveRig.start(fake_exchange, fake_exchange_config, sqlite_url)
    try:
        fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, route=PLACE, times=1000))  # orders cannot go out
        try:
            await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        except ExchangeError:
            pass
        assert (await rig.trading.runner.snapshot()).outbox, "the entry should wait in the outbox"
        faults = FaultAlerts(rig.alerts, quiet_seconds=0, now=lambda: rig.clock.now().timestamp())
        checks = FaultChecks(faults, VenueWatch(60), lambda: rig.trading, rig.clock)
        await checks.run()
        assert [k for k, _ in await _outbox(rig) if k == FAULT_KIND] == []  # younger than a minute
        for _ in range(5):  # checked every 15 s for over a minute more
            rig.clock.advance(timedelta(seconds=15))
            await checks.run()
        faults_seen = [t for k, t in await _outbox(rig) if k == FAULT_KIND]
        assert len(faults_seen) == 1 and "order intents" in faults_seen[0] and "unsent" in faults_seen[0]
        fake_exchange.faults.clear()  # the venue takes orders again; the monitor drains the outbox
        rig.clock.advance(timedelta(seconds=10))
        await rig.monitor.run_once()
        assert not (await rig.trading.runner.snapshot()).outbox
        await checks.run()
        kinds = [k for k, _ in await _outbox(rig) if k in (FAULT_KIND, CLEARED_KIND)]
        assert kinds == [FAULT_KIND, CLEARED_KIND]
        await rig.check_invariants()
    finally:
        await rig.close()


async def test_repeated_unanswered_venue_calls_are_one_alert(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, sqlite_url: str) -> None:
    rig = await LiveRig.start(fake_exchange, fake_exchange_config, sqlite_url)
    try:
        watch = VenueWatch(60)
        venue = WatchedExchange(rig.exchange, watch)
        faults = FaultAlerts(rig.alerts, quiet_seconds=0, now=lambda: rig.clock.now().timestamp())
        checks = FaultChecks(faults, watch, lambda: rig.trading, rig.clock)
        fake_exchange.inject(Fault(FaultKind.TIMEOUT, times=1000, delay=1.5))  # every call times out
        for _ in range(3):  # UNANSWERED_STREAK calls, each after the adapter's own retries
            try:
                await venue.last_price(Symbol("BTC/USDT"))
            except ExchangeError:
                pass
            await checks.run()
            rig.clock.advance(timedelta(seconds=10))
        faults_seen = [t for k, t in await _outbox(rig) if k == FAULT_KIND]
        assert len(faults_seen) == 1 and "venue" in faults_seen[0] and "no answer" in faults_seen[0]
        fake_exchange.faults.clear()
        await venue.last_price(Symbol("BTC/USDT"))
        await checks.run()
        kinds = [k for k, _ in await _outbox(rig) if k in (FAULT_KIND, CLEARED_KIND)]
        assert kinds == [FAULT_KIND, CLEARED_KIND]
    finally:
        await rig.close()
