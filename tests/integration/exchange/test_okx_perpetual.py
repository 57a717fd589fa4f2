"""Orders on an OKX perpetual through a swap CcxtExchange (real ccxt okx) against the fake's OKX swap
dialect (``okx_swap.py``): contracts of 0.01 BTC converted at the adapter, ``tdMode`` the strategy's
margin mode (never spot's ``cash``), one set-leverage carrying the margin mode, the stop a reduce-only
``conditional`` algo order found, listed and cancelled by our ``algoClOrdId``, the triggered order's
fill tagged with our id through its algo order, the unified wallet and the signed position, funding
bills paged back, faults on the order routes without a second order, and OKX's own margin tiers read at
start-up (public position-tiers, in contracts)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.contract.exchange.intents import BTC, intent
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from tests.fakes.fake_exchange.okx_app import OKX_KEY
from tests.fixtures.fake_exchange import closing, quick_client, running_fake
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.config.sections import ExchangeConfig
from trader.core.domain.candles import ms_to_datetime
from trader.core.domain.enums import Direction, OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.futures import DEFAULT_TIERS, liquidation_price
from trader.core.errors import ExchangeError, RetryableError

D = Decimal
EPOCH = datetime(2023, 10, 1, tzinfo=UTC)
ENTRY = intent("p1", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.05")
STOP = intent("p1", OrderPurpose.STOP, Side.BUY, OrderType.STOP, "0.05", trigger="51000")
ROUTES = ("POST /api/v5/trade/batch-orders", "POST /api/v5/trade/order-algo")


@pytest.fixture
def okx_fake() -> Iterator[FakeExchange]:
    with running_fake("okx") as fake:
        fake.perps.deposit("10000")
        yield fake


def okx_config(fake: FakeExchange) -> ExchangeConfig:
    """Return an OKX ExchangeConfig aimed at the fake, with its test keys."""
    return ExchangeConfig(name="okx", api_key=SecretStr(OKX_KEY), api_secret=SecretStr("s"),
                          api_password=SecretStr("p"), api_base_url=fake.base_url)


@pytest.fixture
async def perp(okx_fake: FakeExchange) -> AsyncIterator[CcxtExchange]:
    perpetuals = {"BTC/USDT": (D(3), "isolated")}
    async with closing(quick_client(okx_config(okx_fake), swap=True, perpetuals=perpetuals)) as exchange:
        yield exchange


async def test_the_perpetual_counts_in_base_units_though_okx_counts_contracts(perp: CcxtExchange) -> None:
    spec = await perp.market(BTC)
    # 0.1 contract of 0.01 BTC: the step and minimum are 0.001 BTC
    assert (spec.symbol, spec.amount_step, spec.min_amount) == (BTC, D("0.001"), D("0.001"))
    assert spec.futures is not None and spec.futures.max_leverage == 125
    assert spec.capabilities.native_stop and not spec.capabilities.oco and spec.capabilities.shorting


@pytest.mark.parametrize("mode", ["isolated", "cross"])
async def test_a_short_and_its_reduce_only_stop_on_the_okx_perpetual(
        okx_fake: FakeExchange, mode: str) -> None:
    perps = okx_fake.perps
    async with closing(quick_client(okx_config(okx_fake), attempts=3, swap=True,
                                    perpetuals={"BTC/USDT": (D(3), mode)})) as exchange:
        entry = await exchange.place(ENTRY)
        assert (entry.symbol, entry.status, entry.amount, entry.filled, entry.average_price) == (
            BTC, OrderStatus.FILLED, D("0.05"), D("0.05"), D(50000))
        # one set-leverage with the margin mode; the venue holds -5 contracts = -0.05 BTC
        wanted = ["BTCUSDT ISOLATED"] if mode == "isolated" else []
        assert okx_fake.futures.setting_changes == [*wanted, "BTCUSDT leverage 3"]
        assert perps.position("BTCUSDT").qty == D("-0.05")
        stop = await exchange.place(STOP)
        assert (stop.symbol, stop.status, stop.type, stop.trigger_price, stop.amount) == (
            BTC, OrderStatus.OPEN, OrderType.STOP, D(51000), D("0.05"))
        [algo] = perps.open_algos("BTCUSDT")
        assert (algo.client_id, algo.reduce_only, algo.side, algo.qty) == (
            STOP.client_order_id, True, "BUY", D("0.05"))
        assert [o.client_order_id for o in await exchange.open_orders(BTC)] == [STOP.client_order_id]
        account = await exchange.balances()
        assert account.positions == {BTC: D("-0.05")} and account.exposure == D(2500)
        assert abs(account.free - (D(10000) - D(2500) / 3 - D(1))) < D("1e-6")

        okx_fake.set_price("BTC/USDT", "51500")  # through the stop: the algo order triggers
        found = await exchange.order(BTC, STOP.client_order_id)
        assert found is not None and found.status is OrderStatus.FILLED
        fills = await exchange.fills_since(BTC, EPOCH)
        # the triggered order has no clOrdId: it is ours through its algo order
        assert [(f.client_order_id, f.side, f.amount, f.price) for f in fills] == [
            (ENTRY.client_order_id, Side.SELL, D("0.05"), D(50000)),
            (STOP.client_order_id, Side.BUY, D("0.05"), D(51500))]
        assert (await exchange.balances()).positions == {}
        with pytest.raises(ExchangeError) as refused:  # nothing to reduce: never opens a long
            await exchange.place(intent("p1", OrderPurpose.EXIT, Side.BUY, OrderType.MARKET, "0.05"))
        assert not isinstance(refused.value, RetryableError) and "51169" in str(refused.value)


async def test_a_restarted_client_finds_the_triggered_stops_fill_by_its_algo_order(
        perp: CcxtExchange, okx_fake: FakeExchange) -> None:
    await perp.place(ENTRY)
    await perp.place(STOP)
    okx_fake.set_price("BTC/USDT", "51500")
    async with closing(CcxtExchange(okx_config(okx_fake), rate_limit=False, swap=True,
                                    perpetuals={"BTC/USDT": (D(3), "isolated")})) as fresh:
        fills = await fresh.fills_since(BTC, EPOCH)
        assert [f.client_order_id for f in fills] == [ENTRY.client_order_id, STOP.client_order_id]


async def test_a_stop_is_cancelled_from_the_algo_book_by_our_client_id(perp: CcxtExchange,
                                                                       okx_fake: FakeExchange) -> None:
    await perp.place(ENTRY)
    await perp.place(STOP)
    cancelled = await perp.cancel(BTC, STOP.client_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert okx_fake.perps.open_algos() == [] and await perp.open_orders(BTC) == []


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("kind", [FaultKind.DROP_AFTER_ACCEPT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT,
                                  FaultKind.RATE_LIMIT])
async def test_faults_on_the_okx_order_routes_never_duplicate_an_order(
        perp: CcxtExchange, okx_fake: FakeExchange, route: str, kind: FaultKind) -> None:
    okx_fake.inject(Fault(kind, route=route, retry_after=0, delay=3.0))
    await perp.place(ENTRY)
    stop = await perp.place(STOP)
    assert stop.status is OrderStatus.OPEN
    events = okx_fake.perps.events
    assert events.count(f"accepted {ENTRY.client_order_id}") == 1
    assert events.count(f"algo {STOP.client_order_id}") == 1
    assert okx_fake.perps.position("BTCUSDT").qty == D("-0.05")
    assert (route, kind) in okx_fake.faults.fired


async def test_funding_bills_are_read_for_the_pair_and_paged_back(perp: CcxtExchange,
                                                                  okx_fake: FakeExchange) -> None:
    await perp.place(ENTRY)
    received = -okx_fake.perps.charge_funding("BTCUSDT", "0.0001")
    [(_, paid)] = await perp.funding_paid(BTC, EPOCH)
    assert paid == -received == -D("0.25")
    start = okx_fake.venue.now_ms - 300 * 3_600_000
    for i in range(250):  # more than two pages of 100 bills, some of another perpetual
        pair = "ETHUSDT" if i % 5 == 0 else "BTCUSDT"
        okx_fake.futures.pay_funding(pair, D("-0.01"), start + i * 3_600_000)
    paid_all = await perp.funding_paid(BTC, ms_to_datetime(start))
    assert len(paid_all) == 201 and sum(p for _, p in paid_all) == D("2") - D("0.25")
    later = await perp.funding_paid(BTC, ms_to_datetime(start + 200 * 3_600_000))
    assert len(later) == 41  # 40 of the hourly bills and the charge above


async def test_the_trade_history_is_paged_back_a_hundred_fills_at_a_time(perp: CcxtExchange,
                                                                        okx_fake: FakeExchange) -> None:
    for i in range(130):  # made on the venue directly: more than one page of 100 fills
        okx_fake.perps.place({"symbol": "BTCUSDT", "side": "SELL" if i % 2 == 0 else "BUY", "type": "MARKET",
                              "quantity": "0.002", "newClientOrderId": f"x{i}"})
    fills = await perp.fills_since(BTC, EPOCH)
    assert [f.client_order_id for f in fills] == [f"x{i}" for i in range(130)]
    assert {f.amount for f in fills} == {D("0.002")}
    assert "GET /api/v5/trade/fills-history" in okx_fake.requests


async def test_an_account_in_long_short_mode_is_refused_before_any_order(perp: CcxtExchange,
                                                                         okx_fake: FakeExchange) -> None:
    okx_fake.futures.hedge_mode = True  # our orders carry no posSide: OKX would refuse them all
    with pytest.raises(ExchangeError) as refused:
        await perp.place(ENTRY)
    assert not isinstance(refused.value, RetryableError) and "position mode" in str(refused.value)
    assert okx_fake.perps.events == [] and okx_fake.futures.setting_changes == []
    assert "GET /api/v5/account/config" in okx_fake.requests


async def test_the_perpetuals_candles_count_volume_in_the_base_asset(perp: CcxtExchange,
                                                                     okx_fake: FakeExchange) -> None:
    frame = await perp.candles(BTC, "1h", limit=5)
    sample = okx_fake.venue.market("BTCUSDT").candles["1h"]
    by_time = {int(r[0]): D(str(r[5])) for r in sample}
    assert len(frame) == 5 and all(by_time[int(t)] == D(str(v)) for t, v in zip(
        frame.timestamp, frame.volume, strict=True))


@pytest.mark.parametrize("mode", ["isolated", "cross"])
async def test_okx_margin_tiers_are_read_at_start_up_and_reach_the_liquidation_price(
        okx_fake: FakeExchange, mode: str) -> None:
    okx_fake.set_price("BTC/USDT", "50000")  # the tiers' contract floors are turned into quote at this price
    exchange = CcxtExchange(okx_config(okx_fake), rate_limit=False, swap=True,
                            perpetuals={"BTC/USDT": (D(10), mode)})
    try:
        spec = await exchange.market(BTC)
    finally:
        await exchange.close()
    assert spec.futures is not None
    tiers = spec.futures.tiers
    # Binance's BTCUSDT brackets, which the fake publishes in contracts of 0.01 BTC at 50,000
    assert [(t.floor, t.rate, t.maintenance_amount, t.max_leverage) for t in tiers] == [
        (D(0), D("0.004"), D(0), D(125)), (D(50_000), D("0.005"), D(50), D(100)),
        (D(250_000), D("0.01"), D(1300), D(50)), (D(3_000_000), D("0.025"), D(46300), D(20))]
    # once, at start-up (the fake refuses a request without instType SWAP, tdMode and instFamily)
    tiers_read = [r for r in okx_fake.requests if "/public/position-tiers" in r]
    assert tiers_read == ["GET /api/v5/public/position-tiers"]
    # the one liquidation-price function uses them: not the steep defaults (1 % from the first USDT)
    terms = replace(spec.futures, leverage=D(10))
    assert liquidation_price(Direction.SHORT, D(60_000), D(1), terms) == D(66_050) / D("1.005")
    assert liquidation_price(Direction.SHORT, D(60_000), D(1), replace(terms, tiers=DEFAULT_TIERS)) != \
        D(66_050) / D("1.005")
