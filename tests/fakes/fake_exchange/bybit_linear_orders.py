"""Bybit v5 linear orders and executions over the fake's ``FuturesAccount`` (see bybit_linear.py).

A conditional order (``triggerPrice`` + ``triggerDirection`` 1 rise / 2 fall, market on trigger) is a
FuturesAccount algo order; Bybit keeps it in the one order book under one ``orderId`` and
``orderLinkId``: ``Untriggered`` while resting, ``Deactivated`` once cancelled, then the state of the
market order its trigger placed (``Filled``), whose executions carry the conditional order's ids. A
plain order is a FuturesAccount order. ``orderLinkId`` is never reused (110072, open or not).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange.fapi_account import FAlgo, FOrder, FTrade, FuturesAccount
from tests.fakes.fake_exchange.venue import VenueReject

D = Decimal
WEEK_MS = 7 * 24 * 3_600_000
_PAGE = 100
# FuturesAccount's (Binance) refusals in Bybit's words
_CODES = {-2019: 110007, -2022: 110017, -2021: 110092, -4164: 110094, -1111: 10001, -1013: 10001,
          -2011: 110001, -2013: 110001, -4116: 110072, -1116: 10001, -1102: 10001}
_STATUS = {"NEW": "New", "PARTIALLY_FILLED": "PartiallyFilled", "FILLED": "Filled", "CANCELED": "Cancelled",
           "EXPIRED": "Cancelled"}


def ok(result: Any, now_ms: int) -> web.Response:
    """Return Bybit's success envelope."""
    return web.json_response({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {},
                              "time": now_ms})


def fail(code: int, msg: str) -> web.Response:
    """Return Bybit's error envelope (HTTP 200, non-zero retCode)."""
    return web.json_response({"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 0})


def rejected(exc: VenueReject) -> web.Response:
    """Return a FuturesAccount refusal as Bybit answers it."""
    return fail(_CODES.get(exc.code, 10001), exc.msg)


def s(value: Decimal | None) -> str:
    """Render a decimal as Bybit does ("" for none)."""
    return "" if value is None else format(value.normalize(), "f")


def owner(account: FuturesAccount, order: FOrder) -> FAlgo | None:
    """Return the conditional order whose trigger placed ``order``, if any."""
    return next((a for a in account.algos.values() if a.actual_order_id == order.order_id), None)


def _algo_state(account: FuturesAccount, algo: FAlgo) -> tuple[str, FOrder | None]:
    child = account.orders.get(algo.actual_order_id or -1)
    if algo.status == "NEW":
        return "Untriggered", None
    if algo.status == "CANCELED" or child is None:
        return "Deactivated", None
    return ("Triggered" if child.status == "NEW" else _STATUS[child.status]), child


def order_row(account: FuturesAccount, item: FOrder | FAlgo) -> dict[str, Any]:
    """Render one order (plain or conditional) like GET /v5/order/realtime?category=linear."""
    if isinstance(item, FAlgo):
        status, done = _algo_state(account, item)
        oid, trigger = item.algo_id, s(item.trigger)
        direction = 1 if (item.type == "STOP_MARKET") == (item.side == "BUY") else 2
        kind, price, tif = "Market", "0", "IOC"
    else:
        status, done = _STATUS[item.status], item
        oid, trigger, direction = item.order_id, "0", 0
        limit = item.type == "LIMIT"
        kind, price, tif = ("Limit", s(item.price), "GTC") if limit else ("Market", "0", "IOC")
    executed = done.executed if done else D(0)
    fee = done.cum_quote * account.fee_rate if done else D(0)
    return {
        "orderId": str(oid), "orderLinkId": item.client_id, "symbol": item.symbol_id,
        "side": "Buy" if item.side == "BUY" else "Sell", "orderType": kind, "price": price,
        "qty": s(item.qty),
        "orderStatus": status, "avgPrice": s(done.avg_price) if done and executed else "",
        "cumExecQty": s(executed), "cumExecValue": s(done.cum_quote if done else D(0)),
        "cumExecFee": s(fee), "cumFeeDetail": {"USDT": s(fee)} if executed else {},
        "leavesQty": s(item.qty - executed) if status in ("New", "Untriggered") else "0",
        "timeInForce": tif, "triggerPrice": trigger, "triggerDirection": direction, "triggerBy": "LastPrice",
        "stopOrderType": "Stop" if isinstance(item, FAlgo) else "", "reduceOnly": item.reduce_only,
        "closeOnTrigger": False, "positionIdx": 0, "takeProfit": "", "stopLoss": "", "tpslMode": "",
        "isLeverage": "", "createType": "CreateByUser", "cancelType": "UNKNOWN", "rejectReason": "EC_NoError",
        "createdTime": str(item.time_ms), "updatedTime": str(item.update_ms),
    }


def _with_link(account: FuturesAccount, link: str) -> list[FOrder | FAlgo]:
    found: list[FOrder | FAlgo] = [o for o in account.orders.values()
                                   if o.client_id == link and owner(account, o) is None]
    return found + [a for a in account.algos.values() if a.client_id == link]


def find(account: FuturesAccount, order_id: str | None, link: str | None) -> FOrder | FAlgo | None:
    """Find an order by ``orderId`` (plain or conditional) or ``orderLinkId``; a triggered child is its
    conditional order's."""
    with account.venue.lock:
        if order_id:
            if order_id.isdigit() and int(order_id) in account.algos:
                return account.algos[int(order_id)]
            order = account.orders.get(int(order_id)) if order_id.isdigit() else None
            return owner(account, order) or order if order is not None else None
        if link:
            return next(iter(_with_link(account, link)), None)
    return None


def _open(account: FuturesAccount, symbol_id: str | None, want: str | None) -> list[FOrder | FAlgo]:
    plain: list[FOrder | FAlgo] = [o for o in account.open_orders(symbol_id) if owner(account, o) is None]
    algos: list[FOrder | FAlgo] = list(account.open_algos(symbol_id))
    return {"Order": plain, "StopOrder": algos}.get(want or "", plain + algos)


async def create(request: web.Request, account: FuturesAccount, body: dict[str, Any]) -> web.StreamResponse:
    """POST /v5/order/create, category linear: a plain or conditional order, one-way (positionIdx 0)."""
    one_way = not account.book.hedge_mode  # hedge mode: 1 (long side) or 2 (short side), never 0
    if (str(body.get("positionIdx", "0")) == "0") != one_way:
        return fail(10001, "position idx not match position mode")
    link = str(body.get("orderLinkId") or "")
    side, kind = str(body.get("side", "")).upper(), str(body.get("orderType", ""))
    reduce = str(body.get("reduceOnly", False)).lower()
    with account.venue.lock:
        if link and _with_link(account, link):
            return fail(110072, "OrderLinkedID is duplicate")
        try:
            if body.get("triggerPrice"):
                direction = str(body.get("triggerDirection", ""))
                if direction not in ("1", "2") or kind != "Market":
                    return fail(10001, "only market conditional orders with a triggerDirection are faked")
                stop = (direction == "1") == (side == "BUY")  # a buy on a rise, a sell on a fall: a stop
                algo = account.place_algo({
                    "symbol": body.get("symbol", ""), "side": side, "algoType": "CONDITIONAL",
                    "type": "STOP_MARKET" if stop else "TAKE_PROFIT_MARKET", "quantity": body.get("qty", ""),
                    "triggerPrice": body["triggerPrice"], "clientAlgoId": link, "reduceOnly": reduce})
                return ok({"orderId": str(algo.algo_id), "orderLinkId": algo.client_id}, account.venue.now_ms)
            params = {"symbol": body.get("symbol", ""), "side": side, "type": kind.upper(),
                      "quantity": body.get("qty", ""), "newClientOrderId": link, "reduceOnly": reduce}
            if body.get("price") and kind == "Limit":
                params["price"] = body["price"]
            order = account.place(params)
        except VenueReject as exc:
            return rejected(exc)
    return ok({"orderId": str(order.order_id), "orderLinkId": order.client_id}, account.venue.now_ms)


async def realtime(request: web.Request, account: FuturesAccount) -> web.StreamResponse:
    """GET /v5/order/realtime: one order by id (open or recently closed), else the open ones."""
    q = request.query
    if q.get("orderId") or q.get("orderLinkId"):
        item = find(account, q.get("orderId"), q.get("orderLinkId"))
        items = [item] if item is not None and (item.symbol_id == q.get("symbol", item.symbol_id)) else []
    else:
        items = _open(account, q.get("symbol") or None, q.get("orderFilter"))
    with account.venue.lock:
        rows = [order_row(account, i) for i in items]
    return ok({"category": "linear", "list": rows, "nextPageCursor": ""}, account.venue.now_ms)


async def cancel(request: web.Request, account: FuturesAccount, body: dict[str, Any]) -> web.StreamResponse:
    """POST /v5/order/cancel: a resting plain or conditional order, else 110001."""
    item = find(account, body.get("orderId"), body.get("orderLinkId"))
    try:
        if isinstance(item, FAlgo):
            account.cancel_algo(str(item.algo_id), None)
        elif item is not None:
            account.cancel(item.symbol_id, str(item.order_id), None)
        else:
            raise VenueReject(-2011, "Order does not exist.")
    except VenueReject as exc:
        return rejected(exc)
    oid = item.algo_id if isinstance(item, FAlgo) else item.order_id
    return ok({"orderId": str(oid), "orderLinkId": item.client_id}, account.venue.now_ms)


def _trade_row(account: FuturesAccount, trade: FTrade) -> dict[str, Any]:
    order = account.orders[trade.order_id]
    parent = owner(account, order)
    return {"symbol": trade.symbol_id, "orderId": str(parent.algo_id if parent else order.order_id),
            "orderLinkId": parent.client_id if parent else order.client_id,
            "side": "Buy" if trade.side == "BUY" else "Sell", "orderPrice": s(order.price) or "0",
            "orderQty": s(order.qty), "orderType": "Limit" if order.price else "Market",
            "stopOrderType": "Stop" if parent else "", "execFee": s(trade.commission), "feeCurrency": "USDT",
            "execId": str(trade.trade_id), "execPrice": s(trade.price), "execQty": s(trade.qty),
            "execValue": s(trade.price * trade.qty), "execType": "Trade", "execTime": str(trade.time_ms),
            "isMaker": trade.maker, "feeRate": s(account.fee_rate), "markPrice": s(trade.price),
            "closedSize": "", "leavesQty": "0", "execPnl": s(trade.realized), "seq": trade.trade_id}


def _funding_row(account: FuturesAccount, row: dict[str, Any]) -> dict[str, Any]:
    # Bybit's execFee is what the account paid (the income's negative) = execValue * feeRate, where
    # feeRate is the market rate for a long and its negative for a short
    paid = -D(row["income"])
    rates = dict(account.book.funding_rates.get(row["symbol"], []))
    rate = rates.get(row["time"], D(0))
    long = rate == 0 or (paid > 0) == (rate > 0)
    value = abs(paid / rate) if rate else D(0)
    return {"symbol": row["symbol"], "orderId": "", "orderLinkId": "", "side": "Buy" if long else "Sell",
            "orderPrice": "0",
            "orderQty": "0", "orderType": "UNKNOWN", "stopOrderType": "UNKNOWN",
            "execFee": s(paid),
            "feeCurrency": "USDT", "execId": f"funding-{row['tranId']}", "execPrice": "0", "execQty": "0",
            "execValue": s(value), "execType": "Funding", "execTime": str(row["time"]), "isMaker": False,
            "feeRate": s(rate if long else -rate), "markPrice": "", "closedSize": "", "leavesQty": "0",
            "execPnl": "0", "seq": row["tranId"]}


async def executions(request: web.Request, account: FuturesAccount) -> web.StreamResponse:
    """GET /v5/execution/list: trades and funding, newest first, at most 7 days, cursor paged."""
    q, now = request.query, account.venue.now_ms
    limit = int(q.get("limit", "50"))
    if not 1 <= limit <= _PAGE:
        return fail(10001, "limit invalid")
    start = int(q["startTime"]) if "startTime" in q else None
    end = int(q["endTime"]) if "endTime" in q else None
    if start is None:  # Bybit: the last 7 days, or the 7 days from startTime
        start = (end or now) - WEEK_MS
    end = end if end is not None else start + WEEK_MS
    if end - start > WEEK_MS:
        return fail(10001, "The time range between startTime and endTime cannot exceed 7 days")
    symbol = q.get("symbol")
    with account.venue.lock:
        rows = [_trade_row(account, t) for t in account.trades] + \
            [_funding_row(account, r) for r in account.book.funding_paid]
    rows = [r for r in rows if symbol in (None, r["symbol"]) and start <= int(r["execTime"]) <= end
            and q.get("execType", r["execType"]) == r["execType"]]
    rows.sort(key=lambda r: (-int(r["execTime"]), -int(r["seq"])))
    offset = int(q.get("cursor") or 0)
    page = rows[offset:offset + limit]
    more = str(offset + limit) if offset + limit < len(rows) else ""
    return ok({"category": "linear", "list": page, "nextPageCursor": more}, now)


async def body_of(request: web.Request) -> dict[str, Any]:
    """Return a POST's JSON body (empty for a GET)."""
    if request.method != "POST":
        return {}
    loaded = json.loads(await request.text() or "{}")
    return loaded if isinstance(loaded, dict) else {}
