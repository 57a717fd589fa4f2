"""aiohttp routes speaking enough of the Binance spot REST dialect for the real ccxt async client.

Public: exchangeInfo, klines, ticker/24hr, depth, time. Signed (X-MBX-APIKEY + HMAC-SHA256 signature
checked against the known test secret): account, order (POST/GET/DELETE), openOrders, myTrades, and
the OCO order list: orderList/oco (POST), orderList (GET/DELETE), openOrderList.
Faults queued on ``app[FAULTS]`` are applied by a middleware before (or, for a dropped response,
after) the handler runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.fake_exchange.candles import select
from tests.fakes.fake_exchange.faults import Fault, FaultKind, FaultPlan
from tests.fakes.fake_exchange.venue import (
    ORDER_TYPES,
    FakeOrder,
    FakeOrderList,
    FakeTrade,
    FakeVenue,
    VenueReject,
)

VENUE = web.AppKey("venue", FakeVenue)
FAULTS = web.AppKey("faults", FaultPlan)
REQUESTS = web.AppKey("requests", list)
API_KEY = "test-key"
API_SECRET = "test-secret"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _s(value: Decimal | None) -> str:
    return "0.00000000" if value is None else f"{value:f}"


def order_json(order: FakeOrder, trades: list[FakeTrade] | None = None) -> dict[str, Any]:
    """Render an order the way Binance does (FULL response when ``trades`` is given)."""
    body: dict[str, Any] = {
        "symbol": order.symbol_id, "orderId": order.order_id, "orderListId": order.order_list_id,
        "clientOrderId": order.client_id, "price": _s(order.price), "origQty": _s(order.qty),
        "executedQty": _s(order.executed), "cummulativeQuoteQty": _s(order.cum_quote),
        "status": order.status, "timeInForce": "GTC", "type": order.type, "side": order.side,
        "stopPrice": _s(order.stop_price), "time": order.time_ms, "transactTime": order.time_ms,
        "updateTime": order.update_ms, "workingTime": order.time_ms, "isWorking": True,
        "origQuoteOrderQty": "0.00000000", "selfTradePreventionMode": "NONE",
    }
    if trades is not None:
        body["fills"] = [
            {"price": _s(t.price), "qty": _s(t.qty), "commission": _s(t.commission),
             "commissionAsset": t.commission_asset, "tradeId": t.trade_id}
            for t in trades
        ]
    return body


def trade_json(trade: FakeTrade) -> dict[str, Any]:
    """Render one of our executions like GET /api/v3/myTrades."""
    return {
        "symbol": trade.symbol_id, "id": trade.trade_id, "orderId": trade.order_id, "orderListId": -1,
        "price": _s(trade.price), "qty": _s(trade.qty), "quoteQty": _s(trade.price * trade.qty),
        "commission": _s(trade.commission), "commissionAsset": trade.commission_asset,
        "time": trade.time_ms, "isBuyer": trade.side == "BUY", "isMaker": trade.is_maker, "isBestMatch": True,
    }


async def _params(request: web.Request) -> dict[str, str]:
    params = dict(request.query)
    if request.method == "POST":
        params.update(dict(parse_qsl(await request.text())))
    return params


def _check_signature(request: web.Request, raw: str) -> None:
    if request.headers.get("X-MBX-APIKEY") != API_KEY:
        raise VenueReject(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
    payload, _, signature = raw.rpartition("&signature=")
    expected = hmac.new(API_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise VenueReject(-1022, "Signature for this request is not valid.", status=400)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply a queued fault, map VenueReject to Binance error bodies, and log the request."""
    route = f"{request.method} {request.path}"
    request.app[REQUESTS].append(route)
    fault = request.app[FAULTS].take(route)
    if fault is not None and fault.kind is not FaultKind.DROP_AFTER_ACCEPT:
        return await _fault_response(fault)
    try:
        response = await handler(request)
    except VenueReject as exc:
        return web.json_response({"code": exc.code, "msg": exc.msg}, status=exc.status)
    if fault is not None:  # DROP_AFTER_ACCEPT: the work is done but the client never hears of it
        assert request.transport is not None
        request.transport.close()
    return response


async def _fault_response(fault: Fault) -> web.StreamResponse:
    if fault.kind is FaultKind.RATE_LIMIT:
        return web.json_response({"code": -1003, "msg": "Too much request weight used; please back off."},
                                 status=429, headers={"Retry-After": str(fault.retry_after)})
    if fault.kind is FaultKind.SERVER_ERROR:
        return web.Response(text="<html><body>Service Unavailable</body></html>", status=fault.status,
                            content_type="text/html")
    if fault.kind is FaultKind.TIMEOUT:
        await asyncio.sleep(fault.delay)
        return web.Response(text="Gateway Timeout", status=504)
    return web.json_response({"code": fault.code, "msg": fault.msg}, status=fault.status)


def _signed(func: Callable[[web.Request, dict[str, str]], Awaitable[Any]]) -> Handler:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        raw = request.query_string if request.method != "POST" else await request.text()
        _check_signature(request, raw)
        return web.json_response(await func(request, await _params(request)))

    return wrapper


async def exchange_info(request: web.Request) -> web.StreamResponse:
    """GET /api/v3/exchangeInfo."""
    venue = request.app[VENUE]
    symbols = [
        {
            "symbol": m.symbol_id, "status": "TRADING", "baseAsset": m.base, "baseAssetPrecision": 8,
            "quoteAsset": m.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "orderTypes": list(ORDER_TYPES), "icebergAllowed": True, "ocoAllowed": True,
            "otoAllowed": False, "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
            "permissions": [], "permissionSets": [["SPOT"]],
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": _s(m.tick_size), "maxPrice": "1000000.00000000",
                 "tickSize": _s(m.tick_size)},
                {"filterType": "LOT_SIZE", "minQty": _s(m.min_qty), "maxQty": "9000.00000000",
                 "stepSize": _s(m.step_size)},
                {"filterType": "NOTIONAL", "minNotional": _s(m.min_notional), "applyMinToMarket": True,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            ],
        }
        for m in venue.markets.values()
    ]
    return web.json_response({"timezone": "UTC", "serverTime": venue.now_ms, "rateLimits": [],
                              "exchangeFilters": [], "symbols": symbols})


async def klines(request: web.Request) -> web.StreamResponse:
    """GET /api/v3/klines (limit default 500, max 1000)."""
    q = request.query
    market = request.app[VENUE].market(q.get("symbol", ""))
    rows = market.candles.get(q.get("interval", ""))
    if rows is None:
        raise VenueReject(-1120, "Invalid interval.")
    limit = min(int(q.get("limit", "500")), 1000)
    start = int(q["startTime"]) if "startTime" in q else None
    end = int(q["endTime"]) if "endTime" in q else None
    step = rows[1][0] - rows[0][0] if len(rows) > 1 else 60_000
    body = [[r[0], r[1], r[2], r[3], r[4], r[5], r[0] + step - 1, "0", 1, "0", "0", "0"]
            for r in select(rows, start, end, limit)]
    return web.json_response(body)


async def ticker(request: web.Request) -> web.StreamResponse:
    """GET /api/v3/ticker/24hr?symbol=."""
    venue = request.app[VENUE]
    m = venue.market(request.query.get("symbol", ""))
    bid, ask = m.price - m.tick_size, m.price + m.tick_size
    return web.json_response({
        "symbol": m.symbol_id, "priceChange": "0", "priceChangePercent": "0", "weightedAvgPrice": _s(m.price),
        "prevClosePrice": _s(m.price), "lastPrice": _s(m.price), "lastQty": "1", "bidPrice": _s(bid),
        "bidQty": "1", "askPrice": _s(ask), "askQty": "1", "openPrice": _s(m.price), "highPrice": _s(m.price),
        "lowPrice": _s(m.price), "volume": "0", "quoteVolume": "0", "openTime": venue.now_ms - 86_400_000,
        "closeTime": venue.now_ms, "firstId": 0, "lastId": 0, "count": 0,
    })


async def depth(request: web.Request) -> web.StreamResponse:
    """GET /api/v3/depth: one level each side, a tick around the last price."""
    m = request.app[VENUE].market(request.query.get("symbol", ""))
    return web.json_response({"lastUpdateId": 1, "bids": [[_s(m.price - m.tick_size), "10.00000000"]],
                              "asks": [[_s(m.price + m.tick_size), "10.00000000"]]})


async def server_time(request: web.Request) -> web.StreamResponse:
    """GET /api/v3/time."""
    return web.json_response({"serverTime": request.app[VENUE].now_ms})


async def _account(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    rows = [{"asset": a, "free": _s(f), "locked": _s(locked)} for a, f, locked in venue.balances()]
    return {"makerCommission": 10, "takerCommission": 10, "canTrade": True, "canWithdraw": False,
            "canDeposit": False, "accountType": "SPOT", "balances": rows, "permissions": ["SPOT"],
            "updateTime": venue.now_ms}


async def _new_order(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    order = venue.place(params)
    trades = [t for t in venue.trades if t.order_id == order.order_id]
    return order_json(order, trades)


async def _get_order(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    return order_json(venue.find(params.get("symbol", ""), params.get("orderId"),
                                 params.get("origClientOrderId")))


async def _cancel_order(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    order = venue.cancel(params.get("symbol", ""), params.get("orderId"), params.get("origClientOrderId"))
    return {**order_json(order), "origClientOrderId": order.client_id}


async def _open_orders(request: web.Request, params: dict[str, str]) -> Any:
    return [order_json(o) for o in request.app[VENUE].open_orders(params.get("symbol"))]


async def _my_trades(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    trades = venue.my_trades(params.get("symbol", ""), int(params.get("startTime", "0")))
    return [trade_json(t) for t in trades[: int(params.get("limit", "500"))]]


def list_json(venue: FakeVenue, order_list: FakeOrderList, *, reports: bool = False) -> dict[str, Any]:
    """Render an order list like Binance (``orderReports`` on create and cancel answers)."""
    legs = venue.list_legs(order_list)
    done = all(leg.status not in ("NEW", "PARTIALLY_FILLED") for leg in legs)
    body: dict[str, Any] = {
        "orderListId": order_list.list_id, "contingencyType": "OCO",
        "listStatusType": "ALL_DONE" if done else "EXEC_STARTED",
        "listOrderStatus": "ALL_DONE" if done else "EXECUTING", "listClientOrderId": order_list.client_id,
        "transactionTime": venue.now_ms, "symbol": order_list.symbol_id,
        "orders": [{"symbol": leg.symbol_id, "orderId": leg.order_id, "clientOrderId": leg.client_id}
                   for leg in legs],
    }
    if reports:
        body["orderReports"] = [order_json(leg) for leg in legs]
    return body


async def _new_oco(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    return list_json(venue, venue.place_oco(params), reports=True)


async def _get_list(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    return list_json(venue, venue.find_list(params.get("orderListId"), params.get("origClientOrderId")))


async def _cancel_list(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    order_list = venue.cancel_list(params.get("orderListId"), params.get("listClientOrderId"))
    return list_json(venue, order_list, reports=True)


async def _open_lists(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    return [list_json(venue, lst) for lst in venue.open_lists()]


def build_app(venue: FakeVenue, faults: FaultPlan) -> web.Application:
    """Return the aiohttp application serving ``venue`` with ``faults`` applied."""
    app = web.Application(middlewares=[fault_middleware])
    app[VENUE] = venue
    app[FAULTS] = faults
    app[REQUESTS] = []
    app.router.add_get("/api/v3/exchangeInfo", exchange_info)
    app.router.add_get("/api/v3/klines", klines)
    app.router.add_get("/api/v3/ticker/24hr", ticker)
    app.router.add_get("/api/v3/depth", depth)
    app.router.add_get("/api/v3/time", server_time)
    app.router.add_get("/api/v3/account", _signed(_account))
    app.router.add_post("/api/v3/order", _signed(_new_order))
    app.router.add_get("/api/v3/order", _signed(_get_order))
    app.router.add_delete("/api/v3/order", _signed(_cancel_order))
    app.router.add_get("/api/v3/openOrders", _signed(_open_orders))
    app.router.add_get("/api/v3/myTrades", _signed(_my_trades))
    app.router.add_post("/api/v3/orderList/oco", _signed(_new_oco))
    app.router.add_get("/api/v3/orderList", _signed(_get_list))
    app.router.add_delete("/api/v3/orderList", _signed(_cancel_list))
    app.router.add_get("/api/v3/openOrderList", _signed(_open_lists))
    return app
