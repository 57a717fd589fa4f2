"""CcxtExchange on OKX (the real ccxt okx class) against a small fake of OKX's v5 REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.contract.exchange.intents import BTC, limit, market_buy, stop_sell
from tests.fakes.fake_exchange import FakeMarket, FakeVenue, load_sample
from tests.fakes.fake_exchange.okx_app import OKX_KEY, start_fake_okx
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.retry import RetryPolicy
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import OrderStatus, OrderType, Side
from trader.core.errors import InsufficientFunds

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def okx_fake() -> Iterator[tuple[FakeVenue, str, list[str]]]:
    venue = FakeVenue()
    market = FakeMarket("BTC", "USDT", step_size=Decimal("0.00001"), price=Decimal(50000))
    market.candles["1h"] = load_sample("BTC_USDT-1h")
    venue.add_market(market)
    venue.deposit("USDT", "10000")
    server = start_fake_okx(venue)
    try:
        yield venue, server.base_url, []
    finally:
        server.stop()


@pytest.fixture
async def okx(okx_fake: tuple[FakeVenue, str, list[str]]) -> AsyncIterator[CcxtExchange]:
    config = ExchangeConfig(name="okx", api_key=SecretStr(OKX_KEY), api_secret=SecretStr("s"),
                            api_password=SecretStr("p"), api_base_url=okx_fake[1])
    exchange = CcxtExchange(config, rate_limit=False, retry=RetryPolicy(attempts=2, base_delay=0.0))
    yield exchange
    await exchange.close()


async def test_markets_and_recent_candles(okx: CcxtExchange) -> None:
    spec = await okx.market(BTC)
    assert (spec.amount_step, spec.price_step) == (Decimal("0.00001"), Decimal("0.01"))
    assert spec.capabilities.oco is True
    frame = await okx.candles(BTC, "1h", limit=3)
    assert len(frame) == 3
    assert list(frame.timestamp) == sorted(frame.timestamp)


async def test_regular_order_lifecycle_by_client_id(okx: CcxtExchange,
                                                    okx_fake: tuple[FakeVenue, str, list[str]]) -> None:
    venue = okx_fake[0]
    request = limit("o1", Side.BUY, "0.01", "49000")
    placed = await okx.place(request)
    assert placed.status is OrderStatus.OPEN and placed.client_order_id == request.client_order_id
    assert [o.client_order_id for o in await okx.open_orders(BTC)] == [request.client_order_id]
    venue.set_price("BTCUSDT", "49000")
    done = await okx.order(BTC, request.client_order_id)
    assert done is not None and (done.status, done.filled) == (OrderStatus.FILLED, Decimal("0.01"))
    fills = await okx.fills_since(BTC, EPOCH)
    assert [(f.client_order_id, f.amount, f.price) for f in fills] == [
        (request.client_order_id, Decimal("0.01"), Decimal("49000"))]
    assert (await okx.balances()).balances["BTC"].total > 0


async def test_cancel_and_idempotent_repeat(
    okx: CcxtExchange, okx_fake: tuple[FakeVenue, str, list[str]]
) -> None:
    request = limit("o2", Side.BUY, "0.01", "45000")
    await okx.place(request)
    await okx.place(request)
    assert okx_fake[0].order_count(request.client_order_id) == 1
    assert (await okx.cancel(BTC, request.client_order_id)).status is OrderStatus.CANCELLED
    with pytest.raises(InsufficientFunds):
        await okx.place(market_buy("o3", "1"))


async def test_algo_stop_lifecycle_and_child_fill_is_ours(
    okx: CcxtExchange, okx_fake: tuple[FakeVenue, str, list[str]]
) -> None:
    venue = okx_fake[0]
    await okx.place(market_buy("o4", "0.01"))
    stop = stop_sell("o4", "0.00999", "48000")
    placed = await okx.place(stop)
    assert (placed.status, placed.type, placed.client_order_id) == (OrderStatus.OPEN, OrderType.STOP,
                                                                    stop.client_order_id)
    assert await okx.place(stop) == await okx.order(BTC, stop.client_order_id)  # found, not re-sent
    assert venue.order_count(stop.client_order_id) == 1
    assert [o.client_order_id for o in await okx.open_orders(BTC)] == [stop.client_order_id]
    venue.set_price("BTCUSDT", "47900")
    done = await okx.order(BTC, stop.client_order_id)
    assert done is not None and (done.status, done.filled) == (OrderStatus.FILLED, Decimal("0.00999"))
    fills = await okx.fills_since(BTC, EPOCH)
    assert [f.client_order_id for f in fills][-1] == stop.client_order_id


async def test_algo_stop_trailing_replace(okx: CcxtExchange) -> None:
    await okx.place(market_buy("o5", "0.01"))
    first = await okx.place(stop_sell("o5", "0.00999", "48000"))
    result = await okx.replace(BTC, first.client_order_id, stop_sell("o5", "0.00999", "49000", attempt=1))
    assert result.cancelled is not None and result.cancelled.status is OrderStatus.CANCELLED
    assert [(o.client_order_id, o.trigger_price) for o in await okx.open_orders(BTC)] == [
        (result.placed.client_order_id, Decimal("49000"))]  # type: ignore[union-attr]


async def test_more_than_a_page_of_fills_is_paged_back_by_bill_id(
        okx: CcxtExchange, okx_fake: tuple[FakeVenue, str, list[str]]) -> None:
    venue = okx_fake[0]
    for i in range(130):  # OKX answers at most 100 fills a request, newest first
        venue.place({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001",
                     "newClientOrderId": f"f{i}"})
    fills = await okx.fills_since(BTC, EPOCH)
    assert [f.client_order_id for f in fills] == [f"f{i}" for i in range(130)]
