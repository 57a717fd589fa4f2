"""Orders on a perpetual through a swap CcxtExchange (real ccxt) against the fake's Binance USDⓈ-M
dialect: the pair's symbol in, the perpetual traded; a short entry, a reduce-only stop in the algo book
(found, listed, cancelled by our client id), fills tagged with our ids, the futures wallet and the
signed venue position; every fault on the order and algo routes handled without a second order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.contract.exchange.intents import BTC, intent
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from tests.fixtures.fake_exchange import closing, quick_client
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.config.sections import ExchangeConfig
from trader.core.domain.candles import ms_to_datetime
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.errors import ExchangeError, RetryableError

D = Decimal
EPOCH = datetime(2023, 10, 1, tzinfo=UTC)  # weeks before the fake's clock: several trade windows
ENTRY = intent("p1", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.05")
STOP = intent("p1", OrderPurpose.STOP, Side.BUY, OrderType.STOP, "0.05", trigger="51000")
ROUTES = ("POST /fapi/v1/order", "POST /fapi/v1/algoOrder")


@pytest.fixture
async def perp(fake_exchange: FakeExchange,
               fake_exchange_config: ExchangeConfig) -> AsyncIterator[CcxtExchange]:
    fake_exchange.perps.deposit("10000")
    perpetuals = {"BTC/USDT": (D(3), "isolated")}
    async with closing(quick_client(fake_exchange_config, swap=True, perpetuals=perpetuals)) as exchange:
        yield exchange


@pytest.mark.parametrize("child_keeps_client_id", [True, False], ids=["same-id", "own-id"])
async def test_a_short_and_its_reduce_only_stop_on_the_perpetual(
        perp: CcxtExchange, fake_exchange: FakeExchange, child_keeps_client_id: bool) -> None:
    # the triggered stop's market order may carry the algo's client id or its own: both are read right
    fake_exchange.perps.child_keeps_client_id = child_keeps_client_id
    entry = await perp.place(ENTRY)
    assert (entry.symbol, entry.status, entry.filled, entry.average_price) == (BTC, OrderStatus.FILLED,
                                                                                D("0.05"), D(50000))
    assert fake_exchange.futures.setting_changes == ["BTCUSDT ISOLATED", "BTCUSDT leverage 3"]
    stop = await perp.place(STOP)
    assert (stop.symbol, stop.status, stop.type, stop.trigger_price) == (
        BTC, OrderStatus.OPEN, OrderType.STOP, D(51000))
    [algo] = fake_exchange.perps.open_algos("BTCUSDT")
    assert (algo.client_id, algo.reduce_only, algo.side) == (STOP.client_order_id, True, "BUY")
    assert [o.client_order_id for o in await perp.open_orders(BTC)] == [STOP.client_order_id]
    account = await perp.balances()
    assert account.positions == {"BTC/USDT": D("-0.05")} and account.exposure == D(2500)
    # less the margin and the entry fee (ccxt passes the wallet through floats)
    assert abs(account.free - (D(10000) - D(2500) / 3 - D(1))) < D("1e-6")
    assert account.equity == D(10000) - D(1)

    fake_exchange.set_price("BTC/USDT", "51500")  # through the stop: the algo order triggers
    found = await perp.order(BTC, STOP.client_order_id)
    assert found is not None and (found.status, found.filled, found.average_price) == (
        OrderStatus.FILLED, D("0.05"), D(51500))
    fills = await perp.fills_since(BTC, EPOCH)
    assert [(f.client_order_id, f.side, f.symbol) for f in fills] == [
        (ENTRY.client_order_id, Side.SELL, BTC), (STOP.client_order_id, Side.BUY, BTC)]
    assert (await perp.balances()).positions == {}
    with pytest.raises(ExchangeError) as refused:  # nothing to reduce: a closing order never opens a long
        await perp.place(intent("p1", OrderPurpose.EXIT, Side.BUY, OrderType.MARKET, "0.05"))
    assert not isinstance(refused.value, RetryableError) and "-2022" in str(refused.value)


async def test_a_stop_is_cancelled_from_the_algo_book_by_our_client_id(perp: CcxtExchange,
                                                                       fake_exchange: FakeExchange) -> None:
    await perp.place(ENTRY)
    await perp.place(STOP)
    cancelled = await perp.cancel(BTC, STOP.client_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert fake_exchange.perps.open_algos() == [] and await perp.open_orders(BTC) == []


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("kind", [FaultKind.DROP_AFTER_ACCEPT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT,
                                  FaultKind.RATE_LIMIT])
async def test_faults_on_the_futures_order_routes_never_duplicate_an_order(
        perp: CcxtExchange, fake_exchange: FakeExchange, route: str, kind: FaultKind) -> None:
    fake_exchange.inject(Fault(kind, route=route, retry_after=0, delay=3.0))
    await perp.place(ENTRY)
    stop = await perp.place(STOP)
    assert stop.status is OrderStatus.OPEN
    events = fake_exchange.perps.events
    assert events.count(f"accepted {ENTRY.client_order_id}") == 1
    assert events.count(f"algo {STOP.client_order_id}") == 1
    assert fake_exchange.perps.position("BTCUSDT").qty == D("-0.05")
    assert (route, kind) in fake_exchange.faults.fired


async def test_funding_paid_on_the_venue_is_read_for_the_pair(perp: CcxtExchange,
                                                             fake_exchange: FakeExchange) -> None:
    await perp.place(ENTRY)
    received = -fake_exchange.perps.charge_funding("BTCUSDT", "0.0001")
    assert received == D("0.25")
    [(_, paid)] = await perp.funding_paid(BTC, EPOCH)
    assert paid == -received  # negative: the short received it


async def test_the_perpetuals_carry_the_venues_margin_tiers(perp: CcxtExchange) -> None:
    spec = await perp.market(BTC)
    assert spec.futures is not None
    tiers = [(t.rate, t.max_leverage) for t in spec.futures.tiers]
    assert tiers[:2] == [(D("0.004"), 125), (D("0.005"), 100)]


async def test_funding_falls_due_at_its_scheduled_time(perp: CcxtExchange,
                                                       fake_exchange: FakeExchange) -> None:
    await perp.place(ENTRY)
    at = fake_exchange.venue.now_ms + 1500
    fake_exchange.perps.schedule_funding("BTCUSDT", at, "0.0002")
    fake_exchange.set_price("BTC/USDT", "50000")  # one second on: not yet
    assert await perp.funding_paid(BTC, EPOCH) == []
    fake_exchange.set_price("BTC/USDT", "40000")  # due: charged on the short at the price then
    [(_, paid)] = await perp.funding_paid(BTC, EPOCH)
    assert paid == -D("0.05") * D(40000) * D("0.0002")
    assert fake_exchange.futures.funding_rates["BTCUSDT"] == [(fake_exchange.venue.now_ms, D("0.0002"))]


async def test_funding_paid_pages_through_a_long_history(perp: CcxtExchange,
                                                         fake_exchange: FakeExchange) -> None:
    start = fake_exchange.venue.now_ms - 1200 * 3_600_000
    for i in range(1001):  # more than one page of 1000 income rows: an hourly-funded month and a half
        fake_exchange.futures.pay_funding("BTCUSDT", D("-0.01"), start + i * 3_600_000)
    paid = await perp.funding_paid(BTC, ms_to_datetime(start))
    assert len(paid) == 1001 and sum(p for _, p in paid) == D("10.01")


async def test_the_stop_is_swapped_for_a_reduce_only_take_profit_near_the_target(
        perp: CcxtExchange, fake_exchange: FakeExchange) -> None:
    await perp.place(ENTRY)
    await perp.place(STOP)
    target = intent("p1", OrderPurpose.TAKE_PROFIT, Side.BUY, OrderType.LIMIT, "0.05", price="48000")
    swapped = await perp.replace(BTC, STOP.client_order_id, target)  # cancel the stop, then place
    assert swapped.cancelled is not None and swapped.cancelled.status is OrderStatus.CANCELLED
    assert swapped.placed is not None and swapped.placed.status is OrderStatus.OPEN
    [resting] = fake_exchange.perps.open_orders("BTCUSDT")
    assert (resting.type, resting.reduce_only, resting.price) == ("LIMIT", True, D(48000))
    assert fake_exchange.perps.open_algos() == []  # never two closing orders for one position
    fake_exchange.set_price("BTC/USDT", "47900")
    done = await perp.order(BTC, target.client_order_id)
    assert done is not None and (done.status, done.average_price) == (OrderStatus.FILLED, D(48000))
    assert fake_exchange.perps.position("BTCUSDT").qty == 0


async def test_a_close_position_stop_closes_whatever_the_position_is_then(
        perp: CcxtExchange, fake_exchange: FakeExchange) -> None:
    await perp.place(ENTRY)
    client = perp._client  # the raw ccxt call: the adapter sends sized reduce-only stops, not this form
    await client.create_order("BTC/USDT:USDT", "market", "buy", None, None,
                              {"stopLossPrice": "52000", "closePosition": True, "clientOrderId": "cp1"})
    [algo] = fake_exchange.perps.open_algos("BTCUSDT")
    assert (algo.close_position, algo.reduce_only, algo.qty) == (True, True, 0)
    await perp.place(intent("p2", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.02"))  # more short
    fake_exchange.set_price("BTC/USDT", "52500")
    assert fake_exchange.perps.position("BTCUSDT").qty == 0  # all 0.07 bought back
    assert fake_exchange.perps.trades[-1].qty == D("0.07")
