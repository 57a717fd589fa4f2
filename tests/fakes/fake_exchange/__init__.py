"""Fake Binance-dialect spot venue for tests: real HTTP on 127.0.0.1, scripted prices, fault injection.

Typical use (see tests/fixtures/fake_exchange.py for the fixtures)::

    fake = FakeExchange.start_default()          # BTC/USDT + ETH/USDT with bundled 1h/1m candles
    fake.venue.deposit("USDT", "10000")
    fake.set_price("BTC/USDT", "50000")           # matches resting orders
    fake.inject(Fault(FaultKind.RATE_LIMIT, route="POST /api/v3/order"))
    fake.stop()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from aiohttp import web

from tests.fakes.fake_exchange.attached import ATTACHED, AttachedOrders
from tests.fakes.fake_exchange.binance_app import API_KEY, API_SECRET, REQUESTS, build_app
from tests.fakes.fake_exchange.bybit_app import BYBIT_KEY, BYBIT_SECRET, build_bybit_app
from tests.fakes.fake_exchange.bybit_linear import add_bybit_linear_routes
from tests.fakes.fake_exchange.candles import CandleRows, load_sample, rows_from_arrays
from tests.fakes.fake_exchange.fapi_account import FuturesAccount
from tests.fakes.fake_exchange.fapi_app import FuturesBook, add_fapi_routes
from tests.fakes.fake_exchange.fapi_orders import add_order_routes
from tests.fakes.fake_exchange.faults import Fault, FaultKind, FaultPlan
from tests.fakes.fake_exchange.kraken_app import KRAKEN_KEY, KRAKEN_SECRET, build_kraken_app
from tests.fakes.fake_exchange.okx_app import build_okx_app
from tests.fakes.fake_exchange.okx_swap import add_okx_swap_routes
from tests.fakes.fake_exchange.server import ServerThread
from tests.fakes.fake_exchange.venue import FakeMarket, FakeVenue, LedgerEntry, VenueReject

__all__ = [
    "API_KEY", "API_SECRET", "BYBIT_KEY", "BYBIT_SECRET", "DIALECTS", "KRAKEN_KEY", "KRAKEN_SECRET",
    "CandleRows", "FakeExchange", "FakeMarket", "FakeVenue", "Fault", "FaultKind", "FaultPlan",
    "FuturesAccount", "FuturesBook",
    "LedgerEntry", "VenueReject", "load_sample", "rows_from_arrays",
]


DIALECTS: dict[str, Callable[[FakeVenue, FaultPlan], web.Application]] = {
    "binance": build_app, "bybit": build_bybit_app, "kraken": build_kraken_app, "okx": build_okx_app,
}


def _sid(symbol: str) -> str:
    return symbol.replace("/", "")


class FakeExchange:
    """A running fake venue: ``base_url`` for ccxt, ``venue`` for state, ``faults`` for injection.

    ``dialect`` picks the REST dialect served over the same state: "binance" (default), "bybit",
    "kraken" or "okx".
    """

    def __init__(self, venue: FakeVenue, dialect: str = "binance") -> None:
        self.venue = venue
        self.dialect = dialect
        self.faults = FaultPlan()
        self._app = DIALECTS[dialect](venue, self.faults)
        self.futures = FuturesBook()  # the /fapi dialect: perpetual settings and funding
        add_fapi_routes(self._app, self.futures)
        self.perps = FuturesAccount(venue, self.futures)  # the /fapi wallet, positions and orders
        add_order_routes(self._app, self.perps)
        if dialect == "okx":  # OKX's swaps over the same futures account (okx_swap.py)
            add_okx_swap_routes(self._app, self.perps, self.futures)
        if dialect == "bybit":  # Bybit's linear perpetuals over the same futures account (bybit_linear.py)
            add_bybit_linear_routes(self._app, self.perps)
        self._server = ServerThread(self._app)

    @classmethod
    def start_default(cls, dialect: str = "binance") -> FakeExchange:
        """Start with BTC/USDT (price 50000) and ETH/USDT (price 3000) serving the bundled candles."""
        venue = FakeVenue()
        btc = FakeMarket("BTC", "USDT", price=Decimal(50000))
        btc.candles["1h"] = load_sample("BTC_USDT-1h")
        btc.candles["1m"] = load_sample("BTC_USDT-1m")
        eth = FakeMarket("ETH", "USDT", step_size=Decimal("0.0001"), min_qty=Decimal("0.0001"),
                         price=Decimal(3000))
        eth.candles["1h"] = load_sample("ETH_USDT-1h")
        venue.add_market(btc)
        venue.add_market(eth)
        return cls(venue, dialect).start()

    def start(self) -> FakeExchange:
        """Start serving on an ephemeral port."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    @property
    def base_url(self) -> str:
        """Return the root URL, e.g. http://127.0.0.1:54321 (ccxt's /api/v3 paths hang below it)."""
        return self._server.base_url

    @property
    def attached(self) -> AttachedOrders | None:
        """Return the brackets riding on entries (Kraken and Bybit dialects), else None."""
        return self._app.get(ATTACHED)

    @property
    def requests(self) -> list[str]:
        """Return every request received, as 'METHOD /path'."""
        return list(self._app[REQUESTS])

    def set_candles(self, symbol: str, timeframe: str, rows: CandleRows | list[list[float]]) -> None:
        """Serve these candles for (symbol, timeframe); accepts numbers or decimal-string rows."""
        converted = rows if rows and isinstance(rows[0][1], str) else rows_from_arrays(rows)  # type: ignore[arg-type]
        with self.venue.lock:
            self.venue.market(_sid(symbol)).candles[timeframe] = converted  # type: ignore[assignment]

    def set_price(self, symbol: str, price: Decimal | str | float) -> None:
        """Set the last price of a unified symbol and match resting orders."""
        self.venue.set_price(_sid(symbol), price)

    def script_prices(self, symbol: str, prices: Iterable[Decimal | str | float]) -> None:
        """Queue a price path for ``advance``."""
        self.venue.script_prices(_sid(symbol), prices)

    def advance(self, symbol: str, steps: int = 1) -> Decimal:
        """Walk the scripted path; return the new price."""
        return self.venue.advance(_sid(symbol), steps)

    def inject(self, fault: Fault) -> None:
        """Queue a fault for the next matching request."""
        self.faults.add(fault)
