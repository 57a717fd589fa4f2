"""A pair trade in live mode through the real services, real ccxt and the fake Binance venue (real HTTP,
real SQLite): the venue rejects one leg's order, the engine sends back what the other leg bought, and
the account, the engine state and the store end flat and agree; a restart reads the same.

Here the fake speaks the spot dialect, so the short leg sells BTC the account holds; the same scenario
on the Binance USDⓈ-M futures dialect (a real short, reduce-only closing orders) is
``test_live_pairs_futures.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from tests.e2e.live_harness import HOUR, T0, RecordingChannel
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from tests.fixtures.fake_exchange import fake_binance_client, running_fake
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.config.sections import RiskConfig
from trader.core.domain.candles import CandleFrame, datetime_to_ms
from trader.core.domain.enums import ExitReason, OrderPurpose, OrderStatus, Side
from trader.core.engine.events import GroupClosed, GroupOpened
from trader.core.engine.pair_groups import leg_position_id
from trader.core.positions.pair_group import GroupStatus
from trader.core.positions.state import Position
from trader.core.strategies.pair_setup import PairSetup, pair_setup
from trader.live.alerts import AlertService
from trader.live.engine_runner import EngineOptions
from trader.live.trading import TradingService
from trader.runtime.clock import SimClock
from trader.services.dto import TradeQuery
from trader.services.reports import StoreReportService

ETH, BTC = "ETH/USDT", "BTC/USDT"
CREATE = "POST /api/v3/order"
SETUP = pair_setup((ETH, BTC), {"window": 10, "halflife": 5, "entry_z": 2.0, "exit_z": 0.0, "stop_z": 50.0})
RISK = RiskConfig(cooldown_minutes=0, cooldown_after_loss_minutes=0)


def candles(setup: PairSetup) -> tuple[list[list[float]], list[list[float]]]:
    """Return ETH and BTC hourly candles moving together, ETH falling on the last: a long-spread entry."""
    n = setup.required_history + 20
    last_open = datetime_to_ms(T0) // HOUR * HOUR - HOUR
    times = [last_open - (n - 1 - i) * HOUR for i in range(n)]
    rng = np.random.default_rng(7)
    btc = 50_000 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    eth = 3_000 * (btc / 50_000) * np.exp(rng.normal(0, 0.001, n))
    eth[-1] *= 0.97  # ETH falls behind BTC: z well below -entry_z
    rows = [[[t, float(p), float(p), float(p), float(p), 1.0] for t, p in zip(times, series, strict=True)]
            for series in (eth, btc)]
    return rows[0], rows[1]


def serve_pair_candles(fake: FakeExchange) -> None:
    """Serve the ``candles(SETUP)`` long-spread entry on ``fake``: ETH and BTC hourly rows and last prices."""
    eth, btc = candles(SETUP)
    fake.set_candles(ETH, "1h", eth)
    fake.set_candles(BTC, "1h", btc)
    fake.set_price(ETH, f"{eth[-1][4]:.2f}")
    fake.set_price(BTC, f"{btc[-1][4]:.2f}")


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    with running_fake() as fake:
        fake.venue.deposit("USDT", "10000")
        fake.venue.deposit("BTC", "0.2")
        fake.venue.fee_in_quote = True  # fees in USDT as on a perpetual: the unwind sells all that was bought
        fake.venue.now_ms = datetime_to_ms(T0)
        serve_pair_candles(fake)
        yield fake


def service(fake: FakeExchange, db: Database, clock: SimClock) -> tuple[TradingService, CcxtExchange]:
    exchange = fake_binance_client(fake)
    alerts = AlertService(db.uow_factory, RecordingChannel(), clock)
    options = EngineOptions(RISK, leg_fractions={"pairs": SETUP.leg_fraction})
    trading = TradingService(exchange, db.uow_factory, clock, options, {}, alerts=alerts,
                             pairs={"pairs": SETUP})
    return trading, exchange


ServiceOf = Callable[[FakeExchange, Database, SimClock], tuple[TradingService, CcxtExchange]]


async def migrated_store(tmp_path: object) -> str:
    """Return the URL of a new SQLite store in ``tmp_path`` migrated to the head."""
    url = f"sqlite+aiosqlite:///{tmp_path}/live.db"
    await upgrade_async(url)
    return url


async def tick_with_a_refused_leg(fake: FakeExchange, url: str, service_of: ServiceOf, route: str,
                                  refusal: str) -> tuple[GroupClosed, Database, SimClock]:
    """Run the pairs tick with the venue refusing the second leg's order on ``route`` (-2010 ``refusal``),
    check the group failed and the engine ended flat; return the GroupClosed, the store and the clock."""
    fake.inject(Fault(FaultKind.ERROR, route=route, status=400, code=-2010, after=1, msg=refusal))
    db, clock = Database.from_url(url), SimClock(T0)
    trading, exchange = service_of(fake, db, clock)
    try:
        [report] = await trading.run_ticks("pairs", [ETH], "1h")
        closed = [e for e in report.events if isinstance(e, GroupClosed)]
        assert closed and closed[0].group.group.status is GroupStatus.FAILED
        assert fake.faults.fired == [(route, FaultKind.ERROR)]
        state = await trading.engine_state()
        assert state.groups == {} and state.orders == {} and state.positions == {}
    finally:
        await exchange.close()
    return closed[0], db, clock


async def test_a_rejected_leg_is_unwound_and_account_engine_and_store_end_flat(fake: FakeExchange,
                                                                              tmp_path: object) -> None:
    url = await migrated_store(tmp_path)
    eth, btc = candles(SETUP)
    row = SETUP.latest(CandleFrame.from_arrays(np.array(eth)), CandleFrame.from_arrays(np.array(btc)))
    assert row is not None and row.enter_long  # the candles do signal a long-spread entry
    # the venue takes the ETH buy (leg 0) and refuses the BTC sell (leg 1)
    closed, db, clock = await tick_with_a_refused_leg(
        fake, url, service, CREATE, "Account has insufficient balance for requested action.")
    group_id = closed.group.id
    # the venue: the ETH bought was sold back, the BTC never left; only fees were paid
    venue = fake.venue
    free = {asset: amount for asset, amount, _ in venue.balances()}
    assert free.get("ETH", Decimal(0)) == 0 and free["BTC"] == Decimal("0.2")
    assert venue.open_orders(None) == []
    accepted = [(e.detail["side"], e.detail["qty"]) for e in venue.accepted()]  # the BTC sell never got in
    assert [side for side, _ in accepted] == ["BUY", "SELL"] and accepted[0][1] == accepted[1][1]
    assert len(venue.fills()) == 2 and free["USDT"] < Decimal(10_000)
    # the store agrees: the three orders with their final status, the two fills
    async with db.uow() as uow:
        fills = await uow.fills.since(datetime(2000, 1, 1, tzinfo=UTC))
        orders = [await uow.orders.get(f.client_order_id) for f in fills]
        memory = await uow.engine.get()
        [btc_order] = await uow.orders.for_position(leg_position_id(group_id, 1))
        [leg] = await uow.positions.finished(limit=10)  # the ETH bought and sold back; the BTC leg never held
    await db.dispose()
    assert (leg.id, leg.symbol, leg.strategy) == (leg_position_id(group_id, 0), ETH, "pairs")
    assert (leg.entry_price, leg.exit_price, leg.filled) == (fills[0].price, fills[1].price, fills[0].amount)
    loss = (fills[1].price - fills[0].price) * fills[0].amount - fills[0].fee - fills[1].fee
    assert leg.realised_pnl == loss and leg.exit_reason is None
    assert [(f.symbol, f.side) for f in fills] == [(ETH, Side.BUY), (ETH, Side.SELL)]
    assert fills[0].amount == fills[1].amount
    assert [(o.purpose, o.status) for o in orders if o is not None] == \
        [(OrderPurpose.ENTRY, OrderStatus.FILLED), (OrderPurpose.EXIT, OrderStatus.FILLED)]
    assert (btc_order.symbol, btc_order.side, btc_order.status) == (BTC, Side.SELL, OrderStatus.REJECTED)
    assert memory is not None and memory.groups == {} and memory.outbox == ()
    # a restart (new services over the same database and venue) sees nothing to do
    db = Database.from_url(url)
    trading, exchange = service(fake, db, clock)
    try:
        state = await trading.engine_state()
        assert state.groups == {} and state.orders == {}
    finally:
        await exchange.close()
        await db.dispose()


async def test_an_open_group_survives_a_restart_and_closes_both_legs_on_close(fake: FakeExchange,
                                                                             tmp_path: object) -> None:
    url = await migrated_store(tmp_path)
    db, clock = Database.from_url(url), SimClock(T0)
    trading, exchange = service(fake, db, clock)
    try:
        [report] = await trading.run_ticks("pairs", [ETH], "1h")
        [opened] = [e for e in report.events if isinstance(e, GroupOpened)]
        before = (await trading.engine_state()).groups
    finally:
        await exchange.close()
        await db.dispose()
    free = {asset: amount for asset, amount, _ in fake.venue.balances()}
    assert free["ETH"] == opened.group.group.legs[0].held > 0
    assert free["BTC"] == Decimal("0.2") - opened.group.group.legs[1].held
    # a new process over the same database and venue: the group is there, exactly as it was
    db = Database.from_url(url)
    trading, exchange = service(fake, db, clock)
    try:
        state = await trading.engine_state()
        assert state.groups == before and state.groups[opened.group.id].group.status is GroupStatus.OPEN
        result = await trading.close_position(opened.group.id)
        assert result.ok
        closed = [e for e in result.events if isinstance(e, GroupClosed)]
        assert closed and closed[0].group.group.status is GroupStatus.CLOSED
        assert closed[0].group.exit_reason == "manual"
        assert (await trading.engine_state()).groups == {}
    finally:
        await exchange.close()
        await db.dispose()
    free = {asset: amount for asset, amount, _ in fake.venue.balances()}
    assert free.get("ETH", Decimal(0)) == 0 and free["BTC"] == Decimal("0.2")
    assert fake.venue.open_orders(None) == []
    # the trade history and /profit list both legs, with the PnL and fees of their fills in the store
    expected = await _legs_from_fills(url, closed[0].group.id)
    legs = await _reports_read(fake, url, clock, expected)
    assert legs == closed[0].legs
    assert sum(p.realised_pnl for p in legs) == closed[0].group.realised_pnl
    # a restart reads the same two, and storing the legs again (a replayed cycle) adds none
    db = Database.from_url(url)
    trading, exchange = service(fake, db, clock)
    try:
        assert (await trading.engine_state()).groups == {}
        async with db.uow() as uow:
            for leg in closed[0].legs:
                await uow.positions.save(leg)
            await uow.commit()
    finally:
        await exchange.close()
        await db.dispose()
    assert await _reports_read(fake, url, clock, expected) == legs


async def _legs_from_fills(url: str, group_id: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Return each leg's (PnL, fees) worked out from its fills in the store: entry and exit, fees in quote."""
    db = Database.from_url(url)
    legs: dict[str, tuple[Decimal, Decimal]] = {}
    try:
        async with db.uow() as uow:
            for leg in (0, 1):
                position_id = leg_position_id(group_id, leg)
                fills = {o.purpose: await uow.fills.for_order(o.client_order_id)
                         for o in await uow.orders.for_position(position_id)}
                (opened,), closing = fills[OrderPurpose.ENTRY], fills[OrderPurpose.EXIT]
                sign = 1 if opened.side is Side.BUY else -1
                fees = sum((f.fee for f in (opened, *closing)), Decimal(0))
                pnl = sum((sign * (f.price - opened.price) * f.amount for f in closing), Decimal(0)) - fees
                legs[position_id] = (pnl, fees)
    finally:
        await db.dispose()
    return legs


async def _reports_read(fake: FakeExchange, url: str, clock: SimClock,
                        expected: dict[str, tuple[Decimal, Decimal]]) -> tuple[Position, ...]:
    """Check /trades and /profit list exactly the legs in ``expected``; return the stored legs."""
    db = Database.from_url(url)
    _, exchange = service(fake, db, clock)
    reports = StoreReportService(db.uow_factory, exchange, clock, quote="USDT", start_balance=Decimal(10_000))
    try:
        page = await reports.trades(TradeQuery(page_size=50))
        assert page.total == 2 and {t.id for t in page.trades} == set(expected)
        for trade in page.trades:
            assert (trade.strategy, trade.exit_reason) == ("pairs", ExitReason.MANUAL)
            assert trade.pnl == expected[trade.id][0]
        records = {r.id: r for r in await reports.trade_records()}
        assert {i: (r.pnl, r.fees) for i, r in records.items()} == expected
        profit = await reports.profit(None)
        assert profit.closed_trades == 2
        assert profit.realised == sum(pnl for pnl, _ in expected.values())
        assert profit.fees == sum(fees for _, fees in expected.values())
        async with db.uow() as uow:
            stored = await uow.positions.finished(limit=10)
    finally:
        await exchange.close()
        await db.dispose()
    return tuple(sorted(stored, key=lambda p: p.id))
