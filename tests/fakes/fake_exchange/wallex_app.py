"""A small fake of Wallex's API in its documented formats, reusing FakeVenue for balances and matching.

Public: GET /v1/markets, /v1/udf/history (string values), /v1/depth. Private (X-API-Key): POST/DELETE
/v1/account/orders, GET /v1/account/orders/{clientOrderId}, /v1/account/openOrders,
/v1/account/balances, /v1/account/trades. Only LIMIT and MARKET orders exist. Envelope:
``{"result": ..., "message": ..., "success": true}``; errors ``success: false`` with HTTP 4xx.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange.server import ServerThread
from tests.fakes.fake_exchange.venue import FakeOrder, FakeVenue, VenueReject

WALLEX_KEY = "wallex-test-key"
VENUE = web.AppKey("venue", FakeVenue)
CANDLES = web.AppKey("candles", dict)


def _ok(result: Any) -> web.Response:
    return web.json_response({"result": result, "message": "The operation was successful", "success": True})


def _fail(message: str, status: int = 400) -> web.Response:
    return web.json_response({"result": {}, "message": message, "success": False}, status=status)


def _decimals(step: Any) -> int:
    return max(0, -step.normalize().as_tuple().exponent)


async def _markets(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    symbols = {
        m.symbol_id: {
            "symbol": m.symbol_id, "baseAsset": m.base, "quoteAsset": m.quote,
            "baseAssetPrecision": _decimals(m.step_size), "quotePrecision": _decimals(m.tick_size),
            "stepSize": _decimals(m.step_size), "tickSize": _decimals(m.tick_size), "minQty": str(m.min_qty),
            "maxQty": "1000000", "minNotional": str(m.min_notional),
            "stats": {"bidPrice": str(m.price - m.tick_size), "askPrice": str(m.price + m.tick_size),
                      "lastPrice": str(m.price), "24h_volume": "10", "24h_highPrice": str(m.price),
                      "24h_lowPrice": str(m.price), "24h_ch": 0},
        }
        for m in venue.markets.values()
    }
    return _ok({"symbols": symbols})


async def _history(request: web.Request) -> web.StreamResponse:
    q = request.query
    if "from" not in q or "to" not in q:
        return _fail("from and to are required")
    rows = request.app[CANDLES].get((q.get("symbol"), q.get("resolution")), [])
    lo, hi = int(q["from"]) * 1000, int(q["to"]) * 1000
    picked = [r for r in rows if lo <= r[0] <= hi]
    if not picked:
        return web.json_response({"s": "no_data"})
    return web.json_response({"s": "ok", "t": [r[0] // 1000 for r in picked],
                              **{k: [f"{r[i]:.10f}" for r in picked] for i, k in enumerate("ohlcv", 1)}})


async def _depth(request: web.Request) -> web.StreamResponse:
    m = request.app[VENUE].market(request.query.get("symbol", ""))
    level = {"quantity": "1.00000000", "sum": "1"}
    return _ok({"ask": [{"price": str(m.price + m.tick_size), **level}],
                "bid": [{"price": str(m.price - m.tick_size), **level}]})


def order_body(order: FakeOrder) -> dict[str, Any]:
    """Render an order as Wallex does (transactTime in seconds)."""
    avg = order.cum_quote / order.executed if order.executed else 0
    status = "CANCELED" if order.status == "CANCELED" else order.status
    return {"symbol": order.symbol_id, "type": order.type, "side": order.side,
            "clientOrderId": order.client_id, "transactTime": order.time_ms // 1000,
            "price": str(order.price or 0), "origQty": str(order.qty), "executedQty": str(order.executed),
            "executedSum": str(order.cum_quote), "executedPrice": str(avg),
            "status": status, "active": status in ("NEW", "PARTIALLY_FILLED"), "fills": [],
            "created_at": datetime.fromtimestamp(order.time_ms / 1000, tz=UTC).isoformat()}


async def _body(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    return dict(json.loads(text)) if text else {}


async def _new_order(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    if body.get("type") not in ("limit", "market"):
        return _fail("invalid order type")
    params = {"symbol": body.get("symbol", ""), "side": str(body.get("side", "")).upper(),
              "type": str(body["type"]).upper(), "quantity": str(body.get("quantity", ""))}
    if body["type"] == "limit":
        params["price"] = str(body.get("price", ""))
    if body.get("client_id"):
        params["newClientOrderId"] = body["client_id"]
    return _ok(order_body(request.app[VENUE].place(params)))


async def _get_order(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    cid = request.match_info["client_id"]
    for order in venue.all_orders():
        if order.client_id == cid:
            return _ok(order_body(order))
    return _fail("order not found", status=404)


async def _cancel(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    cid = request.query.get("clientOrderId") or (await _body(request)).get("clientOrderId")
    match = next((o for o in venue.all_orders() if o.client_id == cid), None)
    if match is None:
        return _fail("order not found", status=404)
    return _ok(order_body(venue.cancel(match.symbol_id, None, cid)))


async def _open_orders(request: web.Request) -> web.StreamResponse:
    orders = request.app[VENUE].open_orders(request.query.get("symbol"))
    return _ok({"orders": [order_body(o) for o in orders]})


async def _balances(request: web.Request) -> web.StreamResponse:
    rows = {a: {"asset": a, "faName": a, "fiat": a == "TMN", "value": str(f + locked), "locked": str(locked)}
            for a, f, locked in request.app[VENUE].balances()}
    return _ok({"balances": rows})


async def _trades(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    trades = venue.my_trades(request.query.get("symbol", ""))
    rows = [{"symbol": t.symbol_id, "quantity": str(t.qty), "price": str(t.price),
             "sum": str(t.qty * t.price),
             "fee": str(t.commission), "feeCoefficient": "0.001", "feeAsset": t.commission_asset,
             "isBuyer": t.side == "BUY",
             "timestamp": datetime.fromtimestamp(t.time_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
            for t in trades]
    return _ok({"AccountLatestTrades": rows})


@web.middleware
async def _guard(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/v1/account/") and request.headers.get("X-API-Key") != WALLEX_KEY:
        return _fail("unauthorized", status=401)
    try:
        response: web.StreamResponse = await handler(request)
    except VenueReject as exc:
        message = "Insufficient balance" if "insufficient" in exc.msg.lower() else exc.msg
        return _fail(message, status=400)
    return response


Candles = dict[tuple[str, str], list[tuple[int, ...]]]


def start_fake_wallex(venue: FakeVenue, candles: Candles) -> ServerThread:
    """Start the fake for ``venue`` (markets with TMN/USDT quotes) serving ``candles`` by (id, resolution)."""
    app = web.Application(middlewares=[_guard])
    app[VENUE] = venue
    app[CANDLES] = candles
    app.router.add_get("/v1/markets", _markets)
    app.router.add_get("/v1/udf/history", _history)
    app.router.add_get("/v1/depth", _depth)
    app.router.add_post("/v1/account/orders", _new_order)
    app.router.add_delete("/v1/account/orders", _cancel)
    app.router.add_get("/v1/account/orders/{client_id}", _get_order)
    app.router.add_get("/v1/account/openOrders", _open_orders)
    app.router.add_get("/v1/account/balances", _balances)
    app.router.add_get("/v1/account/trades", _trades)
    return ServerThread(app).start()
