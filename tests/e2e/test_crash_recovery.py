"""Crash recovery: the process dies at each step of a tick or a monitor pass; a new process over the same
SQLite file and the same venue reconciles, ticks and monitors. Afterwards: no duplicate order on the
venue, every order and fill stored once, no lost fill, and the open position protected again within
one monitor interval; the entry is announced exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.live_harness import MONITOR_INTERVAL, LiveRig, SimulatedCrash, crash_at
from tests.fakes.fake_exchange import FakeExchange
from trader.config.sections import ExchangeConfig
from trader.core.positions.state import PositionStatus

TICK_POINTS = [
    ("intent_persisted", 1),  # entry stored (PENDING + outbox), nothing sent
    ("request_sent", 1),  # venue accepted (and filled) the entry; result not stored
    ("result_stored", 1),  # entry result and fill stored with the stop intent; stop not sent
    ("request_sent", 2),  # the stop accepted by the venue; result not stored
    ("result_stored", 2),  # the stop's result stored; alerts queued, dispatcher not woken
]


async def recover(rig: LiveRig) -> LiveRig:
    """Restart over the same store and venue: reconcile, tick, then one monitor interval."""
    rig = await rig.restart()
    report = await rig.reconciler.run()
    assert report.clean, report.summary()
    await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig.clock.advance(MONITOR_INTERVAL)
    monitor = await rig.monitor.run_once()
    assert monitor.unprotected == ()
    return rig


@pytest.mark.parametrize(("point", "nth"), TICK_POINTS)
async def test_crash_during_tick_then_restart_recovers_without_duplicates(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, sqlite_url: str,
        point: str, nth: int) -> None:
    rig = await LiveRig.start(fake_exchange, fake_exchange_config, sqlite_url, crash_at(point, after=nth))
    with pytest.raises(SimulatedCrash):
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await recover(rig)
    try:
        [position] = (await rig.trading.engine_state()).positions.values()
        assert position.status is PositionStatus.OPEN
        await rig.check_invariants()
        kinds = [a.kind for a in await rig.delivered()]
        assert kinds.count("entry") == 1
    finally:
        await rig.close()


@pytest.mark.parametrize(("point", "nth"), [("monitor_mid", 1), ("intent_persisted", 1),
                                            ("request_sent", 1), ("result_stored", 1)])
async def test_crash_during_a_trailing_move_then_restart_keeps_one_stop(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, sqlite_url: str,
        point: str, nth: int) -> None:
    rig = await LiveRig.start(fake_exchange, fake_exchange_config, sqlite_url)
    await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await rig.restart(crash_at(point, after=nth))
    fake_exchange.set_price("BTC/USDT", "52000")  # the trail wants to move the stop up
    rig.clock.advance(timedelta(seconds=10))
    with pytest.raises(SimulatedCrash):
        await rig.monitor.run_once()
    rig = await recover(rig)
    try:
        await rig.check_invariants()
        [position] = (await rig.trading.engine_state()).positions.values()
        assert position.stop_price == position.high_water * 98 / 100  # moved once, to 2 % below 52000
        fake_exchange.set_price("BTC/USDT", "50000")  # through the stop
        rig.clock.advance(MONITOR_INTERVAL)
        await rig.monitor.run_once()
        assert (await rig.trading.engine_state()).positions == {}
        await rig.check_invariants()
    finally:
        await rig.close()


@pytest.mark.parametrize("point", ["intent_persisted", "request_sent", "result_stored"])
async def test_crash_during_reconciliation_then_reconciling_again_is_clean(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, sqlite_url: str,
        point: str) -> None:
    rig = await LiveRig.start(fake_exchange, fake_exchange_config, sqlite_url, crash_at("request_sent"))
    with pytest.raises(SimulatedCrash):  # the entry was accepted; nothing about it stored
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await rig.restart(crash_at(point))
    with pytest.raises(SimulatedCrash):  # and the restart dies again while reconciling
        await rig.reconciler.run()
    rig = await recover(rig)
    try:
        [position] = (await rig.trading.engine_state()).positions.values()
        assert position.status is PositionStatus.OPEN
        await rig.check_invariants()
    finally:
        await rig.close()
