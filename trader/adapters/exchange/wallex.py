"""Wallex as a ccxt-compatible async exchange class: market data, balances and limit/market orders.

Written against Wallex's public API docs (api-docs.wallex.ir, developers.wallex.ir), not a ccxt fork.
Wallex quotes Iranian markets in toman (``TMN``); we expose them as ``IRT`` (also toman) so ``BTC/IRT``
means the same on Nobitex and Wallex. Wallex has only LIMIT and MARKET orders: no stop, take-profit or
OCO, so ``has['createStopOrder']`` is False and positions there are engine-watched. An order is
identified by its ``clientOrderId`` (the server makes one if we send none), which is also its ccxt id.
Assumption from the docs' examples: ``stepSize``/``tickSize`` in /v1/markets are decimal places.
Its trade history carries no order id, so fills cannot be matched to orders from trades alone.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import ccxt.async_support as ccxt_async
from ccxt.base.errors import (
    AuthenticationError,
    BadSymbol,
    ExchangeError,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    RateLimitExceeded,
)
from typing_extensions import override

from trader.adapters.exchange.udf import udf_rows, udf_window
from trader.adapters.exchange.wallex_parse import parse_wallex_order, parse_wallex_trade

_CODES = {"TMN": "IRT"}
_STATUS_ERRORS: dict[int, type[ExchangeError]] = {401: AuthenticationError, 403: AuthenticationError,
                                                   404: OrderNotFound, 429: RateLimitExceeded}


class Wallex(ccxt_async.Exchange):  # type: ignore[misc]
    """Wallex spot trading through ccxt's unified methods."""

    timeframes: ClassVar[dict[str, str]] = {"1h": "60", "3h": "180", "6h": "360", "12h": "720", "1d": "D",
                                            "2d": "2D", "3d": "3D"}

    def describe(self) -> Any:
        """Return the venue description ccxt merges into the instance."""
        return self.deep_extend(super().describe(), {
            "id": "wallex", "name": "Wallex", "countries": ["IR"], "rateLimit": 20, "version": "v1",
            "pro": False, "precisionMode": ccxt_async.DECIMAL_PLACES,
            "has": {"spot": True, "fetchMarkets": True, "fetchOHLCV": True, "fetchTicker": True,
                    "fetchOrderBook": True, "fetchCurrencies": False, "fetchBalance": True,
                    "createOrder": True, "createMarketOrder": True, "createLimitOrder": True,
                    "cancelOrder": True, "fetchOrder": True, "fetchOpenOrders": True,
                    "fetchMyTrades": True, "createStopOrder": False, "createStopLimitOrder": False,
                    "createStopMarketOrder": False, "createStopLossOrder": False,
                    "createTakeProfitOrder": False, "createTriggerOrder": False},
            "timeframes": self.timeframes,
            "urls": {"api": {"public": "https://api.wallex.ir", "private": "https://api.wallex.ir"},
                     "www": "https://wallex.ir", "doc": "https://api-docs.wallex.ir"},
            "requiredCredentials": {"apiKey": True, "secret": False},
            "commonCurrencies": dict(_CODES),
        })

    def sign(self, path: str, api: Any = "public", method: str = "GET", params: Any = None,
             headers: Any = None, body: Any = None) -> dict[str, Any]:
        """Return the request: JSON body for POST, query otherwise; X-API-Key on private calls."""
        params = dict(params or {})
        url = self.urls["api"]["private" if api == "private" else "public"] + "/" + path
        headers = dict(headers or {})
        if api == "private":
            self.check_required_credentials()
            headers["X-API-Key"] = self.apiKey
        if method == "POST" or (method == "DELETE" and params):
            headers["Content-Type"] = "application/json"
            body = json.dumps(params)
        if method != "POST" and params:
            url += "?" + self.urlencode(params)
        return {"url": url, "method": method, "body": body, "headers": headers}

    @override
    def handle_errors(self, code: int, reason: str, url: str, method: str, headers: Any, body: str,
                      response: Any, request_headers: Any, request_body: Any) -> None:
        """Raise ccxt errors for ``success: false`` envelopes."""
        if code < 400 and not (isinstance(response, dict) and response.get("success") is False):
            return
        message = str(response.get("message", body) if isinstance(response, dict) else body)
        text = f"wallex {code}: {message}"
        lowered = message.lower()
        if "insufficient" in lowered or "balance" in lowered:
            raise InsufficientFunds(text)
        if "duplicate" in lowered:
            raise InvalidOrder(text + " (duplicate order)")
        if code in _STATUS_ERRORS:
            raise _STATUS_ERRORS[code](text)
        if code in (400, 422):
            raise InvalidOrder(text)
        raise ExchangeError(text)

    # ── market data ─────────────────────────────────────────────────────────────────────────
    async def fetch_markets(self, params: Any = None) -> list[dict[str, Any]]:
        """Return the markets of GET /v1/markets (TMN quoted as IRT)."""
        response = await self.request("v1/markets", "public", "GET", params or {})
        symbols = (response.get("result") or {}).get("symbols") or {}
        return [self._market_from(item) for _, item in sorted(symbols.items())]

    def _market_from(self, item: dict[str, Any]) -> Any:
        base = self.safe_currency_code(item["baseAsset"])
        quote = self.safe_currency_code(item["quoteAsset"])
        return self.safe_market_structure({
            "id": item["symbol"], "symbol": f"{base}/{quote}", "base": base, "quote": quote,
            "baseId": item["baseAsset"], "quoteId": item["quoteAsset"], "type": "spot", "spot": True,
            "active": True,
            "precision": {"amount": self.safe_integer(item, "stepSize"),
                          "price": self.safe_integer(item, "tickSize")},
            "limits": {"amount": {"min": self.safe_number(item, "minQty"),
                                  "max": self.safe_number(item, "maxQty")},
                       "price": {"min": None, "max": None},
                       "cost": {"min": self.safe_number(item, "minNotional"), "max": None}},
            "maker": 0.0025, "taker": 0.0025, "info": item,
        })

    async def fetch_ohlcv(self, symbol: str, timeframe: str = "1h", since: int | None = None,
                          limit: int | None = None, params: Any = None) -> list[list[float]]:
        """Return candles from GET /v1/udf/history (documented resolutions only)."""
        await self.load_markets()
        market = self.market(symbol)
        if timeframe not in self.timeframes:
            raise BadSymbol(f"wallex has no {timeframe} candles (has {', '.join(self.timeframes)})")
        count = limit or 500
        window = udf_window(since, count, self.parse_timeframe(timeframe), self.seconds())
        request = {"symbol": market["id"], "resolution": self.timeframes[timeframe], **window}
        rows = udf_rows(await self.request("v1/udf/history", "public", "GET", {**request, **(params or {})}))
        if since is not None:
            return [r for r in rows if r[0] >= since][:count]
        return rows[-count:]

    async def fetch_ticker(self, symbol: str, params: Any = None) -> Any:
        """Return the ticker from the market stats of GET /v1/markets."""
        await self.load_markets()
        market = self.market(symbol)
        response = await self.request("v1/markets", "public", "GET", params or {})
        item = ((response.get("result") or {}).get("symbols") or {}).get(market["id"]) or {}
        stats = item.get("stats") or {}
        return self.safe_ticker({
            "symbol": symbol, "last": self.safe_number(stats, "lastPrice"),
            "close": self.safe_number(stats, "lastPrice"), "bid": self.safe_number(stats, "bidPrice"),
            "ask": self.safe_number(stats, "askPrice"), "high": self.safe_number(stats, "24h_highPrice"),
            "low": self.safe_number(stats, "24h_lowPrice"),
            "baseVolume": self.safe_number(stats, "24h_volume"),
            "info": stats,
        }, market)

    async def fetch_order_book(self, symbol: str, limit: int | None = None, params: Any = None) -> Any:
        """Return the book from GET /v1/depth."""
        await self.load_markets()
        market = self.market(symbol)
        response = await self.request("v1/depth", "public", "GET", {"symbol": market["id"], **(params or {})})
        result = response.get("result") or {}
        book = {"bids": [[float(x["price"]), float(x["quantity"])] for x in result.get("bid", [])][:limit],
                "asks": [[float(x["price"]), float(x["quantity"])] for x in result.get("ask", [])][:limit]}
        return self.parse_order_book(book, symbol)

    # ── account ─────────────────────────────────────────────────────────────────────────────
    async def fetch_balance(self, params: Any = None) -> Any:
        """Return balances from GET /v1/account/balances (``value`` total, ``locked`` in orders)."""
        response = await self.request("v1/account/balances", "private", "GET", params or {})
        balances = ((response.get("result") or {}).get("balances")) or {}
        out: dict[str, Any] = {"info": response}
        for asset, item in balances.items():
            account = self.account()
            account["total"] = self.safe_string(item, "value")
            account["used"] = self.safe_string(item, "locked")
            out[self.safe_currency_code(asset)] = account
        return self.safe_balance(out)

    async def create_order(self, symbol: str, type: str, side: str, amount: Any, price: Any = None,
                           params: Any = None) -> Any:
        """Place a LIMIT or MARKET order with POST /v1/account/orders; stops are refused."""
        params = dict(params or {})
        if any(k in params for k in ("stopLossPrice", "takeProfitPrice", "triggerPrice", "stopPrice")):
            raise InvalidOrder("wallex has no stop or take-profit orders; the engine must watch the price")
        if type not in ("limit", "market"):
            raise InvalidOrder(f"wallex does not take {type} orders")
        await self.load_markets()
        market = self.market(symbol)
        request: dict[str, Any] = {"symbol": market["id"], "side": side, "type": type,
                                   "quantity": self.amount_to_precision(symbol, amount)}
        if price is not None:
            request["price"] = self.price_to_precision(symbol, price)
        client_id = params.pop("clientOrderId", None)
        if client_id is not None:
            request["client_id"] = client_id
        response = await self.request("v1/account/orders", "private", "POST", {**request, **params})
        return parse_wallex_order(self, response.get("result") or {})

    async def fetch_order(self, id: Any, symbol: Any = None, params: Any = None) -> Any:
        """Return GET /v1/account/orders/{clientOrderId} (the id is the client order id)."""
        params = dict(params or {})
        client_id = params.pop("clientOrderId", None) or id
        response = await self.request(f"v1/account/orders/{client_id}", "private", "GET", params)
        return parse_wallex_order(self, response.get("result") or {})

    async def cancel_order(self, id: Any, symbol: Any = None, params: Any = None) -> Any:
        """Cancel with DELETE /v1/account/orders (clientOrderId in the query and the body)."""
        params = dict(params or {})
        client_id = params.pop("clientOrderId", None) or id
        response = await self.request("v1/account/orders", "private", "DELETE", {"clientOrderId": client_id})
        return parse_wallex_order(self, response.get("result") or {})

    async def fetch_open_orders(self, symbol: Any = None, since: Any = None, limit: Any = None,
                                params: Any = None) -> list[Any]:
        """Return GET /v1/account/openOrders."""
        await self.load_markets()
        request = {"symbol": self.market(symbol)["id"]} if symbol else {}
        query = {**request, **(params or {})}
        response = await self.request("v1/account/openOrders", "private", "GET", query)
        orders = (response.get("result") or {}).get("orders") or []
        return [parse_wallex_order(self, o) for o in orders]

    async def fetch_my_trades(self, symbol: Any = None, since: Any = None, limit: Any = None,
                              params: Any = None) -> list[Any]:
        """Return GET /v1/account/trades (no order ids: ``order`` is None)."""
        await self.load_markets()
        request = {"symbol": self.market(symbol)["id"]} if symbol else {}
        response = await self.request("v1/account/trades", "private", "GET", {**request, **(params or {})})
        trades = [parse_wallex_trade(self, t) for t in
                  (response.get("result") or {}).get("AccountLatestTrades") or []]
        trades = [t for t in trades if since is None or t["timestamp"] >= since]
        return sorted(trades, key=lambda t: t["timestamp"])[: limit or None]
