"""Bracket lifecycle on Bybit and Kraken spot through the real services, real ccxt and the fake's Bybit v5
and Kraken dialects.

Neither venue has a standalone spot OCO, and both attach TP/SL (Bybit) or a conditional close (Kraken)
to the entry order only, so the adapter uses the swap: the stop rests (a Bybit ``tpslOrder``, a Kraken
``stop-loss``); near the target it is cancelled and the take-profit limit placed (and back when the
price leaves). Entry → stop resting → swapped for the take-profit → one fills →
the position closes and the store agrees with the venue. The process dies at each step and restarts;
``check_brackets`` fails on a protective order placed twice, two resting at once, or a naked position.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.e2e.bracket_checks import check_brackets
from tests.e2e.live_harness import MONITOR_INTERVAL, LiveRig, SimulatedCrash, crash_at
from tests.fakes.fake_exchange import (
    BYBIT_KEY,
    BYBIT_SECRET,
    KRAKEN_KEY,
    KRAKEN_SECRET,
    FakeExchange,
    Fault,
    FaultKind,
)
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import ExitReason, OrderType
from trader.core.positions.state import PositionStatus

BRACKET = (49500.0, 51000.0)  # stop, target: the swap comes within 0.5 % of 51000 (from 50745)
STOP, TAKE_PROFIT = OrderType.STOP, OrderType.LIMIT


KEYS = {"bybit": (BYBIT_KEY, BYBIT_SECRET), "kraken": (KRAKEN_KEY, KRAKEN_SECRET)}
PLACE = {"bybit": "POST /v5/order/create", "kraken": "POST /0/private/AddOrder"}
CANCEL = {"bybit": "POST /v5/order/cancel", "kraken": "POST /0/private/CancelOrder"}


@pytest.fixture(params=["bybit", "kraken"])
def venue(request: pytest.FixtureRequest) -> Iterator[FakeExchange]:
    """A fake venue speaking Bybit's or Kraken's dialect."""
    fake = FakeExchange.start_default(request.param)
    fake.venue.deposit("USDT", "10000")
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def config(venue: FakeExchange) -> ExchangeConfig:
    key, secret = KEYS[venue.dialect]
    return ExchangeConfig(name=venue.dialect, mode="live", live_confirmed=True, api_key=SecretStr(key),
                          api_secret=SecretStr(secret), api_base_url=venue.base_url,
                          timeout_seconds=1.0, max_retries=4)


async def monitor_at(rig: LiveRig, price: str) -> None:
    rig.fake.set_price("BTC/USDT", price)
    rig.clock.advance(MONITOR_INTERVAL)
    await rig.monitor.run_once()


async def recover(rig: LiveRig) -> LiveRig:
    rig = await rig.restart()
    report = await rig.reconciler.run()
    assert report.clean, report.summary()
    await check_brackets(rig, STOP, TAKE_PROFIT)
    await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig.clock.advance(MONITOR_INTERVAL)
    assert (await rig.monitor.run_once()).unprotected == ()
    await check_brackets(rig, STOP, TAKE_PROFIT)
    return rig


async def closed_by(rig: LiveRig, reason: ExitReason, price: str) -> None:
    assert (await rig.trading.engine_state()).positions == {}
    await check_brackets(rig)
    async with rig.db.uow() as uow:
        [closed] = await uow.positions.finished(limit=10)
    assert closed.status is PositionStatus.CLOSED
    assert (closed.exit_reason, closed.exit_price) == (reason, Decimal(price))
    assert rig.fake.venue.open_orders(None) == []
    assert rig.fake.venue.locked.get("BTC", Decimal(0)) == 0


def resting_types(fake: FakeExchange) -> list[str]:
    return [o.type for o in fake.venue.open_orders("BTCUSDT")]


async def test_stop_rests_swaps_for_the_take_profit_which_fills(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    try:
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        assert resting_types(venue) == ["STOP_LOSS"]  # Bybit's tpslOrder, Kraken's stop-loss
        await check_brackets(rig, STOP)
        await monitor_at(rig, "50800")  # near the target: the stop is swapped for the take-profit
        assert resting_types(venue) == ["LIMIT"]
        await check_brackets(rig, TAKE_PROFIT)
        await monitor_at(rig, "50300")  # clearly away again: back to a (new) stop
        assert resting_types(venue) == ["STOP_LOSS"]
        await check_brackets(rig, STOP)
        await monitor_at(rig, "50800")
        await monitor_at(rig, "51000")  # the take-profit limit fills
        await closed_by(rig, ExitReason.TAKE_PROFIT, "51000")
        assert CANCEL[venue.dialect] in venue.requests
    finally:
        await rig.close()


async def test_stop_fills_and_the_position_closes(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    try:
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        await monitor_at(rig, "49400")
        await closed_by(rig, ExitReason.STOP_LOSS, "49400")
    finally:
        await rig.close()


TICK_POINTS = [("intent_persisted", 1), ("request_sent", 1), ("result_stored", 1), ("request_sent", 2),
               ("result_stored", 2)]


@pytest.mark.parametrize(("point", "nth"), TICK_POINTS)
async def test_crash_while_entering_then_restart_rests_one_stop(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str, point: str, nth: int) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, crash_at(point, after=nth), bracket=BRACKET)
    with pytest.raises(SimulatedCrash):
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await recover(rig)
    try:
        assert resting_types(venue) == ["STOP_LOSS"]
        await monitor_at(rig, "50800")
        await check_brackets(rig, TAKE_PROFIT)
        await monitor_at(rig, "51000")
        await closed_by(rig, ExitReason.TAKE_PROFIT, "51000")
    finally:
        await rig.close()


@pytest.mark.parametrize("point", ["monitor_mid", "intent_persisted", "request_sent", "result_stored"])
async def test_crash_during_the_swap_then_restart_rests_exactly_one(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str, point: str) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await rig.restart(crash_at(point))
    venue.set_price("BTC/USDT", "50800")
    rig.clock.advance(MONITOR_INTERVAL)
    with pytest.raises(SimulatedCrash):
        await rig.monitor.run_once()
    rig = await recover(rig)
    try:
        assert resting_types(venue) == ["LIMIT"]
        await monitor_at(rig, "51000")
        await closed_by(rig, ExitReason.TAKE_PROFIT, "51000")
    finally:
        await rig.close()


@pytest.mark.parametrize("kind", [FaultKind.RATE_LIMIT, FaultKind.DROP_AFTER_ACCEPT, FaultKind.SERVER_ERROR])
async def test_a_fault_on_the_swap_is_absorbed_without_a_second_order(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str, kind: FaultKind) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    try:
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        venue.inject(Fault(kind, route=PLACE[venue.dialect], retry_after=0))
        venue.inject(Fault(kind, route=CANCEL[venue.dialect], retry_after=0))
        await monitor_at(rig, "50800")
        await monitor_at(rig, "50800")
        assert venue.faults.pending() == 0
        assert resting_types(venue) == ["LIMIT"]
        await check_brackets(rig, TAKE_PROFIT)
        await monitor_at(rig, "51000")
        await closed_by(rig, ExitReason.TAKE_PROFIT, "51000")
    finally:
        await rig.close()
