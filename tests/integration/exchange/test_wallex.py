"""Wallex ccxt class through CcxtExchange against a fake speaking Wallex's documented formats."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.contract.exchange.intents import intent, limit
from tests.fakes.fake_exchange.venue import FakeMarket, FakeVenue
from tests.fakes.fake_exchange.wallex_app import WALLEX_KEY, start_fake_wallex
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.retry import RetryPolicy
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import Symbol
from trader.core.errors import AuthError, InsufficientFunds, InvalidOrder

BTC_IRT = Symbol("BTC/IRT")
T0 = 1_700_000_000
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def wallex_fake() -> Iterator[tuple[FakeVenue, str]]:
    venue = FakeVenue()
    venue.add_market(FakeMarket("BTC", "TMN", tick_size=Decimal(1), step_size=Decimal("0.000001"),
                                min_qty=Decimal("0.000001"), min_notional=Decimal(100_000),
                                price=Decimal(6_000_000_000)))
    venue.deposit("TMN", "100000000")
    rows = [(T0 * 1000 + i * 3_600_000, 6e9 + i, 6.1e9, 5.9e9, 6e9, 0.5) for i in range(10)]
    candles = {("BTCTMN", "60"): rows}
    server = start_fake_wallex(venue, candles)
    try:
        yield venue, server.base_url
    finally:
        server.stop()


@pytest.fixture
async def wallex(wallex_fake: tuple[FakeVenue, str]) -> AsyncIterator[CcxtExchange]:
    config = ExchangeConfig(name="wallex", api_key=SecretStr(WALLEX_KEY), api_base_url=wallex_fake[1],
                            quote_currency="IRT")
    exchange = CcxtExchange(config, rate_limit=False, retry=RetryPolicy(attempts=2, base_delay=0.0))
    yield exchange
    await exchange.close()


async def test_markets_quote_toman_as_irt_and_stops_are_engine_watched(wallex: CcxtExchange) -> None:
    spec = await wallex.market(BTC_IRT)
    assert (spec.base, spec.quote) == ("BTC", "IRT")
    assert (spec.amount_step, spec.price_step) == (Decimal("0.000001"), Decimal(1))
    assert spec.min_cost == Decimal(100_000)
    assert spec.capabilities.native_stop is False and spec.capabilities.oco is False


async def test_candles_from_string_udf(wallex: CcxtExchange) -> None:
    frame = await wallex.candles(BTC_IRT, "1h", since=datetime.fromtimestamp(T0, tz=UTC), limit=3)
    assert frame.timestamp.tolist() == [T0 * 1000 + i * 3_600_000 for i in range(3)]
    assert frame.open.tolist() == [6e9, 6e9 + 1, 6e9 + 2]


async def test_limit_order_lifecycle_by_client_id(
    wallex: CcxtExchange, wallex_fake: tuple[FakeVenue, str]
) -> None:
    request = limit("w1", Side.BUY, "0.001", "5900000000", symbol=BTC_IRT)
    placed = await wallex.place(request)
    assert placed.status is OrderStatus.OPEN
    assert placed.exchange_order_id == request.client_order_id
    assert [o.client_order_id for o in await wallex.open_orders(BTC_IRT)] == [request.client_order_id]
    assert (await wallex.place(request)).client_order_id == request.client_order_id
    assert wallex_fake[0].order_count(request.client_order_id) == 1
    wallex_fake[0].set_price("BTCTMN", "5900000000")
    done = await wallex.order(BTC_IRT, request.client_order_id)
    assert done is not None and done.status is OrderStatus.FILLED
    assert done.average_price == Decimal(5_900_000_000)
    balances = await wallex.balances()
    assert balances.balances["BTC"].total > 0
    fills = await wallex.fills_since(BTC_IRT, EPOCH)
    assert [(f.amount, f.price) for f in fills] == [(Decimal("0.001"), Decimal(5_900_000_000))]


async def test_cancel_market_and_refusals(wallex: CcxtExchange, wallex_fake: tuple[FakeVenue, str]) -> None:
    request = limit("w2", Side.BUY, "0.001", "5000000000", symbol=BTC_IRT)
    await wallex.place(request)
    cancelled = await wallex.cancel(BTC_IRT, request.client_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    market = intent("w3", OrderPurpose.ENTRY, Side.BUY, OrderType.MARKET, "0.001", symbol=BTC_IRT)
    assert (await wallex.place(market)).status is OrderStatus.FILLED
    with pytest.raises(InsufficientFunds):
        await wallex.place(intent("w4", OrderPurpose.ENTRY, Side.BUY, OrderType.MARKET, "1", symbol=BTC_IRT))
    with pytest.raises(InvalidOrder, match="stop"):
        await wallex.place(intent("w5", OrderPurpose.STOP, Side.SELL, OrderType.STOP, "0.001",
                                  trigger="5000000000", symbol=BTC_IRT))


async def test_wrong_key_is_auth_error(wallex_fake: tuple[FakeVenue, str]) -> None:
    config = ExchangeConfig(name="wallex", api_key=SecretStr("bad"), api_base_url=wallex_fake[1])
    exchange = CcxtExchange(config, rate_limit=False)
    try:
        with pytest.raises(AuthError):
            await exchange.balances()
    finally:
        await exchange.close()
