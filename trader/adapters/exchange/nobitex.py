"""Nobitex as a ccxt-compatible async exchange class: markets, candles, ticker and order book (public).

Written against Nobitex's public API docs (github.com/nobitex/docs-api, Nov 2025), not a ccxt fork.
Units: prices on IRT markets come in **rial** although the symbols say IRT; we divide them by 10 so
``BTC/IRT`` is in toman, like Wallex's ``BTC/TMN`` (also exposed as ``BTC/IRT``). Nobitex documents
stop-market, stop-limit and OCO orders, but trading is not implemented here (market data and history
only), so ``has['createOrder']`` is False and any position on it would be engine-watched.
No public endpoint gives precision: steps below are conservative defaults (see ``_PRECISION``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import ccxt.async_support as ccxt_async
from ccxt.base.errors import BadRequest, BadSymbol, ExchangeError, RateLimitExceeded
from typing_extensions import override

from trader.adapters.exchange.udf import udf_rows, udf_window

_SYMBOL = re.compile(r"^([A-Z0-9]+?)(IRT|USDT)$")
RIAL_PER_TOMAN = 10
_PRECISION = {"IRT": {"amount": 0.000001, "price": 1.0}, "USDT": {"amount": 0.000001, "price": 0.01}}
_MIN_COST = {"IRT": 300_000.0, "USDT": 11.0}  # 3,000,000 rial; 11 USDT (docs: minimum order value)
_MAX_CANDLES = 500


class Nobitex(ccxt_async.Exchange):  # type: ignore[misc]
    """Nobitex public market data through ccxt's unified methods."""

    timeframes: ClassVar[dict[str, str]] = {
        "1m": "1", "5m": "5", "15m": "15", "30m": "30", "1h": "60", "3h": "180", "4h": "240",
        "6h": "360", "12h": "720", "1d": "D", "2d": "2D", "3d": "3D",
    }

    def describe(self) -> Any:
        """Return the venue description ccxt merges into the instance."""
        return self.deep_extend(super().describe(), {
            "id": "nobitex", "name": "Nobitex", "countries": ["IR"], "rateLimit": 200, "version": "v3",
            "pro": False, "precisionMode": ccxt_async.TICK_SIZE,
            "has": {"spot": True, "fetchMarkets": True, "fetchOHLCV": True, "fetchTicker": True,
                    "fetchOrderBook": True, "fetchCurrencies": False, "createOrder": False,
                    "fetchBalance": False, "cancelOrder": False, "fetchOrder": False,
                    "fetchOpenOrders": False, "fetchMyTrades": False, "createStopOrder": False},
            "timeframes": self.timeframes,
            "urls": {"api": {"public": "https://apiv2.nobitex.ir"}, "www": "https://nobitex.ir",
                     "doc": "https://apidocs.nobitex.ir"},
            "requiredCredentials": {"apiKey": False, "secret": False},
            "headers": {"User-Agent": "TraderBot/tradebot"},
        })

    def sign(self, path: str, api: Any = "public", method: str = "GET", params: Any = None,
             headers: Any = None, body: Any = None) -> dict[str, Any]:
        """Return the request: public GET with a query string."""
        params = params or {}
        url = self.urls["api"]["public"] + "/" + path
        if params:
            url += "?" + self.urlencode(params)
        return {"url": url, "method": method, "body": None, "headers": headers}

    @override
    def handle_errors(self, code: int, reason: str, url: str, method: str, headers: Any, body: str,
                      response: Any, request_headers: Any, request_body: Any) -> None:
        """Raise ccxt errors for Nobitex's ``status: failed`` bodies (often sent with HTTP 200)."""
        if not isinstance(response, dict) or response.get("status") != "failed":
            return
        error_code = str(response.get("code", ""))
        message = f"nobitex {error_code}: {response.get('message', '')}"
        if error_code == "TooManyRequests" or code == 429:
            raise RateLimitExceeded(message + f" (backOff {response.get('backOff')}s)")
        if error_code in ("InvalidMarketPair", "InvalidSymbol"):
            raise BadSymbol(message)
        if code in (400, 422):
            raise BadRequest(message)
        raise ExchangeError(message)

    async def fetch_markets(self, params: Any = None) -> list[dict[str, Any]]:
        """Return the spot markets listed by GET /v3/orderbook/all."""
        response = await self.request("v3/orderbook/all", "public", "GET", params or {})
        markets = []
        for market_id in sorted(k for k in response if isinstance(response[k], dict)):
            match = _SYMBOL.match(market_id)
            if match:
                markets.append(self._market_from(market_id, match.group(1), match.group(2)))
        return markets

    def _market_from(self, market_id: str, base: str, quote: str) -> Any:
        return self.safe_market_structure({
            "id": market_id, "symbol": f"{base}/{quote}", "base": base, "quote": quote,
            "baseId": base.lower(), "quoteId": "rls" if quote == "IRT" else quote.lower(),
            "type": "spot", "spot": True, "active": True, "precision": dict(_PRECISION[quote]),
            "limits": {"amount": {"min": None, "max": None}, "price": {"min": None, "max": None},
                       "cost": {"min": _MIN_COST[quote], "max": None}},
            "maker": 0.0025, "taker": 0.0025, "info": {"symbol": market_id},
        })

    def _divisor(self, market: dict[str, Any]) -> int:
        return RIAL_PER_TOMAN if market["quote"] == "IRT" else 1

    async def fetch_ohlcv(self, symbol: str, timeframe: str = "1h", since: int | None = None,
                          limit: int | None = None, params: Any = None) -> list[list[float]]:
        """Return up to 500 candles from GET /market/udf/history (toman on IRT markets)."""
        await self.load_markets()
        market = self.market(symbol)
        count = min(limit or _MAX_CANDLES, _MAX_CANDLES)
        window = udf_window(since, count, self.parse_timeframe(timeframe), self.seconds())
        request = {"symbol": market["id"], "resolution": self.timeframes[timeframe], **window}
        if since is None:
            request["countback"] = count
        response = await self.request("market/udf/history", "public", "GET", {**request, **(params or {})})
        rows = udf_rows(response, self._divisor(market))
        if since is not None:
            rows = [r for r in rows if r[0] >= since]
        return rows[:count] if since is not None else rows[-count:]

    async def fetch_order_book(self, symbol: str, limit: int | None = None, params: Any = None) -> Any:
        """Return the book from GET /v3/orderbook/{SYMBOL} (toman on IRT markets)."""
        await self.load_markets()
        market = self.market(symbol)
        response = await self.request(f"v3/orderbook/{market['id']}", "public", "GET", params or {})
        div = self._divisor(market)
        book = {side: [[float(p) / div, float(a)] for p, a in response.get(side, [])][:limit]
                for side in ("bids", "asks")}
        return self.parse_order_book(book, symbol, self.safe_integer(response, "lastUpdate"))

    async def fetch_ticker(self, symbol: str, params: Any = None) -> Any:
        """Return the ticker from GET /market/stats (toman on IRT markets)."""
        await self.load_markets()
        market = self.market(symbol)
        request = {"srcCurrency": market["baseId"], "dstCurrency": market["quoteId"]}
        response = await self.request("market/stats", "public", "GET", {**request, **(params or {})})
        stats = (response.get("stats") or {}).get(f"{market['baseId']}-{market['quoteId']}")
        if stats is None:
            raise BadSymbol(f"nobitex has no stats for {symbol}")
        div = self._divisor(market)

        def price(key: str) -> float | None:
            value = stats.get(key)
            return None if value in (None, "") else float(value) / div

        return self.safe_ticker({
            "symbol": symbol, "last": price("latest"), "close": price("latest"), "bid": price("bestBuy"),
            "ask": price("bestSell"), "open": price("dayOpen"), "high": price("dayHigh"),
            "low": price("dayLow"), "baseVolume": float(stats.get("volumeSrc") or 0), "info": stats,
        }, market)
