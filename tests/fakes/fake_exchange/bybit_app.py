"""aiohttp routes speaking enough of Bybit's v5 REST dialect (spot, unified account) for real ccxt.

Envelope ``{"retCode": 0, "retMsg": "OK", "result": {...}, "time": ms}``; errors keep HTTP 200 with a
non-zero retCode (170131 balance, 170141 duplicate orderLinkId, 170213 unknown order, 10006 rate
limit), as Bybit does. Signed calls carry X-BAPI-API-KEY/TIMESTAMP/RECV-WINDOW/SIGN, the HMAC-SHA256
of timestamp + key + recv window + (query string or JSON body), checked against the test secret.
Spot stops are ``orderFilter=tpslOrder`` orders kept in their own book: listed and found (also by
``orderLinkId``) only when that filter is asked for, ``Untriggered`` until the trigger, then
``Triggered`` → ``Filled``. A spot limit order may carry ``takeProfit``/``stopLoss``: the venue makes
the TP/SL order itself once it fills (bybit_tpsl.py). State and matching are FakeVenue's; faults as for
the Binance dialect.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange import bybit_tpsl
from tests.fakes.fake_exchange.attached import ATTACHED, AttachedOrders, Bracket
from tests.fakes.fake_exchange.binance_app import FAULTS, REQUESTS, VENUE, Handler
from tests.fakes.fake_exchange.candles import select
from tests.fakes.fake_exchange.faults import FaultKind, FaultPlan
from tests.fakes.fake_exchange.venue import FakeOrder, FakeTrade, FakeVenue, VenueReject

BYBIT_KEY = "bybit-test-key"
BYBIT_SECRET = "bybit-test-secret"
TPSL = web.AppKey("tpsl", set)  # FakeVenue order ids placed with orderFilter=tpslOrder
_INTERVALS = {"1": "1m", "60": "1h"}
_CODES = {  # FakeVenue (Binance) rejection → Bybit retCode
    -2010: 170131, -2011: 170213, -2013: 170213, -1013: 170136, -1121: 170121, -1111: 170137,
    -1102: 170130, -1116: 170130,
}
_DUPLICATE = "Duplicate clientOrderId"


def _ok(result: Any, venue: FakeVenue) -> web.Response:
    return web.json_response({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {},
                              "time": venue.now_ms})


def _fail(code: int, msg: str) -> web.Response:
    return web.json_response({"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 0})


def _s(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _status(order: FakeOrder, tpsl: bool) -> str:
    if tpsl and not order.triggered and order.status == "NEW":
        return "Untriggered"
    if tpsl and order.status == "CANCELED" and not order.triggered:
        return "Deactivated"
    return {"NEW": "New", "PARTIALLY_FILLED": "PartiallyFilled", "FILLED": "Filled", "CANCELED": "Cancelled",
            "EXPIRED": "Cancelled", "REJECTED": "Rejected"}[order.status]


def order_json(order: FakeOrder, tpsl: bool) -> dict[str, Any]:
    """Render one order like GET /v5/order/realtime."""
    avg = order.cum_quote / order.executed if order.executed else None
    limit = "Limit" if order.type in ("LIMIT", "LIMIT_MAKER") or order.type.endswith("_LIMIT") else "Market"
    falling = order.type.startswith("STOP_LOSS")
    return {
        "orderId": str(order.order_id), "orderLinkId": order.client_id, "symbol": order.symbol_id,
        "side": "Buy" if order.side == "BUY" else "Sell", "orderType": limit, "price": _s(order.price) or "0",
        "qty": _s(order.qty), "orderStatus": _status(order, tpsl), "avgPrice": _s(avg),
        "cumExecQty": _s(order.executed), "cumExecValue": _s(order.cum_quote), "cumExecFee": "0",
        "leavesQty": _s(order.qty - order.executed), "timeInForce": "GTC", "isLeverage": "0",
        "stopOrderType": "tpslOrder" if tpsl else "", "triggerPrice": _s(order.stop_price) or "0",
        "triggerDirection": (2 if falling else 1) if tpsl else 0, "takeProfit": "", "stopLoss": "",
        "reduceOnly": False, "positionIdx": 0, "createType": "CreateByUser", "cancelType": "UNKNOWN",
        "rejectReason": "EC_NoError", "createdTime": str(order.time_ms), "updatedTime": str(order.update_ms),
    }


def trade_json(trade: FakeTrade, order: FakeOrder) -> dict[str, Any]:
    """Render one execution like GET /v5/execution/list."""
    return {
        "symbol": trade.symbol_id, "orderId": str(trade.order_id), "orderLinkId": trade.client_id,
        "side": "Buy" if trade.side == "BUY" else "Sell", "orderPrice": _s(order.price) or "0",
        "orderQty": _s(order.qty), "orderType": "Limit" if order.price else "Market", "stopOrderType": "",
        "execFee": _s(trade.commission), "feeCurrency": trade.commission_asset, "execId": str(trade.trade_id),
        "execPrice": _s(trade.price), "execQty": _s(trade.qty), "execValue": _s(trade.price * trade.qty),
        "execType": "Trade", "execTime": str(trade.time_ms), "isMaker": trade.is_maker,
        "feeRate": "0.001", "markPrice": "", "leavesQty": "0", "closedSize": "", "blockTradeId": "",
    }


# ── public ────────────────────────────────────────────────────────────────────────────────────────
async def _time(request: web.Request) -> web.StreamResponse:
    now = request.app[VENUE].now_ms
    return _ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}, request.app[VENUE])


async def _instruments(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    if request.query.get("category") != "spot":
        return _ok({"category": request.query.get("category"), "list": [], "nextPageCursor": ""}, venue)
    rows = [{"symbol": m.symbol_id, "baseCoin": m.base, "quoteCoin": m.quote, "innovation": "0",
             "status": "Trading", "marginTrading": "none", "priceFilter": {"tickSize": _s(m.tick_size)},
             "lotSizeFilter": {"basePrecision": _s(m.step_size), "quotePrecision": "0.00000001",
                               "minOrderQty": _s(m.min_qty), "maxOrderQty": "9000",
                               "minOrderAmt": _s(m.min_notional), "maxOrderAmt": "9000000"}}
            for m in venue.markets.values()]
    return _ok({"category": "spot", "list": rows, "nextPageCursor": ""}, venue)


async def _tickers(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    m = venue.market(request.query.get("symbol", ""))
    p = _s(m.price)
    return _ok({"category": "spot", "list": [{
        "symbol": m.symbol_id, "lastPrice": p, "bid1Price": _s(m.price - m.tick_size), "bid1Size": "1",
        "ask1Price": _s(m.price + m.tick_size), "ask1Size": "1", "prevPrice24h": p, "price24hPcnt": "0",
        "highPrice24h": p, "lowPrice24h": p, "turnover24h": "0", "volume24h": "0"}]}, venue)


async def _orderbook(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    m = venue.market(request.query.get("symbol", ""))
    return _ok({"s": m.symbol_id, "b": [[_s(m.price - m.tick_size), "10"]],
                "a": [[_s(m.price + m.tick_size), "10"]], "ts": venue.now_ms, "u": 1, "seq": 1}, venue)


async def _kline(request: web.Request) -> web.StreamResponse:
    q = request.query
    venue = request.app[VENUE]
    market = venue.market(q.get("symbol", ""))
    rows = market.candles.get(_INTERVALS.get(q.get("interval", ""), ""))
    if rows is None:
        return _fail(10001, "Invalid period!")
    start = int(q["start"]) if "start" in q else None
    end = int(q["end"]) if "end" in q else None
    picked = select(rows, start, end, min(int(q.get("limit", "200")), 1000))
    body = [[str(r[0]), r[1], r[2], r[3], r[4], r[5], "0"] for r in reversed(picked)]  # newest first
    return _ok({"category": "spot", "symbol": market.symbol_id, "list": body}, venue)


# ── private ───────────────────────────────────────────────────────────────────────────────────────
async def _query_api(request: web.Request) -> web.StreamResponse:
    return _ok({"unified": 0, "uta": 1, "readOnly": 0, "permissions": {"Spot": ["SpotTrade"]}},
               request.app[VENUE])


async def _account_info(request: web.Request) -> web.StreamResponse:
    return _ok({"unifiedMarginStatus": 4, "marginMode": "REGULAR_MARGIN", "isMasterTrader": False,
                "spotHedgingStatus": "OFF", "updatedTime": "0"}, request.app[VENUE])


async def _wallet(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    coins = [{"coin": a, "walletBalance": _s(f + lk), "locked": _s(lk), "equity": _s(f + lk),
              "totalOrderIM": "0", "totalPositionIM": "0"} for a, f, lk in venue.balances()]
    return _ok({"list": [{"accountType": "UNIFIED", "coin": coins}]}, venue)


async def _create(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    body = json.loads(await request.text())
    if body.get("category") != "spot":
        return _fail(10001, "only spot is faked")
    tpsl = body.get("orderFilter") == "tpslOrder"
    kind = "LIMIT" if body.get("orderType") == "Limit" else "MARKET"
    if tpsl:  # direction 2: falls to the trigger (a sell stop); 1: rises to it (a take-profit)
        base = "STOP_LOSS" if str(body.get("triggerDirection", "2")) == "2" else "TAKE_PROFIT"
        kind = base + ("_LIMIT" if kind == "LIMIT" else "")
    if body.get("marketUnit") == "quoteCoin":
        return _fail(10001, "marketUnit quoteCoin is not faked")
    bracket = bybit_tpsl.bracket_of(body)
    if isinstance(bracket, str):
        return _fail(170130, bracket)
    params = {"symbol": body.get("symbol", ""), "side": str(body.get("side", "")).upper(), "type": kind,
              "quantity": body.get("qty", ""), "newClientOrderId": body.get("orderLinkId", "")}
    if body.get("price") and kind != "MARKET":
        params["price"] = body["price"]
    if tpsl:
        params["stopPrice"] = body.get("triggerPrice", "")
    with venue.lock:
        if any(o.client_id == params["newClientOrderId"] for o in venue.all_orders()):
            return _fail(170141, _DUPLICATE)  # Bybit: an orderLinkId is never reused, open or not
        order = venue.place(params)
        if tpsl:
            request.app[TPSL].add(order.order_id)
        if isinstance(bracket, Bracket):
            request.app[ATTACHED].attach(order, bracket)
    return _ok({"orderId": str(order.order_id), "orderLinkId": order.client_id}, venue)


def _lookup(request: web.Request, order_id: str | None, link_id: str | None) -> FakeOrder | None:
    """Find one order as Bybit does: a non-empty ``orderId`` must match (the text "None" matches nothing,
    so the order is not found), and an ``orderLinkId`` sent with it must match too."""
    venue = request.app[VENUE]
    for order in sorted(venue.all_orders(), key=lambda o: -o.order_id):
        if order_id and str(order.order_id) != order_id:
            continue
        if link_id and order.client_id != link_id:
            continue
        if order_id or link_id:
            return order
    return None


async def _realtime(request: web.Request) -> web.StreamResponse:
    q = request.query
    venue = request.app[VENUE]
    tpsl_ids = request.app[TPSL]
    want_tpsl = q.get("orderFilter") == "tpslOrder"  # the default filter is "Order": tpsl orders apart
    attached = request.app[ATTACHED]
    if q.get("orderId") or q.get("orderLinkId"):  # one order, open or recently closed
        order = _lookup(request, q.get("orderId"), q.get("orderLinkId"))
        found = [order] if order is not None else []
        lists = [lst for lst in [bybit_tpsl.find(attached, q.get("orderId"))] if lst is not None]
    else:
        found = venue.open_orders(q.get("symbol") or None)
        lists = bybit_tpsl.listed(attached, q.get("symbol") or None, open_only=True)
    found = [o for o in found
             if (o.order_id in tpsl_ids) == want_tpsl and bybit_tpsl.owner_of(attached, o) is None]
    rows = [order_json(o, o.order_id in tpsl_ids) for o in found]
    rows += [bybit_tpsl.list_json(attached, lst) for lst in lists] if want_tpsl else []
    return _ok({"category": "spot", "list": rows, "nextPageCursor": ""}, venue)


async def _history(request: web.Request) -> web.StreamResponse:
    q = request.query
    venue = request.app[VENUE]
    attached = request.app[ATTACHED]
    if not (q.get("orderId") or q.get("orderLinkId")):  # the list: finished orders, newest first
        if q.get("orderFilter") == "tpslOrder":
            every = bybit_tpsl.listed(attached, q.get("symbol"), open_only=False)
            rows = [bybit_tpsl.list_json(attached, lst) for lst in every]
            rows = [r for r in rows if r["orderStatus"] != "Untriggered"]
        else:
            rows = [order_json(o, False) for o in venue.all_orders()
                    if o.status not in ("NEW", "PARTIALLY_FILLED") and o.order_id not in request.app[TPSL]
                    and bybit_tpsl.owner_of(attached, o) is None]
        if q.get("orderStatus"):
            rows = [r for r in rows if r["orderStatus"] == q["orderStatus"]]
        return _ok({"category": "spot", "list": rows[::-1], "nextPageCursor": ""}, venue)
    order = _lookup(request, q.get("orderId"), q.get("orderLinkId"))
    rows = [order_json(order, order.order_id in request.app[TPSL])] if order is not None else []
    listed = bybit_tpsl.find(attached, q.get("orderId"))
    rows += [bybit_tpsl.list_json(attached, listed)] if listed is not None else []
    return _ok({"category": "spot", "list": rows, "nextPageCursor": ""}, venue)


async def _cancel(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    body = json.loads(await request.text())
    order = _lookup(request, body.get("orderId"), body.get("orderLinkId"))
    listed = bybit_tpsl.find(request.app[ATTACHED], body.get("orderId"))
    if order is None and listed is not None:
        venue.cancel_list(str(listed.list_id), None)  # -2011 (unknown order) once it is done
        return _ok({"orderId": body.get("orderId"), "orderLinkId": ""}, venue)
    if order is None or order.status not in ("NEW", "PARTIALLY_FILLED"):
        return _fail(170213, "Order does not exist.")
    venue.cancel(order.symbol_id, str(order.order_id), None)
    return _ok({"orderId": str(order.order_id), "orderLinkId": order.client_id}, venue)


async def _executions(request: web.Request) -> web.StreamResponse:
    q = request.query
    venue = request.app[VENUE]
    start = int(q.get("startTime", "0"))
    orders = {o.order_id: o for o in venue.all_orders()}
    trades = [t for t in venue.my_trades(q.get("symbol", ""), start)][: int(q.get("limit", "50"))]
    shown = bybit_tpsl.trade_order_id
    rows = [{**trade_json(t, orders[t.order_id]), "orderId": shown(request.app[ATTACHED], t)}
            for t in reversed(trades)]  # newest first
    return _ok({"category": "spot", "list": rows, "nextPageCursor": ""}, venue)


# ── plumbing ──────────────────────────────────────────────────────────────────────────────────────
def _check_signature(request: web.Request, payload: str) -> web.Response | None:
    headers = request.headers
    if headers.get("X-BAPI-API-KEY") != BYBIT_KEY:
        return _fail(10003, "API key is invalid.")
    signed = headers.get("X-BAPI-TIMESTAMP", "") + BYBIT_KEY + headers.get("X-BAPI-RECV-WINDOW", "") + payload
    expected = hmac.new(BYBIT_SECRET.encode(), signed.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get("X-BAPI-SIGN", "")):
        return _fail(10004, "error sign! origin_string[...]")
    return None


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log, apply a queued fault, check signatures on private routes, map FakeVenue rejections."""
    route = f"{request.method} {request.path}"
    request.app[REQUESTS].append(route)
    fault = request.app[FAULTS].take(route)
    if fault is not None and fault.kind is FaultKind.RATE_LIMIT:
        return web.json_response({"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "time": 0},
                                 headers={"Retry-After": str(fault.retry_after),
                                          "X-Bapi-Limit-Status": "0"})
    if fault is not None and fault.kind is FaultKind.SERVER_ERROR:
        return web.Response(text="<html>502 Bad Gateway</html>", status=fault.status,
                            content_type="text/html")
    if fault is not None and fault.kind is FaultKind.TIMEOUT:
        await asyncio.sleep(fault.delay)
        return web.Response(text="Gateway Timeout", status=504)
    if fault is not None and fault.kind is FaultKind.ERROR:
        return _fail(fault.code, fault.msg)
    if not request.path.startswith("/v5/market"):
        payload = await request.text() if request.method == "POST" else request.query_string
        refused = _check_signature(request, payload)
        if refused is not None:
            return refused
    try:
        response = await handler(request)
    except VenueReject as exc:
        if "duplicate" in exc.msg.lower():
            return _fail(170141, _DUPLICATE)
        return _fail(_CODES.get(exc.code, 170130), exc.msg)
    if fault is not None:  # DROP_AFTER_ACCEPT: the work is done but the client never hears of it
        assert request.transport is not None
        request.transport.close()
    return response


def build_bybit_app(venue: FakeVenue, faults: FaultPlan) -> web.Application:
    """Return the aiohttp application serving ``venue`` in Bybit's v5 dialect with ``faults`` applied."""
    app = web.Application(middlewares=[_middleware])
    app[VENUE] = venue
    app[FAULTS] = faults
    app[REQUESTS] = []
    app[TPSL] = set()
    app[ATTACHED] = AttachedOrders(venue)
    for path, handler in (("/v5/market/time", _time), ("/v5/market/instruments-info", _instruments),
                          ("/v5/market/tickers", _tickers), ("/v5/market/orderbook", _orderbook),
                          ("/v5/market/kline", _kline), ("/v5/user/query-api", _query_api),
                          ("/v5/account/info", _account_info), ("/v5/account/wallet-balance", _wallet),
                          ("/v5/order/realtime", _realtime), ("/v5/order/history", _history),
                          ("/v5/execution/list", _executions)):
        app.router.add_get(path, handler)
    app.router.add_post("/v5/order/create", _create)
    app.router.add_post("/v5/order/cancel", _cancel)
    return app
