"""PaperExchange on live public market data: a key-less CcxtExchange against the fake server."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pydantic import SecretStr

from tests.contract.exchange.intents import BTC, market_buy
from tests.fakes.fake_exchange import FakeExchange
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.paper_venue import PaperExchange
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import OrderStatus
from trader.runtime.clock import SimClock


async def test_paper_on_public_prices_fills_and_never_touches_private_endpoints(
    fake_exchange: FakeExchange,
) -> None:
    config = ExchangeConfig(name="binance", api_key=SecretStr("k"), api_secret=SecretStr("s"),
                            api_base_url=fake_exchange.base_url)
    public = CcxtExchange(config, rate_limit=False, public_only=True)
    markets = await public.markets()
    clock = SimClock(datetime(2024, 1, 1, tzinfo=UTC))
    paper = PaperExchange(markets.values(), quote="USDT", balances={"USDT": Decimal(1000)},
                          market_data=public, clock=clock)
    try:
        assert await paper.last_price(BTC) == Decimal(50000)
        request = market_buy("l1", "0.01")
        await paper.place(request)
        fake_exchange.set_price("BTC/USDT", "50100")
        assert await paper.last_price(BTC) == Decimal(50100)  # the live path: a price read feeds the book
        order = await paper.order(BTC, request.client_order_id)
        assert order is not None and order.status is OrderStatus.FILLED
        assert order.average_price == Decimal(50100)
        candles = await paper.candles(BTC, "1h", since=datetime(2022, 1, 1, tzinfo=UTC), limit=2)
        assert len(candles) == 2
        assert fake_exchange.venue.accepted() == []
        assert not [r for r in fake_exchange.requests if "/account" in r or "/order" in r]
    finally:
        await paper.close()
