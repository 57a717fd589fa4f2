"""The two implementations under the exchange contract: CcxtExchange→fake server, and PaperExchange.

A VenueDriver hides how a test moves the market: the fake server matches on ``set_price``; the paper
exchange matches when the price is fed to it. Both start with BTC/USDT at 50,000 and 10,000 USDT.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from tests.fakes.fake_exchange import FakeExchange
from trader.adapters.exchange.paper_venue import PaperCosts, PaperExchange
from trader.core.domain.ids import Symbol
from trader.core.domain.market import Capabilities, MarketSpec
from trader.core.sim.costs import FeeModel

BTC = Symbol("BTC/USDT")
START = datetime(2024, 1, 1, tzinfo=UTC)


def fake_like_btc_market() -> MarketSpec:
    """Return the MarketSpec the fake server's BTC/USDT filters describe."""
    return MarketSpec(BTC, "BTC", "USDT", amount_step=Decimal("0.00001"), price_step=Decimal("0.01"),
                      min_amount=Decimal("0.00001"), min_cost=Decimal(5), max_amount=Decimal(9000),
                      capabilities=Capabilities(native_stop=True, stop_limit=True, oco=False))


class VenueDriver(Protocol):
    """What a contract test needs besides the exchange port itself."""

    name: str
    exchange: Any

    def set_price(self, symbol: Symbol, price: str) -> None:
        """Make ``price`` the venue's latest trade price and let it match resting orders."""
        ...

    def deposit(self, asset: str, amount: str) -> None:
        """Credit a free balance."""
        ...


class FakeServerDriver:
    """CcxtExchange over the real ccxt client, against the fake Binance server."""

    name = "ccxt-fake"

    def __init__(self, fake: FakeExchange, exchange: Any) -> None:
        self.fake = fake
        self.exchange = exchange

    def set_price(self, symbol: Symbol, price: str) -> None:
        self.fake.set_price(symbol, price)

    def deposit(self, asset: str, amount: str) -> None:
        self.fake.venue.deposit(asset, amount)


class PaperDriver:
    """PaperExchange over trader.core.sim, fed prices directly (one second apart)."""

    name = "paper"

    def __init__(self) -> None:
        self.exchange = PaperExchange([fake_like_btc_market()], quote="USDT",
                                      balances={"USDT": Decimal(10_000)},
                                      costs=PaperCosts(FeeModel.flat(Decimal("0.001"))))
        self._now = START
        self.set_price(BTC, "50000")

    def set_price(self, symbol: Symbol, price: str) -> None:
        self._now += timedelta(seconds=1)
        self.exchange.on_price(symbol, Decimal(price), self._now)

    def deposit(self, asset: str, amount: str) -> None:
        snapshot = self.exchange.snapshot()
        snapshot["balances"][asset] = str(Decimal(snapshot["balances"].get(asset, "0")) + Decimal(amount))
        self.exchange.restore(snapshot)
