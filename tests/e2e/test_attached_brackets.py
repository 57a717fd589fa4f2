"""Brackets that ride on the entry order, through the real services, real ccxt and the fake's dialects:
Kraken's conditional close (``close[ordertype]=stop-loss`` on AddOrder).

The entry carries the stop; when it fills the venue places the stop-loss itself (no second AddOrder),
and the engine adopts it under the entry's attached id. Entry → the venue's stop resting → it fills, or
near the target it is swapped for the take-profit limit which fills, or a trailing move replaces it by
an ordinary stop → the position closes and the store agrees with the venue. The process dies at each
step and restarts; ``check_brackets`` fails on a protective order placed twice, two resting at once, or
a naked position.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.e2e.bracket_checks import check_brackets
from tests.e2e.live_harness import MONITOR_INTERVAL, LiveRig, SimulatedCrash, crash_at
from tests.fakes.fake_exchange import KRAKEN_KEY, KRAKEN_SECRET, FakeExchange, Fault, FaultKind
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import ExitReason, OrderPurpose, OrderType, ProtectionKind
from trader.core.domain.ids import attached_client_id, client_order_id
from trader.core.positions.protection import working_id
from trader.core.positions.state import PositionStatus

BRACKET = (49500.0, 51000.0)  # stop, target: the swap comes within 0.5 % of 51000 (from 50745)
STOP, TAKE_PROFIT = OrderType.STOP, OrderType.LIMIT
PLACE = {"kraken": "POST /0/private/AddOrder"}


@pytest.fixture(params=["kraken"])
def venue(request: pytest.FixtureRequest) -> Iterator[FakeExchange]:
    """A fake venue speaking a dialect whose entries carry their bracket."""
    fake = FakeExchange.start_default(request.param)
    fake.venue.deposit("USDT", "10000")
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def config(venue: FakeExchange) -> ExchangeConfig:
    return ExchangeConfig(name=venue.dialect, mode="live", live_confirmed=True, api_key=SecretStr(KRAKEN_KEY),
                          api_secret=SecretStr(KRAKEN_SECRET), api_base_url=venue.base_url,
                          timeout_seconds=1.0, max_retries=4)


async def monitor_at(rig: LiveRig, price: str) -> None:
    rig.fake.set_price("BTC/USDT", price)
    rig.clock.advance(MONITOR_INTERVAL)
    await rig.monitor.run_once()


def resting_types(fake: FakeExchange) -> list[str]:
    return [o.type for o in fake.venue.open_orders("BTCUSDT")]


async def attached_rests(rig: LiveRig) -> None:
    """Assert the one resting order is the venue's child of our entry, adopted as the working stop."""
    [position] = (await rig.trading.engine_state()).positions.values()
    assert position.status is PositionStatus.OPEN and position.protection is ProtectionKind.ATTACHED
    entry = client_order_id(position.id, OrderPurpose.ENTRY, 0)
    assert working_id(position) == attached_client_id(entry)
    attached = rig.fake.attached
    assert attached is not None
    [child] = attached.resting("BTCUSDT")
    assert child.type == "STOP_LOSS" and child.stop_price == Decimal(49500) and child.client_id == ""
    accepted = [e.detail["side"] for e in rig.fake.venue.accepted()]
    assert accepted == ["BUY", "SELL"]  # our entry and the stop the venue made: none sent by us
    await check_brackets(rig, STOP)


async def closed_by(rig: LiveRig, reason: ExitReason, price: str) -> None:
    assert (await rig.trading.engine_state()).positions == {}
    await check_brackets(rig)
    async with rig.db.uow() as uow:
        [closed] = await uow.positions.finished(limit=10)
    assert closed.status is PositionStatus.CLOSED
    assert (closed.exit_reason, closed.exit_price) == (reason, Decimal(price))
    assert rig.fake.venue.open_orders(None) == []
    assert rig.fake.venue.locked.get("BTC", Decimal(0)) == 0


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


async def test_the_entry_carries_the_stop_the_venue_places_it_and_it_fills(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    try:
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        await attached_rests(rig)
        assert venue.requests.count(PLACE[venue.dialect]) == 1  # one AddOrder: the entry with its close
        await monitor_at(rig, "50300")  # a quiet pass: nothing re-sent, the child stays
        await attached_rests(rig)
        await monitor_at(rig, "49400")  # the venue's stop-loss triggers and sells
        await closed_by(rig, ExitReason.STOP_LOSS, "49400")
        assert [e.detail["price"] for e in venue.venue.fills()] == ["50000", "49400"]
    finally:
        await rig.close()


async def test_near_the_target_the_attached_stop_is_swapped_for_the_take_profit_which_fills(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    try:
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        await monitor_at(rig, "50800")  # the venue's child is cancelled, the take-profit limit placed
        assert resting_types(venue) == ["LIMIT"]
        attached = venue.attached
        assert attached is not None and attached.resting("BTCUSDT") == []
        await check_brackets(rig, TAKE_PROFIT)
        await monitor_at(rig, "50300")  # away again: an ordinary stop of ours rests now
        assert resting_types(venue) == ["STOP_LOSS"] and attached.resting("BTCUSDT") == []
        await check_brackets(rig, STOP)
        await monitor_at(rig, "50800")
        await monitor_at(rig, "51000")
        await closed_by(rig, ExitReason.TAKE_PROFIT, "51000")
    finally:
        await rig.close()


TICK_POINTS = [
    ("intent_persisted", 1),  # entry stored, nothing sent
    ("request_sent", 1),  # the venue filled the entry and made its stop; result not stored
    ("result_stored", 1),  # entry stored with the adoption intent; not adopted yet
    ("request_sent", 2),  # the venue's stop found (adopted); result not stored
    ("result_stored", 2),  # adopted; alerts not dispatched
]


@pytest.mark.parametrize(("point", "nth"), TICK_POINTS)
async def test_crash_while_entering_then_restart_adopts_the_one_attached_stop(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str, point: str, nth: int) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, crash_at(point, after=nth), bracket=BRACKET)
    with pytest.raises(SimulatedCrash):
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await recover(rig)
    try:
        await attached_rests(rig)
        await monitor_at(rig, "49400")
        await closed_by(rig, ExitReason.STOP_LOSS, "49400")
    finally:
        await rig.close()


@pytest.mark.parametrize("point", ["monitor_mid", "intent_persisted", "request_sent", "result_stored"])
async def test_crash_while_swapping_the_attached_stop_then_restart_rests_exactly_one(
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


@pytest.mark.parametrize("point", ["monitor_mid", "intent_persisted", "result_stored"])
async def test_crash_while_the_attached_stop_fills_then_restart_closes_once(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str, point: str) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await rig.restart(crash_at(point))
    venue.set_price("BTC/USDT", "49400")
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
        await closed_by(rig, ExitReason.STOP_LOSS, "49400")
        assert [e.detail["price"] for e in venue.venue.fills()] == ["50000", "49400"]
    finally:
        await rig.close()


async def test_a_trailing_move_replaces_the_attached_stop_by_an_ordinary_one_which_fills(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    try:
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        await monitor_at(rig, "50600")  # the trail (2 % below the high) lifts the stop to 49588
        [position] = (await rig.trading.engine_state()).positions.values()
        assert position.stop_price == Decimal(49588)
        attached = venue.attached
        assert attached is not None and attached.resting("BTCUSDT") == []  # the venue's child cancelled
        [stop] = venue.venue.open_orders("BTCUSDT")
        assert (stop.type, stop.stop_price) == ("STOP_LOSS", Decimal(49588))
        assert working_id(position) == client_order_id(position.id, OrderPurpose.STOP, 1)
        assert venue.requests.count(PLACE[venue.dialect]) == 2  # the entry, then our stop
        await check_brackets(rig, STOP)
        await monitor_at(rig, "49550")
        await closed_by(rig, ExitReason.TRAILING_STOP, "49550")
    finally:
        await rig.close()


@pytest.mark.parametrize("point", ["monitor_mid", "intent_persisted", "request_sent", "result_stored"])
async def test_crash_while_trailing_the_attached_stop_then_restart_rests_exactly_one(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str, point: str) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
    rig = await rig.restart(crash_at(point))
    venue.set_price("BTC/USDT", "50600")  # the trail lifts the stop: the venue's child is replaced
    rig.clock.advance(MONITOR_INTERVAL)
    with pytest.raises(SimulatedCrash):
        await rig.monitor.run_once()
    rig = await recover(rig)
    try:
        [stop] = venue.venue.open_orders("BTCUSDT")
        assert (stop.type, stop.stop_price) == ("STOP_LOSS", Decimal(49588))
        assert venue.attached is not None and venue.attached.resting("BTCUSDT") == []
        await monitor_at(rig, "49550")
        await closed_by(rig, ExitReason.TRAILING_STOP, "49550")
    finally:
        await rig.close()


@pytest.mark.parametrize("kind", [FaultKind.RATE_LIMIT, FaultKind.DROP_AFTER_ACCEPT, FaultKind.SERVER_ERROR])
async def test_a_fault_on_the_entry_still_adopts_the_one_stop_the_venue_made(
        venue: FakeExchange, config: ExchangeConfig, sqlite_url: str, kind: FaultKind) -> None:
    rig = await LiveRig.start(venue, config, sqlite_url, bracket=BRACKET)
    try:
        venue.inject(Fault(kind, route=PLACE[venue.dialect], retry_after=0))
        await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        rig.clock.advance(MONITOR_INTERVAL)
        await rig.monitor.run_once()  # an unknown outcome is looked up by client id, never re-sent blind
        assert venue.faults.pending() == 0
        await attached_rests(rig)
        await monitor_at(rig, "49400")
        await closed_by(rig, ExitReason.STOP_LOSS, "49400")
    finally:
        await rig.close()
