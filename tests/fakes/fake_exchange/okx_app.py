"""A small fake of OKX's v5 REST API (spot market data and regular orders), reusing FakeVenue.

Envelope ``{"code": "0", "msg": "", "data": [...]}``; order acks carry ``sCode``/``sMsg``. Candles are
newest first. Cash ``conditional`` algo orders (our stops) are faked as we read OKX's docs: found by
``algoClOrdId``, ``state`` live → effective once triggered, the child order's id in ``ordId`` and its
fill carrying that ``ordId`` (not our client id). Cash ``oco`` algo orders (stop + take-profit, market
on trigger) are FakeVenue order lists: ``state`` live → effective when a leg triggers (the other leg is
gone), ``actualSide`` sl/tp, the executed leg's id in ``ordId``; that child order carries the algo's
``algoClOrdId``, not a ``clOrdId``. Trigger algo types are refused here. ``FakeExchange(venue, "okx")``
serves it with request logging and the same fault plan as the other dialects.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange.binance_app import FAULTS, REQUESTS
from tests.fakes.fake_exchange.candles import CandleRows
from tests.fakes.fake_exchange.faults import FaultKind, FaultPlan
from tests.fakes.fake_exchange.server import ServerThread
from tests.fakes.fake_exchange.venue import FakeOrder, FakeOrderList, FakeVenue, VenueReject

DEMO = web.AppKey("demo", bool)
OKX_KEY = "okx-test-key"
VENUE = web.AppKey("venue", FakeVenue)
_STATE = {"NEW": "live", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled", "CANCELED": "canceled"}
_BARS = {"1m": "1m", "1H": "1h"}


def _ok(data: list[Any]) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data})


def _inst(symbol_id: str, venue: FakeVenue) -> str:
    m = venue.markets[symbol_id]
    return f"{m.base}-{m.quote}"


def _sid(inst_id: str) -> str:
    return inst_id.replace("-", "")


async def _instruments(request: web.Request) -> web.StreamResponse:
    if request.query.get("instType") != "SPOT":
        return _ok([])
    return _ok([{"instType": "SPOT", "instId": f"{m.base}-{m.quote}", "baseCcy": m.base, "quoteCcy": m.quote,
                 "tickSz": str(m.tick_size), "lotSz": str(m.step_size), "minSz": str(m.min_qty),
                 "state": "live"} for m in request.app[VENUE].markets.values()])


async def _candles(request: web.Request) -> web.StreamResponse:
    q = request.query
    market = request.app[VENUE].market(_sid(q.get("instId", "")))
    rows: CandleRows = market.candles.get(_BARS.get(q.get("bar", "1m"), ""), [])
    after = int(q["after"]) if "after" in q else None  # OKX: records older than ``after``
    before = int(q["before"]) if "before" in q else None  # and newer than ``before``
    picked = [r for r in rows if (after is None or r[0] < after) and (before is None or r[0] > before)]
    limit = min(int(q.get("limit", "100")), 300)
    picked = picked[:limit] if before is not None and after is None else picked[-limit:]
    return _ok([[str(r[0]), r[1], r[2], r[3], r[4], r[5], "0", "0", "1"] for r in reversed(picked)])


async def _ticker(request: web.Request) -> web.StreamResponse:
    inst = request.query.get("instId", "")
    m = request.app[VENUE].market(_sid(inst))
    p = str(m.price)
    return _ok([{"instType": "SPOT", "instId": inst, "last": p, "lastSz": "1", "askPx": p, "askSz": "1",
                 "bidPx": p, "bidSz": "1", "open24h": p, "high24h": p, "low24h": p, "vol24h": "1",
                 "volCcy24h": "1", "ts": str(request.app[VENUE].now_ms)}])


def _order(order: FakeOrder, venue: FakeVenue) -> dict[str, Any]:
    avg = order.cum_quote / order.executed if order.executed else ""
    if order.order_list_id >= 0:  # the child order of an oco algo: it carries the algo's ids
        owner = venue.order_lists[order.order_list_id]
        return {**_plain(order, venue, str(avg)), "clOrdId": "", "algoClOrdId": owner.client_id,
                "algoId": f"L{owner.list_id}", "ordType": "market"}
    return _plain(order, venue, str(avg))


def _plain(order: FakeOrder, venue: FakeVenue, avg: str) -> dict[str, Any]:
    return {"instType": "SPOT", "instId": _inst(order.symbol_id, venue), "ordId": str(order.order_id),
            "clOrdId": order.client_id, "px": str(order.price or ""), "sz": str(order.qty),
            "ordType": order.type.lower(), "side": order.side.lower(), "state": _STATE[order.status],
            "accFillSz": str(order.executed), "avgPx": avg, "fee": "0", "feeCcy": "",
            "tgtCcy": "base_ccy", "cTime": str(order.time_ms), "uTime": str(order.update_ms)}


async def _batch_orders(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    acks = []
    for item in json.loads(await request.text()):
        params = {"symbol": _sid(item["instId"]), "side": item["side"].upper(),
                  "type": item["ordType"].upper(), "quantity": item["sz"],
                  "newClientOrderId": item.get("clOrdId", "")}
        if item.get("px"):
            params["price"] = item["px"]
        try:
            order = venue.place(params)
        except VenueReject as exc:
            code = "51008" if "insufficient" in exc.msg.lower() else "51000"
            return web.json_response({"code": "1", "msg": "", "data": [
                {"ordId": "", "clOrdId": item.get("clOrdId", ""), "sCode": code, "sMsg": exc.msg}]})
        acks.append({"ordId": str(order.order_id), "clOrdId": order.client_id, "tag": "", "sCode": "0",
                     "sMsg": ""})
    return _ok(acks)


def _find(venue: FakeVenue, inst: str, ord_id: str | None, cl_id: str | None) -> FakeOrder | None:
    try:
        return venue.find(_sid(inst), ord_id, cl_id)
    except VenueReject:
        return None


async def _get_order(request: web.Request) -> web.StreamResponse:
    q = request.query
    venue = request.app[VENUE]
    order = _find(venue, q.get("instId", ""), q.get("ordId"), q.get("clOrdId"))
    if order is not None and order.order_id in request.app[ALGOS] and q.get("clOrdId"):
        order = None  # an algo order is not found by clOrdId
    if order is None:
        return web.json_response({"code": "51603", "msg": "Order does not exist", "data": []})
    return _ok([_order(order, venue)])


async def _pending(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    inst = request.query.get("instId")
    algos = request.app[ALGOS]
    return _ok([_order(o, venue) for o in venue.open_orders(_sid(inst) if inst else None)
                if o.order_id not in algos and o.order_list_id < 0])


async def _cancel(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    body = json.loads(await request.text())
    order = _find(venue, body["instId"], body.get("ordId"), body.get("clOrdId"))
    if order is None or order.status not in ("NEW", "PARTIALLY_FILLED"):
        return web.json_response({"code": "1", "msg": "", "data": [
            {"ordId": body.get("ordId", ""), "clOrdId": "", "sCode": "51400",
             "sMsg": "Cancellation failed"}]})
    venue.cancel(order.symbol_id, str(order.order_id), None)
    return _ok([{"ordId": str(order.order_id), "clOrdId": order.client_id, "sCode": "0", "sMsg": ""}])


async def _balance(request: web.Request) -> web.StreamResponse:
    details = [{"ccy": a, "availBal": str(f), "frozenBal": str(lk), "cashBal": str(f + lk), "eq": str(f + lk)}
               for a, f, lk in request.app[VENUE].balances()]
    return _ok([{"totalEq": "0", "uTime": str(request.app[VENUE].now_ms), "details": details}])


async def _fills(request: web.Request) -> web.StreamResponse:
    """Fills newest first from ``begin``, at most ``limit`` (<= 100), older pages by ``after`` (bill id)."""
    venue, q = request.app[VENUE], request.query
    inst = q.get("instId", "")
    limit, after, begin = int(q.get("limit", "100")), int(q.get("after", "0")), int(q.get("begin", "0"))
    if not 1 <= limit <= 100:
        return web.json_response({"code": "51000", "msg": "Parameter limit error", "data": []})
    trades = [t for t in reversed(venue.my_trades(_sid(inst)))
              if t.time_ms >= begin and (not after or t.trade_id < after)][:limit]
    return _ok([{"instType": "SPOT", "instId": inst, "tradeId": str(t.trade_id), "billId": str(t.trade_id),
                 "ordId": str(t.order_id),
                 "clOrdId": "" if t.order_id in request.app[ALGOS] or _in_list(venue, t.order_id)
                 else t.client_id,
                 "fillPx": str(t.price), "fillSz": str(t.qty), "side": t.side.lower(),
                 "fee": str(-t.commission), "feeCcy": t.commission_asset, "execType": "T",
                 "ts": str(t.time_ms)}
                for t in trades])


ALGOS = web.AppKey("algos", set)  # FakeVenue order ids that are algo (conditional) orders
OCOS = web.AppKey("ocos", set)  # FakeVenue order-list ids that are oco algo orders
_ALGO_STATE = {"NEW": "live", "FILLED": "effective", "CANCELED": "canceled"}


def _algo(order: FakeOrder, venue: FakeVenue) -> dict[str, Any]:
    """Render a conditional algo order; once triggered its child order is ``ordId`` (our order id)."""
    triggered = order.status == "FILLED"
    avg = order.cum_quote / order.executed if order.executed else ""
    return {"instType": "SPOT", "instId": _inst(order.symbol_id, venue), "algoId": f"A{order.order_id}",
            "algoClOrdId": order.client_id, "clOrdId": "", "ordType": "conditional",
            "side": order.side.lower(), "sz": str(order.qty), "slTriggerPx": str(order.stop_price),
            "slOrdPx": "-1", "tdMode": "cash", "state": _ALGO_STATE.get(order.status, "live"),
            "ordId": str(order.order_id) if triggered else "",
            "actualSz": str(order.executed) if triggered else "", "actualPx": str(avg) if triggered else "",
            "cTime": str(order.time_ms), "uTime": str(order.update_ms)}


def _in_list(venue: FakeVenue, order_id: int) -> bool:
    order = venue.orders.get(order_id)
    return order is not None and order.order_list_id >= 0


def _oco(order_list: FakeOrderList, venue: FakeVenue) -> dict[str, Any]:
    """Render an oco algo order; once a leg triggered: effective, that leg in ordId/actualSide."""
    legs = venue.list_legs(order_list)
    tp, sl = legs  # placed as (above: take-profit, below: stop)
    done = next((leg for leg in legs if leg.executed > 0), None)
    open_ = any(leg.status in ("NEW", "PARTIALLY_FILLED") for leg in legs)
    state = "live" if open_ else "effective" if done is not None else "canceled"
    avg = done.cum_quote / done.executed if done is not None else ""
    return {"instType": "SPOT", "instId": _inst(order_list.symbol_id, venue),
            "algoId": f"L{order_list.list_id}", "algoClOrdId": order_list.client_id, "clOrdId": "",
            "ordType": "oco", "side": tp.side.lower(),
            "sz": str(tp.qty), "tpTriggerPx": str(tp.stop_price), "tpOrdPx": "-1",
            "slTriggerPx": str(sl.stop_price), "slOrdPx": "-1", "tdMode": "cash", "state": state,
            "ordId": str(done.order_id) if done is not None else "",
            "actualSz": str(done.executed) if done is not None else "", "actualPx": str(avg),
            "actualSide": ("tp" if done is tp else "sl") if done is not None else "",
            "cTime": str(order_list.time_ms), "uTime": str(max(leg.update_ms for leg in legs))}


def _algo_json(found: FakeOrder | FakeOrderList, venue: FakeVenue) -> dict[str, Any]:
    return _oco(found, venue) if isinstance(found, FakeOrderList) else _algo(found, venue)


async def _new_algo(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    item = json.loads(await request.text())
    if item.get("tdMode") != "cash" or item.get("ordType") not in ("conditional", "oco"):
        return web.json_response({"code": "1", "msg": "", "data": [
            {"algoId": "", "sCode": "51000", "sMsg": "only cash conditional and oco orders are faked"}]})
    cl_id = item.get("algoClOrdId", "")
    if _find_algo(request, None, cl_id) is not None:
        return web.json_response({"code": "1", "msg": "", "data": [
            {"algoId": "", "sCode": "51065", "sMsg": "algoClOrdId already exists."}]})
    base = {"symbol": _sid(item["instId"]), "side": item["side"].upper(), "quantity": item["sz"]}
    try:
        if item["ordType"] == "oco":
            order_list = venue.place_oco({
                **base, "listClientOrderId": cl_id, "aboveType": "TAKE_PROFIT",
                "aboveStopPrice": item["tpTriggerPx"], "belowType": "STOP_LOSS",
                "belowStopPrice": item["slTriggerPx"]})
            request.app[OCOS].add(order_list.list_id)
            return _ok([{"algoId": f"L{order_list.list_id}", "algoClOrdId": cl_id, "sCode": "0", "sMsg": ""}])
        order = venue.place({**base, "type": "STOP_LOSS", "stopPrice": item["slTriggerPx"],
                             "newClientOrderId": cl_id})
    except VenueReject as exc:
        code = "51008" if "insufficient" in exc.msg.lower() else "51000"
        return web.json_response({"code": "1", "msg": "", "data": [{"algoId": "", "sCode": code,
                                                                    "sMsg": exc.msg}]})
    request.app[ALGOS].add(order.order_id)
    return _ok([{"algoId": f"A{order.order_id}", "algoClOrdId": order.client_id, "sCode": "0", "sMsg": ""}])


def _find_algo(request: web.Request, algo_id: str | None,
               cl_id: str | None) -> FakeOrder | FakeOrderList | None:
    venue = request.app[VENUE]
    for list_id in sorted(request.app[OCOS], reverse=True):
        order_list = venue.order_lists[list_id]
        if (algo_id and f"L{list_id}" == algo_id) or (cl_id and order_list.client_id == cl_id):
            return order_list
    for order in venue.all_orders():
        if order.order_id in request.app[ALGOS] and (
                (algo_id and f"A{order.order_id}" == algo_id) or (cl_id and order.client_id == cl_id)):
            return order
    return None


async def _get_algo(request: web.Request) -> web.StreamResponse:
    found = _find_algo(request, request.query.get("algoId"), request.query.get("algoClOrdId"))
    if found is None:
        return web.json_response({"code": "51603", "msg": "Order does not exist", "data": []})
    return _ok([_algo_json(found, request.app[VENUE])])


async def _algo_pending(request: web.Request) -> web.StreamResponse:
    kinds = set(request.query.get("ordType", "").split(","))
    if kinds == {""}:
        return web.json_response({"code": "50014", "msg": "Parameter ordType can not be empty", "data": []})
    venue = request.app[VENUE]
    rows = [_algo(o, venue) for o in venue.open_orders(None) if o.order_id in request.app[ALGOS]] \
        if "conditional" in kinds else []
    if "oco" in kinds:
        rows += [_oco(lst, venue) for lst in venue.open_lists() if lst.list_id in request.app[OCOS]]
    return _ok(rows)


async def _cancel_algos(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    acks = []
    for item in json.loads(await request.text()):
        found = _find_algo(request, item.get("algoId"), item.get("algoClOrdId"))
        if isinstance(found, FakeOrderList) and venue.open_lists(found.symbol_id).count(found):
            venue.cancel_list(str(found.list_id), None)
            acks.append({"algoId": f"L{found.list_id}", "algoClOrdId": found.client_id, "sCode": "0",
                         "sMsg": ""})
            continue
        if not isinstance(found, FakeOrder) or found.status != "NEW":
            return web.json_response({"code": "1", "msg": "", "data": [
                {"algoId": item.get("algoId", ""), "sCode": "51400", "sMsg": "Cancellation failed"}]})
        venue.cancel(found.symbol_id, str(found.order_id), None)
        acks.append({"algoId": f"A{found.order_id}", "algoClOrdId": found.client_id, "sCode": "0",
                     "sMsg": ""})
    return _ok(acks)


@web.middleware
async def _auth(request: web.Request, handler: Any) -> web.StreamResponse:
    private = request.path.startswith(("/api/v5/trade", "/api/v5/account"))
    if private and request.headers.get("OK-ACCESS-KEY") != OKX_KEY:
        return web.json_response({"code": "50111", "msg": "Invalid OK-ACCESS-KEY", "data": []}, status=401)
    # OKX demo trading: demo keys work only with the simulated-trading header, real keys only without
    if private and (request.headers.get("x-simulated-trading") == "1") != request.app[DEMO]:
        return web.json_response({"code": "50101", "msg": "APIKey does not match current environment.",
                                  "data": []}, status=401)
    response: web.StreamResponse = await handler(request)
    return response


@web.middleware
async def _faults(request: web.Request, handler: Any) -> web.StreamResponse:
    """Log the request and apply a queued fault (OKX bodies: 50011 rate limit, 50001 unavailable)."""
    route = f"{request.method} {request.path}"
    request.app[REQUESTS].append(route)
    fault = request.app[FAULTS].take(route)
    if fault is not None and fault.kind is FaultKind.RATE_LIMIT:
        return web.json_response({"code": "50011", "msg": "Too Many Requests", "data": []}, status=429,
                                 headers={"Retry-After": str(fault.retry_after)})
    if fault is not None and fault.kind is FaultKind.SERVER_ERROR:
        return web.json_response({"code": "50001", "msg": "Service temporarily unavailable", "data": []},
                                 status=fault.status)
    if fault is not None and fault.kind is FaultKind.TIMEOUT:
        await asyncio.sleep(fault.delay)
        return web.Response(text="Gateway Timeout", status=504)
    if fault is not None and fault.kind is FaultKind.ERROR:
        return web.json_response({"code": str(fault.code), "msg": fault.msg, "data": []})
    response: web.StreamResponse = await handler(request)
    if fault is not None:  # DROP_AFTER_ACCEPT
        assert request.transport is not None
        request.transport.close()
    return response


def build_okx_app(venue: FakeVenue, faults: FaultPlan, *, demo: bool = False) -> web.Application:
    """Return the fake OKX application for ``venue``; ``demo`` makes it the demo-trading venue."""
    app = web.Application(middlewares=[_faults, _auth])
    app[VENUE] = venue
    app[DEMO] = demo
    app[FAULTS] = faults
    app[REQUESTS] = []
    app.router.add_get("/api/v5/public/instruments", _instruments)
    app.router.add_get("/api/v5/market/candles", _candles)
    app.router.add_get("/api/v5/market/history-candles", _candles)
    app.router.add_get("/api/v5/market/ticker", _ticker)
    app.router.add_get("/api/v5/account/balance", _balance)
    app.router.add_post("/api/v5/trade/batch-orders", _batch_orders)
    app.router.add_get("/api/v5/trade/order", _get_order)
    app.router.add_get("/api/v5/trade/orders-pending", _pending)
    app.router.add_post("/api/v5/trade/cancel-order", _cancel)
    app.router.add_get("/api/v5/trade/fills", _fills)
    app.router.add_get("/api/v5/trade/fills-history", _fills)
    app[ALGOS] = set()
    app[OCOS] = set()
    app.router.add_post("/api/v5/trade/order-algo", _new_algo)
    app.router.add_get("/api/v5/trade/order-algo", _get_algo)
    app.router.add_get("/api/v5/trade/orders-algo-pending", _algo_pending)
    app.router.add_post("/api/v5/trade/cancel-algos", _cancel_algos)
    return app


def start_fake_okx(venue: FakeVenue, *, demo: bool = False) -> ServerThread:
    """Start the fake OKX for ``venue`` on an ephemeral port; ``demo`` makes it the demo-trading venue."""
    return ServerThread(build_okx_app(venue, FaultPlan(), demo=demo)).start()
