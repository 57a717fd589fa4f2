"""Valuation prices: the exchange's last trade where it lists the pair (real ccxt against the fake
venue), CoinGecko for the rest, and CoinGecko for everything while the exchange does not answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from tests.fakes.memory_services.portfolio import MemoryPrices
from trader.adapters.store.memory.uow import MemoryStore
from trader.config import PortfolioConfig
from trader.core.domain.money import D
from trader.ports.exchange import Exchange
from trader.ports.portfolio import Holding, HoldingKind
from trader.runtime.clock import SimClock
from trader.services.baskets import BasketCatalog
from trader.services.portfolio import PortfolioService

NOW = datetime(2026, 2, 1, tzinfo=UTC)
THREE = """
[basket]
name = "three"
quote = "USD"
[[categories]]
id = "c"
title = "C"
[[assets]]
symbol = "BTC"
category = "c"
amount = 50
[[assets]]
symbol = "ETH"
category = "c"
amount = 30
[[assets]]
symbol = "SOL"
category = "c"
amount = 20
"""


async def test_exchange_prices_first_and_coingecko_when_the_exchange_is_down(
        ccxt_exchange: Exchange, fake_exchange: FakeExchange, tmp_path: Path) -> None:
    (tmp_path / "three.toml").write_text(THREE)
    store = MemoryStore()
    clock = SimClock(NOW)
    prices = MemoryPrices(spot={("BTC", "USD"): D(49_000), ("ETH", "USD"): D(2_900), ("SOL", "USD"): D(100)})
    service = PortfolioService(store.uow_factory, BasketCatalog.load(tmp_path), clock, PortfolioConfig(),
                               exchange=ccxt_exchange, exchange_name="binance", exchange_quote="USDT",
                               source=prices)
    async with store.uow() as uow:
        await uow.portfolio.add_holdings(
            Holding("three", a, D(q), D(c), "USD", HoldingKind.VIRTUAL, NOW, "virtual:2026-02-01")
            for a, q, c in (("BTC", "0.001", "50"), ("ETH", "0.01", "30"), ("SOL", "0.2", "20")))
        await uow.commit()
    v = await service.value("three")
    sources = {a.symbol: (a.price.source, a.price.price) for a in v.assets if a.price is not None}
    # the fake venue trades BTC/USDT at 50,000 and ETH/USDT at 3,000; it does not list SOL
    assert sources == {"BTC": ("exchange:binance", D(50_000)), "ETH": ("exchange:binance", D(3_000)),
                       "SOL": ("memory", D(100))}
    assert v.value == D(50) + D(30) + D(20)
    fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, times=1000))
    clock.advance(timedelta(minutes=6))  # the cache is due for a refresh
    down = await service.value("three")
    assert {a.symbol: a.price.source for a in down.assets if a.price is not None} == {
        "BTC": "memory", "ETH": "memory", "SOL": "memory"}
    assert down.value == D(49) + D(29) + D(20) and down.stale == ()
