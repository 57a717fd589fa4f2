"""OKX v5 linear perpetuals (``instType=SWAP``) for the fake venue, over the same ``FuturesAccount`` the
Binance USDⓈ-M dialect uses (one-way positions, isolated margin, conditional orders, funding).

What ccxt 4.5's okx client sends for a ``BTC/USDT:USDT`` swap (checked against the installed source):
markets → ``GET /public/instruments?instType=SWAP`` (``BTC-USDT-SWAP``, ``ctVal`` 0.01 BTC per
contract: every ``sz`` is in contracts); ``set_leverage`` → ``POST /account/set-leverage`` (``lever``,
``mgnMode``, ``posSide`` net when isolated: OKX keeps the margin mode per order, ``tdMode``, and the
leverage per instrument and margin mode); orders → ``POST /trade/batch-orders`` with ``tdMode``
isolated/cross and ``reduceOnly``; stops → ``POST /trade/order-algo`` (``ordType`` conditional,
``slTriggerPx``, ``slOrdPx`` -1, ``algoClOrdId``), listed by ``/trade/orders-algo-pending`` and
cancelled by ``/trade/cancel-algos``; positions → ``GET /account/positions`` (net mode: ``pos``
signed); the wallet → ``GET /account/balance`` (the unified trading account: one USDT balance for spot
and swaps); fills → ``GET /trade/fills-history?instType=SWAP``; funding → ``GET
/account/bills-archive?type=8``; margin tiers → ``GET /public/position-tiers`` (in contracts); fills
and bills come newest first from ``begin``, at most 100 a
page (more is refused), older pages by ``after`` = a bill id.

A triggered stop places a market order that carries no ``clOrdId`` of ours: it names its algo order
(``algoId``, ``algoClOrdId``) and the algo order names it (``ordId``), as OKX documents. The routes
are shared with the spot dialect; a middleware answers the requests for a ``-SWAP`` instrument (or
``instType=SWAP``) here and passes the rest on.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange.fapi_account import FAlgo, FOrder, FuturesAccount
from tests.fakes.fake_exchange.fapi_app import BRACKETS, FuturesBook
from tests.fakes.fake_exchange.venue import FakeVenue, VenueReject

D = Decimal
CT_VAL = D("0.01")  # BTC per contract, as OKX's BTC-USDT-SWAP
LOT = D("0.1")  # contracts: 0.001 BTC, the futures account's step
SWAP_ACCOUNT = web.AppKey("okx_swap_account", FuturesAccount)
SWAP_BOOK = web.AppKey("okx_swap_book", FuturesBook)
# FuturesAccount's (Binance) refusals in OKX's words: sCode
_CODES = {-2019: "51008", -2022: "51169", -4116: "51016", -2021: "51277", -2013: "51603", -2011: "51400"}
_STATE = {"NEW": "live", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled", "CANCELED": "canceled",
          "EXPIRED": "canceled"}
_ALGO_STATE = {"NEW": "live", "FINISHED": "effective", "CANCELED": "canceled"}
_PAGE = 100


def _ok(data: list[Any]) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data})


def _fail(code: str, msg: str, item: dict[str, Any] | None = None) -> web.Response:
    return web.json_response({"code": "1", "msg": "", "data": [{**(item or {}), "sCode": code, "sMsg": msg}]})


def _s(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _inst(symbol_id: str, venue: FakeVenue) -> str:
    m = venue.markets[symbol_id]
    return f"{m.base}-{m.quote}-SWAP"


def _sid(inst_id: str) -> str:
    return inst_id.removesuffix("-SWAP").replace("-", "")


def _qty(sz: str | None) -> str:
    """Return the base quantity of ``sz`` contracts (a size off the lot is refused)."""
    contracts = D(sz or "0")
    if contracts <= 0 or contracts % LOT:
        raise VenueReject(51121, "Order quantity must be a multiple of the lot size.")
    return str(contracts * CT_VAL)


def _contracts(qty: Decimal) -> str:
    return _s(qty / CT_VAL)


def _reject(exc: VenueReject, item: dict[str, Any]) -> web.Response:
    return _fail(_CODES.get(exc.code, str(exc.code) if exc.code > 0 else "51000"), exc.msg, item)


def _owner(account: FuturesAccount, order: FOrder) -> FAlgo | None:
    """Return the algo order whose trigger placed ``order``, if any."""
    return next((a for a in account.algos.values() if a.actual_order_id == order.order_id), None)


def _order(account: FuturesAccount, order: FOrder) -> dict[str, Any]:
    owner = _owner(account, order)
    return {"instType": "SWAP", "instId": _inst(order.symbol_id, account.venue), "ordId": str(order.order_id),
            "clOrdId": "" if owner else order.client_id, "algoClOrdId": owner.client_id if owner else "",
            "algoId": str(owner.algo_id) if owner else "", "px": _s(order.price), "sz": _contracts(order.qty),
            "ordType": order.type.lower(), "side": order.side.lower(), "posSide": "net",
            "tdMode": _mode(account.book, order.symbol_id), "state": _STATE[order.status],
            "accFillSz": _contracts(order.executed), "avgPx": _s(order.avg_price) if order.executed else "",
            "fee": _s(-order.cum_quote * account.fee_rate), "feeCcy": "USDT",
            "reduceOnly": "true" if order.reduce_only else "false",
            "lever": str(account.leverage(order.symbol_id)),
            "cTime": str(order.time_ms), "uTime": str(order.update_ms)}


def _algo(account: FuturesAccount, algo: FAlgo) -> dict[str, Any]:
    child = account.orders.get(algo.actual_order_id or -1)
    return {"instType": "SWAP", "instId": _inst(algo.symbol_id, account.venue), "algoId": str(algo.algo_id),
            "algoClOrdId": algo.client_id, "clOrdId": "", "ordType": "conditional", "side": algo.side.lower(),
            "posSide": "net", "sz": _contracts(algo.qty), "slTriggerPx": _s(algo.trigger), "slOrdPx": "-1",
            "slTriggerPxType": "last", "tdMode": _mode(account.book, algo.symbol_id),
            "reduceOnly": "true" if algo.reduce_only else "false", "state": _ALGO_STATE[algo.status],
            "ordId": str(child.order_id) if child else "",
            "actualSz": _contracts(child.executed) if child else "",
            "actualPx": _s(child.avg_price) if child and child.executed else "",
            "cTime": str(algo.time_ms), "uTime": str(algo.update_ms)}


def _mode(book: FuturesBook, symbol_id: str) -> str:
    return "isolated" if book.margin_type.get(symbol_id) == "ISOLATED" else "cross"


# ── market data and settings ────────────────────────────────────────────────────────────────
async def _instruments(request: web.Request) -> web.StreamResponse:
    venue = request.app[SWAP_ACCOUNT].venue
    return _ok([{"instType": "SWAP", "instId": f"{m.base}-{m.quote}-SWAP", "uly": f"{m.base}-{m.quote}",
                 "instFamily": f"{m.base}-{m.quote}", "baseCcy": "", "quoteCcy": "", "settleCcy": m.quote,
                 "ctType": "linear", "ctVal": _s(CT_VAL), "ctValCcy": m.base, "tickSz": _s(m.tick_size),
                 "lotSz": _s(LOT), "minSz": _s(LOT), "maxLmtSz": "100000", "maxMktSz": "10000",
                 "lever": str(BRACKETS[0][2]), "state": "live", "listTime": "1569398400000"}
                for m in venue.markets.values()])


async def _ticker(request: web.Request) -> web.StreamResponse:
    venue = request.app[SWAP_ACCOUNT].venue
    inst = request.query.get("instId", "")
    p = _s(venue.market(_sid(inst)).price)
    return _ok([{"instType": "SWAP", "instId": inst, "last": p, "lastSz": "1", "askPx": p, "askSz": "1",
                 "bidPx": p, "bidSz": "1", "open24h": p, "high24h": p, "low24h": p, "vol24h": "1",
                 "volCcy24h": "1", "ts": str(venue.now_ms)}])


async def _set_leverage(request: web.Request) -> web.StreamResponse:
    account, book = request.app[SWAP_ACCOUNT], request.app[SWAP_BOOK]
    body = json.loads(await request.text())
    sid = account.venue.market(_sid(body.get("instId", ""))).symbol_id
    mode, lever = body.get("mgnMode"), int(body.get("lever", "0"))
    if mode not in ("isolated", "cross") or not 1 <= lever <= BRACKETS[0][2]:
        return web.json_response({"code": "51000", "msg": "Parameter mgnMode/lever error", "data": []})
    if mode == "isolated" and body.get("posSide") not in ("net", "long", "short"):
        return web.json_response({"code": "51000", "msg": "Parameter posSide error", "data": []})
    with account.venue.lock:
        wanted = "ISOLATED" if mode == "isolated" else "CROSSED"
        if book.margin_type.get(sid, "CROSSED") != wanted:
            book.margin_type[sid] = wanted
            book.setting_changes.append(f"{sid} {wanted}")
        book.leverage[sid] = lever
        book.setting_changes.append(f"{sid} leverage {lever}")
    return _ok([{"lever": str(lever), "mgnMode": mode, "instId": body["instId"], "posSide": "net"}])


TIER_PRICE = D(50_000)  # the price at which the contract tiers below equal Binance's notional brackets


async def _position_tiers(request: web.Request) -> web.StreamResponse:
    """GET /public/position-tiers?instType=SWAP&tdMode=&instFamily=: the maintenance-margin tiers, in
    contracts (``minSz``/``maxSz``), as OKX publishes them for swaps (Binance's brackets at TIER_PRICE)."""
    query = request.query
    if query.get("instType") != "SWAP" or query.get("tdMode") not in ("isolated", "cross") \
            or not query.get("instFamily"):
        return web.json_response({"code": "51000", "msg": "Parameter instType/tdMode/instFamily error",
                                  "data": []})
    per_contract = CT_VAL * TIER_PRICE
    family = query["instFamily"]
    return _ok([{"instFamily": family, "instId": "", "uly": family, "tier": str(i + 1),
                 "minSz": _s(D(floor) / per_contract), "maxSz": _s(D(cap) / per_contract), "mmr": rate,
                 "imr": _s(1 / D(lev)), "maxLever": str(lev), "optMgnFactor": "0", "baseMaxLoan": "",
                 "quoteMaxLoan": ""}
                for i, (floor, cap, lev, rate, _cum) in enumerate(BRACKETS)])


# ── account ──────────────────────────────────────────────────────────────────────────────────
async def _config(request: web.Request) -> web.StreamResponse:
    """GET /account/config: the account's position mode (net unless the test set hedge mode)."""
    hedged = request.app[SWAP_BOOK].hedge_mode
    return _ok([{"uid": "44705892343619584", "mainUid": "44705892343619584", "acctLv": "2",
                 "posMode": "long_short_mode" if hedged else "net_mode", "autoLoan": False,
                 "greeksType": "PA", "level": "Lv1", "levelTmp": ""}])


async def _positions(request: web.Request) -> web.StreamResponse:
    account = request.app[SWAP_ACCOUNT]
    rows = []
    with account.venue.lock:
        for sid, pos in account.positions.items():
            if not pos.qty:
                continue
            mark = account.venue.market(sid).price
            rows.append({"instType": "SWAP", "instId": _inst(sid, account.venue), "posSide": "net",
                         "pos": _contracts(pos.qty), "avgPx": _s(pos.entry), "markPx": _s(mark),
                         "notionalUsd": _s(abs(pos.qty) * mark), "mgnMode": _mode(account.book, sid),
                         "lever": str(account.leverage(sid)), "liqPx": _s(account.liquidation_price(sid)),
                         "margin": _s(pos.margin), "upl": _s(account.unrealized(sid)), "ccy": "USDT",
                         "posId": sid, "cTime": str(account.venue.now_ms),
                         "uTime": str(account.venue.now_ms)})
    return _ok(rows)


async def _balance(request: web.Request, handler: Any) -> web.StreamResponse:
    """The unified account: the futures wallet's USDT added to the spot USDT (the same balance)."""
    account = request.app[SWAP_ACCOUNT]
    spot: web.Response = await handler(request)
    body = json.loads(spot.text or "{}")
    with account.venue.lock:
        if not account.wallet and not account.used_margin():
            return spot
        unrealized = sum((account.unrealized(s) for s in account.positions), D(0))
        free, used, equity = account.available(), account.used_margin(), account.wallet + unrealized
    details = body["data"][0]["details"]
    usdt = next((d for d in details if d["ccy"] == "USDT"), None)
    if usdt is None:
        usdt = {"ccy": "USDT", "availBal": "0", "frozenBal": "0", "cashBal": "0", "eq": "0"}
        details.append(usdt)
    usdt.update(availBal=_s(D(usdt["availBal"]) + free), frozenBal=_s(D(usdt["frozenBal"]) + used),
                cashBal=_s(D(usdt["cashBal"]) + account.wallet), eq=_s(D(usdt["eq"]) + equity))
    return web.json_response(body)


async def _bills(request: web.Request) -> web.StreamResponse:
    """GET /account/bills-archive: funding bills (type 8), newest first, paged back by ``after``."""
    q = request.query
    limit = int(q.get("limit", "100"))
    if not 1 <= limit <= _PAGE:
        return web.json_response({"code": "51000", "msg": "Parameter limit error", "data": []})
    account = request.app[SWAP_ACCOUNT]
    rows = sorted(request.app[SWAP_BOOK].funding_paid, key=lambda r: -int(r["tranId"]))
    if q.get("type", "8") != "8":
        rows = []
    begin, after = int(q.get("begin", "0")), q.get("after")
    picked = [r for r in rows if r["time"] >= begin and (after is None or int(r["tranId"]) < int(after))]
    return _ok([{"billId": str(r["tranId"]), "instType": "SWAP", "instId": _inst(r["symbol"], account.venue),
                 "ccy": "USDT", "type": "8", "subType": "174" if D(r["income"]) > 0 else "173",
                 "balChg": r["income"], "posBalChg": "0", "mgnMode": _mode(account.book, r["symbol"]),
                 "ts": str(r["time"])} for r in picked[:limit]])


# ── orders ───────────────────────────────────────────────────────────────────────────────────
async def _batch_orders(request: web.Request) -> web.StreamResponse:
    account = request.app[SWAP_ACCOUNT]
    acks = []
    for item in json.loads(await request.text()):
        ack = {"ordId": "", "clOrdId": item.get("clOrdId", ""), "tag": ""}
        if item.get("tdMode") not in ("isolated", "cross"):
            return _fail("51000", "Parameter tdMode error", ack)
        params = {"symbol": _sid(item["instId"]), "side": item["side"].upper(),
                  "type": item["ordType"].upper(),
                  "newClientOrderId": item.get("clOrdId", ""),
                  "reduceOnly": str(item.get("reduceOnly", False)).lower()}
        if item.get("px"):
            params["price"] = item["px"]
        try:
            params["quantity"] = _qty(item.get("sz"))
            order = account.place(params)
        except VenueReject as exc:
            return _reject(exc, ack)
        acks.append({**ack, "ordId": str(order.order_id), "sCode": "0", "sMsg": ""})
    return _ok(acks)


def _find(account: FuturesAccount, inst: str, ord_id: str | None, cl_id: str | None) -> FOrder | None:
    with account.venue.lock:
        for order in sorted(account.orders.values(), key=lambda o: -o.order_id):
            if order.symbol_id != _sid(inst):
                continue
            if (ord_id and str(order.order_id) == ord_id) or (
                    cl_id and order.client_id == cl_id and _owner(account, order) is None):
                return order
    return None


async def _get_order(request: web.Request) -> web.StreamResponse:
    account, q = request.app[SWAP_ACCOUNT], request.query
    order = _find(account, q.get("instId", ""), q.get("ordId"), q.get("clOrdId"))
    if order is None:
        return web.json_response({"code": "51603", "msg": "Order does not exist", "data": []})
    return _ok([_order(account, order)])


async def _pending(request: web.Request) -> web.StreamResponse:
    account, inst = request.app[SWAP_ACCOUNT], request.query.get("instId")
    return _ok([_order(account, o) for o in account.open_orders(_sid(inst) if inst else None)])


async def _cancel(request: web.Request) -> web.StreamResponse:
    account = request.app[SWAP_ACCOUNT]
    body = json.loads(await request.text())
    order = _find(account, body["instId"], body.get("ordId"), body.get("clOrdId"))
    ack = {"ordId": body.get("ordId", ""), "clOrdId": body.get("clOrdId", "")}
    try:
        if order is None:
            raise VenueReject(-2011, "Cancellation failed as the order does not exist.")
        account.cancel(order.symbol_id, str(order.order_id), None)
    except VenueReject as exc:
        return _reject(exc, ack)
    return _ok([{**ack, "ordId": str(order.order_id), "sCode": "0", "sMsg": ""}])


async def _fills(request: web.Request) -> web.StreamResponse:
    account, q = request.app[SWAP_ACCOUNT], request.query
    inst = q.get("instId")
    begin, after, limit = int(q.get("begin", "0")), int(q.get("after", "0")), int(q.get("limit", "100"))
    if not 1 <= limit <= _PAGE:
        return web.json_response({"code": "51000", "msg": "Parameter limit error", "data": []})
    rows = [t for t in account.trades if (inst is None or t.symbol_id == _sid(inst)) and t.time_ms >= begin
            and (not after or t.trade_id < after)]  # the bill id is the trade id here
    rows = sorted(rows, key=lambda t: -t.trade_id)[:limit]
    return _ok([{"instType": "SWAP", "instId": _inst(t.symbol_id, account.venue), "tradeId": str(t.trade_id),
                 "billId": str(t.trade_id),
                 "ordId": str(t.order_id), "clOrdId": _fill_client_id(account, t.order_id),
                 "fillPx": _s(t.price), "fillSz": _contracts(t.qty), "side": t.side.lower(), "posSide": "net",
                 "fee": _s(-t.commission), "feeCcy": "USDT", "fillPnl": _s(t.realized),
                 "execType": "M" if t.maker else "T", "ts": str(t.time_ms)} for t in rows])


def _fill_client_id(account: FuturesAccount, order_id: int) -> str:
    order = account.orders[order_id]
    return "" if _owner(account, order) else order.client_id


# ── conditional (algo) orders ────────────────────────────────────────────────────────────────
async def _new_algo(request: web.Request) -> web.StreamResponse:
    account = request.app[SWAP_ACCOUNT]
    item = json.loads(await request.text())
    ack = {"algoId": "", "algoClOrdId": item.get("algoClOrdId", "")}
    if item.get("tdMode") not in ("isolated", "cross") or item.get("ordType") != "conditional" \
            or not item.get("slTriggerPx") or item.get("slOrdPx") != "-1":
        return _fail("51000", "only market stop-loss conditional orders are faked on swaps", ack)
    if any(a.client_id == ack["algoClOrdId"] for a in account.algos.values()):
        return _fail("51065", "algoClOrdId already exists.", ack)
    try:
        algo = account.place_algo({
            "symbol": _sid(item["instId"]), "side": item["side"].upper(), "type": "STOP_MARKET",
            "algoType": "CONDITIONAL", "quantity": _qty(item.get("sz")), "triggerPrice": item["slTriggerPx"],
            "clientAlgoId": ack["algoClOrdId"], "reduceOnly": str(item.get("reduceOnly", False)).lower()})
    except VenueReject as exc:
        return _reject(exc, ack)
    return _ok([{**ack, "algoId": str(algo.algo_id), "sCode": "0", "sMsg": ""}])


def _find_algo(account: FuturesAccount, algo_id: str | None, cl_id: str | None) -> FAlgo | None:
    try:
        return account.find_algo(algo_id, cl_id)
    except VenueReject:
        return None


async def _get_algo(request: web.Request) -> web.StreamResponse:
    account, q = request.app[SWAP_ACCOUNT], request.query
    algo = _find_algo(account, q.get("algoId"), q.get("algoClOrdId"))
    if algo is None:
        return web.json_response({"code": "51603", "msg": "Order does not exist", "data": []})
    return _ok([_algo(account, algo)])


async def _algo_pending(request: web.Request) -> web.StreamResponse:
    account, q = request.app[SWAP_ACCOUNT], request.query
    if not q.get("ordType"):
        return web.json_response({"code": "50014", "msg": "Parameter ordType can not be empty", "data": []})
    inst = q.get("instId")
    conditional = "conditional" in q["ordType"].split(",")
    return _ok([_algo(account, a) for a in account.open_algos(_sid(inst) if inst else None) if conditional])


async def _cancel_algos(request: web.Request) -> web.StreamResponse:
    account = request.app[SWAP_ACCOUNT]
    acks = []
    for item in json.loads(await request.text()):
        ack = {"algoId": item.get("algoId", ""), "algoClOrdId": item.get("algoClOrdId", "")}
        try:
            algo = account.cancel_algo(item.get("algoId"), item.get("algoClOrdId"))
        except VenueReject as exc:
            return _reject(exc, ack)
        acks.append({"algoId": str(algo.algo_id), "algoClOrdId": algo.client_id, "sCode": "0", "sMsg": ""})
    return _ok(acks)


_SWAP_ROUTES = {
    "GET /api/v5/public/instruments": _instruments, "GET /api/v5/market/ticker": _ticker,
    "POST /api/v5/trade/batch-orders": _batch_orders, "GET /api/v5/trade/order": _get_order,
    "GET /api/v5/trade/orders-pending": _pending, "POST /api/v5/trade/cancel-order": _cancel,
    "GET /api/v5/trade/fills": _fills, "GET /api/v5/trade/fills-history": _fills,
    "POST /api/v5/trade/order-algo": _new_algo, "GET /api/v5/trade/order-algo": _get_algo,
    "GET /api/v5/trade/orders-algo-pending": _algo_pending, "POST /api/v5/trade/cancel-algos": _cancel_algos,
}
_CANDLES = ("/api/v5/market/candles", "/api/v5/market/history-candles")


async def _names_swap(request: web.Request) -> bool:
    """Whether a shared route's request is about a perpetual (a -SWAP instrument or instType SWAP)."""
    if request.query.get("instType") == "SWAP" or request.query.get("instId", "").endswith("-SWAP"):
        return True
    if request.method != "POST":
        return False
    body = json.loads(await request.text() or "{}")
    items = body if isinstance(body, list) else [body]
    return any(str(item.get("instId", "")).endswith("-SWAP") for item in items if isinstance(item, dict))


@web.middleware
async def _swap_dialect(request: web.Request, handler: Any) -> web.StreamResponse:
    route = f"{request.method} {request.path}"
    if request.path in _CANDLES and request.query.get("instId", "").endswith("-SWAP"):
        spot_inst = request.query["instId"].removesuffix("-SWAP")  # the fake has no basis: spot candles
        spot: web.Response = await handler(
            request.clone(rel_url=request.rel_url.update_query(instId=spot_inst)))
        body = json.loads(spot.text or "{}")
        for row in body.get("data", []):  # a swap candle's vol counts contracts, volCcy the base asset
            row[5], row[6] = _s(D(row[5]) / CT_VAL), row[5]
        return web.json_response(body, status=spot.status)
    if route == "GET /api/v5/account/balance":
        return await _balance(request, handler)
    if route in _SWAP_ROUTES and await _names_swap(request):
        return await _SWAP_ROUTES[route](request)
    response = await handler(request)
    return response


def add_okx_swap_routes(app: web.Application, account: FuturesAccount, book: FuturesBook) -> None:
    """Serve OKX's perpetuals from ``app`` (the spot OKX dialect) over ``account`` and its ``book``."""
    app[SWAP_ACCOUNT] = account
    app[SWAP_BOOK] = book
    app.middlewares.append(_swap_dialect)
    app.router.add_post("/api/v5/account/set-leverage", _set_leverage)
    app.router.add_get("/api/v5/account/positions", _positions)
    app.router.add_get("/api/v5/account/config", _config)
    app.router.add_get("/api/v5/account/bills-archive", _bills)
    app.router.add_get("/api/v5/public/position-tiers", _position_tiers)
