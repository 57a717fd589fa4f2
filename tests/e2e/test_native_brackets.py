"""Native bracket lifecycle through the real services, real ccxt and the fake venue: Binance spot's OCO
order list and OKX's oco algo order, each against the fake speaking that venue's dialect.

Entry → one OCO rests (stop + take-profit) → one leg fills, the venue expires the other → the position
closes and the store agrees with the venue's ledger. The process dies at each step and a new one over
the same SQLite file and venue reconciles and carries on. After every step ``check_brackets`` fails
when an OCO was ever placed twice, when two protective orders rest at once, or when an open position
has none resting (naked).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.e2e.bracket_checks import check_brackets
from tests.e2e.live_harness import MONITOR_INTERVAL, LiveRig, SimulatedCrash, crash_at
from tests.fakes.fake_exchange import API_KEY, API_SECRET, FakeExchange
from tests.fakes.fake_exchange.okx_app import OKX_KEY
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import ExitReason, OrderStatus, OrderType
from trader.core.positions.state import PositionStatus

BRACKET = (49500.0, 53000.0)  # stop, take-profit; the trail (2 % below the high) passes it above 50510
PAIR = "BTCUSDT"
OCO = OrderType.OCO
TP_LEG = {"binance": "LIMIT_MAKER", "okx": "TAKE_PROFIT"}  # Binance: a resting limit; OKX: a trigger
OCO_ROUTE = {"binance": "POST /api/v3/orderList/oco", "okx": "POST /api/v5/trade/order-algo"}


@pytest.fixture(params=["binance", "okx"])
def venue(request: pytest.FixtureRequest) -> Iterator[FakeExchange]:
    """A fake venue speaking Binance's or OKX's dialect, 10,000 USDT deposited."""
    fake = FakeExchange.start_default(request.param)
    fake.venue.deposit("USDT", "10000")
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def config(venue: FakeExchange) -> ExchangeConfig:
    key, secret = (API_KEY, API_SECRET) if venue.dialect == "binance" else (OKX_KEY, "s")
    return ExchangeConfig(name=venue.dialect, mode="live", live_confirmed=True, api_key=SecretStr(key),
                          api_secret=SecretStr(secret), api_password=SecretStr("p"),
                          api_base_url=venue.base_url, timeout_seconds=1.0, max_retries=4)


async def recover(rig: LiveRig) -> LiveRig:
    """Restart over the same store and venue: reconcile, tick, one monitor interval; check after each."""
    rig = await rig.restart()
    report = await rig.reconciler.run()
    assert report.clean, report.summary()
    await check_brackets(rig, OCO)
    await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig.clock.advance(MONITOR_INTERVAL)
    monitor = await rig.monitor.run_once()
    assert monitor.unprotected == ()
    await check_brackets(rig, OCO)
    return rig


async def close_by(rig: LiveRig, price: str, reason: ExitReason) -> None:
    """Move the venue to ``price`` (one OCO leg fills), monitor, and check the closed trade."""
    [position] = (await rig.trading.engine_state()).positions.values()
    rig.fake.set_price("BTC/USDT", price)
    rig.clock.advance(MONITOR_INTERVAL)
    await rig.monitor.run_once()
    assert (await rig.trading.engine_state()).positions == {}
    await check_brackets(rig, OCO)
    async with rig.db.uow() as uow:
        [closed] = await uow.positions.finished(limit=10)
    assert closed.id == position.id and closed.status is PositionStatus.CLOSED
    assert closed.exit_reason is reason and closed.exit_price == Decimal(price)
    venue = rig.fake.venue
    oco = venue.lists_accepted()[-1]  # the last one (a trail replaces it)
    legs = {leg.type: leg.status for leg in venue.list_legs(venue.find_list(None, oco.client_id))}
    filled = TP_LEG[rig.fake.dialect] if reason is ExitReason.TAKE_PROFIT else "STOP_LOSS"
    assert legs[filled] == "FILLED" and {s for t, s in legs.items() if t != filled} == {"EXPIRED"}
    stored = {str(o.client_order_id): o for o in await rig.all_orders()}
    assert stored[oco.client_id].status is OrderStatus.FILLED
    assert rig.fake.venue.open_orders(None) == []
    assert rig.fake.venue.locked.get("BTC", Decimal(0)) == 0


@pytest.mark.parametrize(("price", "reason"), [("53000", ExitReason.TAKE_PROFIT),
                                               ("49400", ExitReason.STOP_LOSS)])
async def test_oco_lifecycle_entry_bracket_one_leg_fills_position_closes(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str,
        price: str, reason: ExitReason) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    try:
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        [position] = (await rig.trading.engine_state()).positions.values()
        assert position.status is PositionStatus.OPEN
        assert (position.stop_price, position.take_profit) == (Decimal(49500), Decimal(53000))
        assert len(venue.venue.lists_accepted()) == 1
        assert venue.requests.count(OCO_ROUTE[venue.dialect]) == 1
        await check_brackets(rig, OCO)
        venue.set_price("BTC/USDT", "50500")  # quiet monitor pass: nothing moves, nothing re-sent
        rig.clock.advance(MONITOR_INTERVAL)
        await rig.monitor.run_once()
        assert len(venue.venue.lists_accepted()) == 1
        await check_brackets(rig, OCO)
        await close_by(rig, price, reason)
    finally:
        await rig.close()


TICK_POINTS = [
    ("intent_persisted", 1),  # entry stored, nothing sent
    ("request_sent", 1),  # the venue filled the entry; result not stored
    ("result_stored", 1),  # entry stored with the OCO intent; OCO not sent
    ("request_sent", 2),  # the venue accepted the OCO list; result not stored
    ("result_stored", 2),  # the OCO stored; alerts not dispatched
]


@pytest.mark.parametrize(("point", "nth"), TICK_POINTS)
async def test_crash_while_entering_and_bracketing_then_restart_rests_one_oco(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str,
        point: str, nth: int) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, crash_at(point, after=nth),
                              bracket=BRACKET)
    with pytest.raises(SimulatedCrash):
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await recover(rig)
    try:
        [position] = (await rig.trading.engine_state()).positions.values()
        assert position.status is PositionStatus.OPEN
        assert len(venue.venue.lists_accepted()) == 1
        await close_by(rig, "53000", ExitReason.TAKE_PROFIT)
    finally:
        await rig.close()


@pytest.mark.parametrize("point", ["monitor_mid", "intent_persisted", "result_stored"])
async def test_crash_while_a_leg_fills_then_restart_closes_once(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str,
        point: str) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await rig.restart(crash_at(point))
    venue.set_price("BTC/USDT", "49400")  # the stop leg fills while the process is down-ish
    rig.clock.advance(MONITOR_INTERVAL)
    try:
        await rig.monitor.run_once()
    except SimulatedCrash:
        pass
    rig = await rig.restart()
    try:
        report = await rig.reconciler.run()
        assert report.clean, report.summary()
        rig.clock.advance(MONITOR_INTERVAL)
        await rig.monitor.run_once()
        assert (await rig.trading.engine_state()).positions == {}
        await check_brackets(rig, OCO)
        assert len(venue.venue.lists_accepted()) == 1
        assert [e.detail["price"] for e in venue.venue.fills()] == ["50000", "49400"]
        async with rig.db.uow() as uow:
            [closed] = await uow.positions.finished(limit=10)
        assert closed.exit_reason is ExitReason.STOP_LOSS and closed.exit_price == Decimal("49400")
    finally:
        await rig.close()


@pytest.mark.parametrize(("point", "nth"), [("monitor_mid", 1), ("intent_persisted", 1),
                                            ("request_sent", 1), ("result_stored", 1)])
async def test_crash_while_trailing_the_oco_then_restart_keeps_one(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str,
        point: str, nth: int) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await rig.restart(crash_at(point, after=nth))
    venue.set_price("BTC/USDT", "52000")  # the trail lifts the stop to 50960: the OCO is replaced
    rig.clock.advance(timedelta(seconds=10))
    with pytest.raises(SimulatedCrash):
        await rig.monitor.run_once()
    rig = await recover(rig)
    try:
        [position] = (await rig.trading.engine_state()).positions.values()
        assert position.stop_price == Decimal("50960")
        [resting] = venue.venue.open_lists(PAIR)
        stop_leg = [leg for leg in venue.venue.list_legs(resting) if leg.type == "STOP_LOSS"]
        assert [leg.stop_price for leg in stop_leg] == [Decimal("50960")]
        assert len(venue.venue.lists_accepted()) == 2  # the first, and its one replacement
        await close_by(rig, "50900", ExitReason.TRAILING_STOP)
    finally:
        await rig.close()
