"""ProtectionMonitor: the unprotected-position alarm, resolving a pending stop once the venue is back,
the risk check's drawdown halt, and the heartbeat (real ccxt client against the fake venue)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.e2e.live_harness import MONITOR_INTERVAL, LiveRig
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.config.sections import ExchangeConfig
from trader.core.domain.alerts import Severity
from trader.core.domain.enums import TradingState

PLACE = "POST /api/v3/order"


async def test_position_without_a_stop_alarms_after_one_interval_and_recovers(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, sqlite_url: str) -> None:
    async def venue_goes_down_after_the_entry(point: str) -> None:
        if point == "request_sent" and not fake_exchange.faults.pending():
            fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, route=PLACE, times=1000))

    rig = await LiveRig.start(fake_exchange, fake_exchange_config, sqlite_url,
                              venue_goes_down_after_the_entry)
    try:
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        [position] = (await rig.trading.engine_state()).positions.values()
        first = await rig.monitor.run_once()
        assert first.unprotected == (position.id,) and first.alarmed == ()
        rig.clock.advance(MONITOR_INTERVAL / 2)
        assert (await rig.monitor.run_once()).alarmed == ()  # not yet one interval
        rig.clock.advance(MONITOR_INTERVAL / 2)
        assert (await rig.monitor.run_once()).alarmed == (position.id,)
        rig.clock.advance(MONITOR_INTERVAL)
        assert (await rig.monitor.run_once()).alarmed == ()  # said once, not every pass
        alarms = [a for a in await rig.delivered() if a.kind == "error"]
        assert len(alarms) == 1 and alarms[0].severity is Severity.CRITICAL
        assert "UNPROTECTED" in alarms[0].text

        fake_exchange.faults.clear()  # the venue is back: the pending stop is sent with its client id
        rig.clock.advance(MONITOR_INTERVAL)
        back = await rig.monitor.run_once()
        assert back.unprotected == () and back.unresolved == 0
        await rig.check_invariants()
    finally:
        await rig.close()


async def test_risk_check_halts_on_the_drawdown_limit_and_announces_it(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, sqlite_url: str) -> None:
    rig = await LiveRig.start(fake_exchange, fake_exchange_config, sqlite_url)
    try:
        await rig.monitor.risk_check()  # peak equity 10,000
        with fake_exchange.venue.lock:
            fake_exchange.venue.free["USDT"] = Decimal(7000)  # a 30 % loss (limit 25 %)
        rig.clock.advance(timedelta(minutes=1))
        await rig.monitor.risk_check()
        state = await rig.trading.engine_state()
        assert state.risk.trading_state is TradingState.HALTED
        [halt] = [a for a in await rig.delivered() if a.kind == "halt"]
        assert halt.severity is Severity.CRITICAL and "drawdown" in halt.text
        beat = await rig.monitor.heartbeat()
        assert (beat.open_positions, beat.outbox, beat.entries_blocked) == (0, 0, "")
    finally:
        await rig.close()
