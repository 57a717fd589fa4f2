"""A small fake of Nobitex's public API in its documented formats (prices in rial on IRT markets).

Serves GET /v3/orderbook/all, /v3/orderbook/{SYMBOL}, /market/stats and /market/udf/history
(at most 500 candles per page, ``countback`` before ``to``, ``page`` continuation, ``no_data``),
plus a queued 429 with ``backOff`` for rate-limit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange.server import ServerThread

PAGE = 500
_RESOLUTION_S = {"1": 60, "5": 300, "15": 900, "30": 1800, "60": 3600, "180": 10800, "240": 14400,
                 "360": 21600, "720": 43200, "D": 86400, "2D": 172800, "3D": 259200}


@dataclass
class NobitexState:
    """Markets (symbol → last price in the market's unit), candles (symbol, resolution) → rows."""

    prices: dict[str, float] = field(default_factory=dict)
    candles: dict[tuple[str, str], list[tuple[int, float, float, float, float, float]]] = field(
        default_factory=dict)
    rate_limited: int = 0
    requests: list[str] = field(default_factory=list)


STATE = web.AppKey("state", NobitexState)


async def _orderbook_all(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    body: dict[str, Any] = {"status": "ok"}
    for symbol, price in state.prices.items():
        body[symbol] = _book(price)
    return web.json_response(body)


def _book(price: float) -> dict[str, Any]:
    return {"lastUpdate": 1700000000000, "lastTradePrice": str(price),
            "asks": [[str(price + 10), "1.5"]], "bids": [[str(price - 10), "2.5"]]}


async def _orderbook(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    symbol = request.match_info["symbol"]
    if symbol not in state.prices:
        return web.json_response({"status": "failed", "code": "InvalidSymbol", "message": "bad symbol"})
    return web.json_response({"status": "ok", **_book(state.prices[symbol])})


async def _stats(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    src, dst = request.query.get("srcCurrency", ""), request.query.get("dstCurrency", "")
    stats = {}
    for symbol, price in state.prices.items():
        quote = "rls" if symbol.endswith("IRT") else "usdt"
        base = symbol[: -3 if quote == "rls" else -4].lower()
        if base in src.split(",") and quote in dst.split(","):
            stats[f"{base}-{quote}"] = {
                "isClosed": False, "bestSell": str(price + 10), "bestBuy": str(price - 10),
                "latest": str(price), "dayOpen": str(price), "dayHigh": str(price), "dayLow": str(price),
                "dayClose": str(price), "volumeSrc": "12.5", "volumeDst": "1", "dayChange": "0"}
    return web.json_response({"status": "ok", "stats": stats})


async def _history(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    q = request.query
    if "to" not in q:
        return web.json_response({"s": "error", "errmsg": "to is required"}, status=400)
    resolution = q.get("resolution", "")
    if resolution not in _RESOLUTION_S:
        return web.json_response({"s": "error", "errmsg": "Invalid resolution!"})
    rows = state.candles.get((q.get("symbol", ""), resolution), [])
    to_ms = int(q["to"]) * 1000
    if "countback" in q:
        picked = [r for r in rows if r[0] <= to_ms][-int(q["countback"]):]
    else:
        from_ms = int(q.get("from", "0")) * 1000
        picked = [r for r in rows if from_ms <= r[0] <= to_ms]
    page = int(q.get("page", "1"))
    picked = picked[(page - 1) * PAGE: page * PAGE]
    if not picked:
        return web.json_response({"s": "no_data"})
    cols = list(zip(*picked, strict=True))
    return web.json_response({"s": "ok", "t": [r // 1000 for r in cols[0]], "o": list(cols[1]),
                              "h": list(cols[2]), "l": list(cols[3]), "c": list(cols[4]), "v": list(cols[5])})


@web.middleware
async def _limits(request: web.Request, handler: Any) -> web.StreamResponse:
    state = request.app[STATE]
    state.requests.append(f"{request.method} {request.path}")
    if state.rate_limited > 0:
        state.rate_limited -= 1
        return web.json_response({"status": "failed", "code": "TooManyRequests", "message": "slow down",
                                  "backOff": 1, "limit": 60}, status=429)
    response: web.StreamResponse = await handler(request)
    return response


def start_fake_nobitex(state: NobitexState) -> ServerThread:
    """Start the fake on an ephemeral port and return its server (``base_url``, ``stop()``)."""
    app = web.Application(middlewares=[_limits])
    app[STATE] = state
    app.router.add_get("/v3/orderbook/all", _orderbook_all)
    app.router.add_get("/v3/orderbook/{symbol}", _orderbook)
    app.router.add_get("/market/stats", _stats)
    app.router.add_get("/market/udf/history", _history)
    return ServerThread(app).start()
