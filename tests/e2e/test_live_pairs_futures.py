"""The rejected-leg pair trade on the Binance USDⓈ-M futures dialect (``/fapi``), live mode through real
ccxt and real SQLite: both legs are perpetuals at 1x, the x leg a real short. The venue takes the ETH
buy (leg 0) and refuses the BTC short (leg 1); the engine sends the ETH back with a
reduce-only sell, and the venue's positions, the engine state and the store end flat and agree, also
after a restart (whose reconciliation finds nothing to say)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.e2e.live_harness import T0, RecordingChannel
from tests.e2e.test_live_pairs import (
    BTC,
    ETH,
    RISK,
    SETUP,
    migrated_store,
    serve_pair_candles,
    tick_with_a_refused_leg,
)
from tests.fakes.fake_exchange import FakeExchange
from tests.fakes.fake_exchange.fapi_account import FPosition
from tests.fixtures.fake_exchange import fake_binance_client, running_fake
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.store.sql.uow import Database
from trader.core.domain.enums import OrderPurpose, OrderStatus, Side
from trader.core.domain.futures import StrategyTrading
from trader.core.engine.pair_groups import leg_position_id
from trader.core.positions.pair_group import GroupStatus
from trader.live.alerts import AlertService
from trader.live.engine_runner import EngineOptions
from trader.live.reconcile import Reconciler
from trader.live.trading import TradingService
from trader.runtime.clock import SimClock

CREATE = "POST /fapi/v1/order"
ONE_X = Decimal(1)


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    with running_fake() as fake:
        fake.perps.deposit("10000")
        fake.venue.now_ms = int(T0.timestamp() * 1000)
        serve_pair_candles(fake)
        yield fake


def service(fake: FakeExchange, db: Database, clock: SimClock) -> tuple[TradingService, CcxtExchange]:
    """Return the trading service of the pairs strategy on the fake's perpetuals, and its swap client."""
    exchange = fake_binance_client(fake, swap=True,
                                   perpetuals={ETH: (ONE_X, "isolated"), BTC: (ONE_X, "isolated")})
    alerts = AlertService(db.uow_factory, RecordingChannel(), clock)
    trading = {"pairs": StrategyTrading(allow_short=True, swap=True, leverage=ONE_X, margin_mode="isolated")}
    options = EngineOptions(RISK, trading=trading, leg_fractions={"pairs": SETUP.leg_fraction})
    return TradingService(exchange, db.uow_factory, clock, options, {}, alerts=alerts,
                          pairs={"pairs": SETUP}), exchange


async def test_a_rejected_short_leg_is_unwound_reduce_only_and_everything_ends_flat(
        fake: FakeExchange, tmp_path: object) -> None:
    url = await migrated_store(tmp_path)
    # -2010 NEW_ORDER_REJECTED (a futures code too); ccxt maps the fapi-only codes such as -2019 by the
    # real hosts' URLs, so against the fake's host it would read -2019 as an unknown outcome
    closed, db, clock = await tick_with_a_refused_leg(fake, url, service, CREATE, "New order rejected.")
    assert closed.group.reduce_only  # a perpetual group: its closing orders are reduce-only
    group_id = closed.group.id
    # the venue: the ETH long was sold back reduce-only, no BTC short was ever opened; only fees paid
    perps = fake.perps
    assert perps.position("ETHUSDT").qty == 0 and perps.position("BTCUSDT").qty == 0
    assert perps.open_orders() == [] and perps.open_algos() == []
    orders = sorted(perps.orders.values(), key=lambda o: o.order_id)
    assert [(o.symbol_id, o.side, o.reduce_only, o.status) for o in orders] == [
        ("ETHUSDT", "BUY", False, "FILLED"), ("ETHUSDT", "SELL", True, "FILLED")]
    assert orders[0].qty == orders[1].qty and len(perps.trades) == 2
    assert perps.wallet < Decimal(10_000)
    # the store agrees: the ETH leg bought and sold back, the BTC short refused, nothing left to send
    async with db.uow() as uow:
        fills = await uow.fills.since(datetime(2000, 1, 1, tzinfo=UTC))
        stored = [await uow.orders.get(f.client_order_id) for f in fills]
        memory = await uow.engine.get()
        [btc_order] = await uow.orders.for_position(leg_position_id(group_id, 1))
        [leg] = await uow.positions.finished(limit=10)
    await db.dispose()
    assert [(f.symbol, f.side) for f in fills] == [(ETH, Side.BUY), (ETH, Side.SELL)]
    assert [(o.purpose, o.status, o.reduce_only) for o in stored if o is not None] == \
        [(OrderPurpose.ENTRY, OrderStatus.FILLED, False), (OrderPurpose.EXIT, OrderStatus.FILLED, True)]
    assert (btc_order.symbol, btc_order.side, btc_order.status) == (BTC, Side.SELL, OrderStatus.REJECTED)
    assert (leg.id, leg.symbol, leg.filled, leg.exit_filled) == (leg_position_id(group_id, 0), ETH,
                                                                 fills[0].amount, fills[1].amount)
    loss = (fills[1].price - fills[0].price) * fills[0].amount - fills[0].fee - fills[1].fee
    assert leg.realised_pnl + leg.funding == loss and leg.leverage == ONE_X
    assert memory is not None and memory.groups == {} and memory.outbox == ()
    # a restart: the same flat state, and reconciliation finds the venue agreeing with it
    db = Database.from_url(url)
    trading, exchange = service(fake, db, clock)
    try:
        state = await trading.engine_state()
        assert state.groups == {} and state.orders == {} and state.positions == {}
        recon = await Reconciler(trading.runner, [ETH, BTC]).run()
        assert recon.clean and recon.differences == () and recon.adopted_fills == 0
    finally:
        await exchange.close()
        await db.dispose()


async def test_a_short_leg_gone_from_the_venue_is_reported_at_start_and_blocks_entries(
        fake: FakeExchange, tmp_path: object) -> None:
    url = await migrated_store(tmp_path)
    db, clock = Database.from_url(url), SimClock(T0)
    trading, exchange = service(fake, db, clock)
    try:
        [report] = await trading.run_ticks("pairs", [ETH], "1h")
        [group] = (await trading.engine_state()).groups.values()
        assert group.group.status is GroupStatus.OPEN and report.events
    finally:
        await exchange.close()
        await db.dispose()
    short = group.group.legs[1].held
    assert fake.perps.position("BTCUSDT").qty == -short < 0  # the x leg is a real short on the venue
    with fake.venue.lock:  # closed on the venue outside the bot (by hand, or liquidated)
        fake.perps.positions["BTCUSDT"] = FPosition()
    db = Database.from_url(url)
    trading, exchange = service(fake, db, clock)
    try:
        recon = await Reconciler(trading.runner, [ETH, BTC]).run()
        state = await trading.engine_state()
    finally:
        await exchange.close()
        await db.dispose()
    [difference] = recon.unresolved
    assert difference.kind == "group_leg_mismatch"
    assert difference.detail.startswith(f"pair group {group.id}: its x leg BTC/USDT (short {short}) is "
                                        "missing on the venue (the venue's BTC/USDT position is 0)")
    assert state.entries_blocked and state.groups[group.id] == group  # kept as it was, entries blocked
