"""Orders on a Bybit linear perpetual through a swap CcxtExchange (real ccxt bybit, unified account)
against the fake's Bybit linear dialect (``bybit_linear.py``): the margin mode set account-wide and the
leverage per symbol, once, with 110043 "leverage not modified" counted as set; the stop a reduce-only
conditional order (``triggerPrice``, ``triggerDirection``) found, listed and cancelled by our
``orderLinkId``, whose fill keeps its ids when it triggers; the unified wallet and the signed position;
trades and funding from the execution list a week and a page at a time; and faults on every order
route without a second order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.contract.exchange.intents import BTC, intent
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from tests.fixtures.fake_exchange import closing, fake_bybit_config, quick_client
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.core.domain.candles import ms_to_datetime
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import Symbol
from trader.core.errors import ExchangeError, RetryableError

D = Decimal
HOUR, DAY = 3_600_000, 24 * 3_600_000
EPOCH = datetime(2023, 10, 1, tzinfo=UTC)
ENTRY = intent("p1", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.05")
STOP = intent("p1", OrderPurpose.STOP, Side.BUY, OrderType.STOP, "0.05", trigger="51000")
MOVED = intent("p1", OrderPurpose.STOP, Side.BUY, OrderType.STOP, "0.05", trigger="50500", attempt=1)
ROUTES = ("POST /v5/order/create", "POST /v5/order/cancel", "GET /v5/order/realtime")


def swap_client(fake: FakeExchange, mode: str = "isolated") -> CcxtExchange:
    """Return a swap client on the fake trading BTC/USDT at 3x."""
    return quick_client(fake_bybit_config(fake), swap=True, perpetuals={"BTC/USDT": (D(3), mode)})


@pytest.fixture
async def perp(bybit_fake: FakeExchange) -> AsyncIterator[CcxtExchange]:
    async with closing(swap_client(bybit_fake)) as exchange:
        yield exchange


async def test_the_linear_perpetual_carries_the_venues_lot_and_leverage_limit(perp: CcxtExchange) -> None:
    spec = await perp.market(BTC)
    assert (spec.symbol, spec.amount_step, spec.min_amount) == (BTC, D("0.001"), D("0.001"))
    assert spec.futures is not None and spec.futures.max_leverage == 100
    assert spec.futures.tiers[0].rate == D("0.004")  # the risk-limit tiers, read with keys
    assert spec.capabilities.native_stop and not spec.capabilities.oco and spec.capabilities.shorting


@pytest.mark.parametrize("mode", ["isolated", "cross"])
async def test_a_short_and_its_reduce_only_conditional_stop_on_the_bybit_perpetual(
        bybit_fake: FakeExchange, mode: str) -> None:
    perps = bybit_fake.perps
    async with closing(swap_client(bybit_fake, mode)) as exchange:
        entry = await exchange.place(ENTRY)
        assert (entry.symbol, entry.status, entry.amount, entry.filled, entry.average_price) == (
            BTC, OrderStatus.FILLED, D("0.05"), D("0.05"), D(50000))
        # the account-wide margin mode, then the leverage; the venue holds -0.05 BTC
        wanted = ["account ISOLATED"] if mode == "isolated" else []
        assert bybit_fake.futures.setting_changes == [*wanted, "BTCUSDT leverage 3"]
        assert perps.position("BTCUSDT").qty == D("-0.05")
        stop = await exchange.place(STOP)
        assert (stop.symbol, stop.status, stop.type, stop.trigger_price, stop.amount) == (
            BTC, OrderStatus.OPEN, OrderType.STOP, D(51000), D("0.05"))
        [algo] = perps.open_algos("BTCUSDT")  # a buy on a rise to 51000 (triggerDirection 1), reduce-only
        assert (algo.client_id, algo.reduce_only, algo.side, algo.type, algo.qty) == (
            STOP.client_order_id, True, "BUY", "STOP_MARKET", D("0.05"))
        assert [o.client_order_id for o in await exchange.open_orders(BTC)] == [STOP.client_order_id]
        account = await exchange.balances()
        assert account.positions == {BTC: D("-0.05")} and account.exposure == D(2500)
        assert abs(account.free - (D(10000) - D(1) - D(2500) / 3)) < D("1e-6")
        bybit_fake.set_price("BTC/USDT", "50500")  # equity: the wallet (less the fee) and the unrealised loss
        assert (await exchange.balances()).equity == D(10000) - D(1) - D(25)

        bybit_fake.set_price("BTC/USDT", "51500")  # through the stop: the conditional order triggers
        found = await exchange.order(BTC, STOP.client_order_id)
        assert found is not None and found.status is OrderStatus.FILLED and found.filled == D("0.05")
        fills = await exchange.fills_since(BTC, EPOCH)
        assert [(f.client_order_id, f.side, f.amount, f.price) for f in fills] == [
            (ENTRY.client_order_id, Side.SELL, D("0.05"), D(50000)),
            (STOP.client_order_id, Side.BUY, D("0.05"), D(51500))]
        assert (await exchange.balances()).positions == {}
        with pytest.raises(ExchangeError) as refused:  # nothing to reduce: never opens a long
            await exchange.place(intent("p1", OrderPurpose.EXIT, Side.BUY, OrderType.MARKET, "0.05"))
        assert not isinstance(refused.value, RetryableError) and "110017" in str(refused.value)


async def test_leverage_already_set_on_the_venue_counts_as_set(bybit_fake: FakeExchange) -> None:
    bybit_fake.futures.leverage["BTCUSDT"] = 3  # 110043 "leverage not modified" on set-leverage
    async with closing(swap_client(bybit_fake)) as exchange:
        entry = await exchange.place(ENTRY)
        assert entry.status is OrderStatus.FILLED
        assert bybit_fake.futures.setting_changes == ["account ISOLATED"]
        assert "POST /v5/position/set-leverage" in bybit_fake.requests
        await exchange.place(intent("p2", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.01"))
        assert bybit_fake.requests.count("POST /v5/position/set-leverage") == 1  # once per client


async def test_a_restarted_client_finds_the_triggered_stop_and_its_fill(
        perp: CcxtExchange, bybit_fake: FakeExchange) -> None:
    await perp.place(ENTRY)
    await perp.place(STOP)
    bybit_fake.set_price("BTC/USDT", "51500")
    async with closing(swap_client(bybit_fake)) as fresh:
        fills = await fresh.fills_since(BTC, EPOCH)
        assert [f.client_order_id for f in fills] == [ENTRY.client_order_id, STOP.client_order_id]
        found = await fresh.order(BTC, STOP.client_order_id)
        assert found is not None and found.status is OrderStatus.FILLED


async def test_the_stop_is_moved_by_cancel_then_place_by_our_order_link_id(
        perp: CcxtExchange, bybit_fake: FakeExchange) -> None:
    await perp.place(ENTRY)
    await perp.place(STOP)
    result = await perp.replace(BTC, STOP.client_order_id, MOVED)
    assert result.placed is not None and result.placed.trigger_price == D(50500)
    [algo] = bybit_fake.perps.open_algos()
    assert (algo.client_id, algo.trigger) == (MOVED.client_order_id, D(50500))
    old = await perp.order(BTC, STOP.client_order_id)
    assert old is not None and old.status is OrderStatus.CANCELLED  # Deactivated


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("kind", [FaultKind.DROP_AFTER_ACCEPT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT,
                                  FaultKind.RATE_LIMIT])
async def test_faults_on_the_bybit_order_routes_never_duplicate_an_order(
        perp: CcxtExchange, bybit_fake: FakeExchange, route: str, kind: FaultKind) -> None:
    await perp.market(BTC)
    bybit_fake.inject(Fault(kind, route=route, retry_after=0, delay=3.0))
    await perp.place(ENTRY)
    await perp.place(STOP)
    result = await perp.replace(BTC, STOP.client_order_id, MOVED)
    assert result.placed is not None and result.placed.status is OrderStatus.OPEN
    events = bybit_fake.perps.events
    assert events.count(f"accepted {ENTRY.client_order_id}") == 1
    assert events.count(f"algo {STOP.client_order_id}") == 1
    assert events.count(f"algo {MOVED.client_order_id}") == 1
    assert [a.client_id for a in bybit_fake.perps.open_algos()] == [MOVED.client_order_id]
    assert bybit_fake.perps.position("BTCUSDT").qty == D("-0.05")
    assert (route, kind) in bybit_fake.faults.fired


async def test_funding_is_read_from_the_execution_list_a_week_and_a_page_at_a_time(
        perp: CcxtExchange, bybit_fake: FakeExchange) -> None:
    await perp.place(ENTRY)
    received = -bybit_fake.perps.charge_funding("BTCUSDT", "0.0001")
    [(_, paid)] = await perp.funding_paid(BTC, ms_to_datetime(bybit_fake.venue.now_ms - HOUR))
    assert paid == -received == -D("0.25")
    start = bybit_fake.venue.now_ms - 20 * DAY
    for i in range(300):  # three weeks of funding, more than a page of 100 in some weeks
        pair = "ETHUSDT" if i % 5 == 0 else "BTCUSDT"
        bybit_fake.futures.pay_funding(pair, D("-0.01"), start + i * 1_600_000)
    paid_all = await perp.funding_paid(BTC, ms_to_datetime(start))
    assert len(paid_all) == 241 and sum(p for _, p in paid_all) == D("2.40") - D("0.25")
    windows = [r for r in bybit_fake.requests if r == "GET /v5/execution/list"]
    assert len(windows) >= 4  # three weeks, one of them over two pages


async def test_the_trade_history_is_walked_week_by_week_and_page_by_page(
        perp: CcxtExchange, bybit_fake: FakeExchange) -> None:
    start = bybit_fake.venue.now_ms - 20 * DAY
    for i in range(130):  # made on the venue directly across three weeks, more than a page in one
        bybit_fake.venue.now_ms = start + (i * 2 * HOUR if i < 110 else 15 * DAY + i * HOUR)
        side = "SELL" if i % 2 == 0 else "BUY"
        bybit_fake.perps.place({"symbol": "BTCUSDT", "side": side, "type": "MARKET",
                                "quantity": "0.002", "newClientOrderId": f"x{i}"})
    fills = await perp.fills_since(BTC, ms_to_datetime(start))
    assert [f.client_order_id for f in fills] == [f"x{i}" for i in range(130)]
    assert {f.amount for f in fills} == {D("0.002")}


async def test_a_pair_no_strategy_configures_keeps_the_accounts_margin_mode(
        bybit_fake: FakeExchange) -> None:
    # BTC/USDT at 3x cross; ETH/USDT not configured
    async with closing(swap_client(bybit_fake, "cross")) as exchange:
        await exchange.place(intent("p3", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.05",
                                    symbol=Symbol("ETH/USDT")))
        # 1x, and cross like the strategies: isolated would switch the whole account under them
        assert bybit_fake.futures.setting_changes == ["ETHUSDT leverage 1"]
