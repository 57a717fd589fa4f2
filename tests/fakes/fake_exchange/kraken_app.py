"""aiohttp routes speaking enough of Kraken's spot REST dialect for the real ccxt async client.

Envelope ``{"error": [], "result": ...}``; errors keep HTTP 200 with messages such as
``EOrder:Insufficient funds``, ``EOrder:Unknown order``, ``EAPI:Rate limit exceeded``. Private calls are
POSTs (form body with a nonce) signed with API-Sign = base64(HMAC-SHA512(base64-decoded secret,
path + SHA256(nonce + body))), checked against the test secret. Pairs and assets use Kraken's names
(XBTUSDT, XXBT). ``cl_ord_id`` must be a UUID or at most 18 characters, and is unique among open
orders; fees are charged in the quote currency. Order types: market, limit, stop-loss, take-profit and
their -limit forms (``price`` is the trigger, ``price2`` the limit). A conditional close
(``close[ordertype]=stop-loss``, ``close[price]``) rides on an order: once it fills, the venue places the
stop-loss itself, without a ``cl_ord_id``, its ``refid`` the entry's txid (attached.py). State and
matching are FakeVenue's.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.fake_exchange.attached import ATTACHED, AttachedOrders, Bracket
from tests.fakes.fake_exchange.binance_app import FAULTS, REQUESTS, VENUE, Handler
from tests.fakes.fake_exchange.candles import select
from tests.fakes.fake_exchange.faults import FaultKind, FaultPlan
from tests.fakes.fake_exchange.venue import OPEN_STATUSES, FakeOrder, FakeTrade, FakeVenue, VenueReject

KRAKEN_KEY = "kraken-test-key"
KRAKEN_SECRET = base64.b64encode(b"kraken-test-secret").decode()
_ASSETS = {"BTC": "XXBT", "ETH": "XETH"}  # others (USDT) keep their code
_PAIR_BASE = {"BTC": "XBT"}
_TYPES = {"market": "MARKET", "limit": "LIMIT", "stop-loss": "STOP_LOSS", "take-profit": "TAKE_PROFIT",
          "stop-loss-limit": "STOP_LOSS_LIMIT", "take-profit-limit": "TAKE_PROFIT_LIMIT"}
_NAMES = {v: k for k, v in _TYPES.items()} | {"LIMIT_MAKER": "limit"}
_MESSAGES = {-2010: "EOrder:Insufficient funds", -2011: "EOrder:Unknown order", -2013: "EOrder:Unknown order",
             -1013: "EOrder:Order minimum not met", -1121: "EQuery:Unknown asset pair"}
_CLIENT_ID = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9]{1,18})$")


def _pair(base: str, quote: str) -> str:
    return _PAIR_BASE.get(base, base) + quote


def _s(value: Decimal | None) -> str:
    return "0" if value is None else f"{value:f}"


def _ok(result: Any) -> web.Response:
    return web.json_response({"error": [], "result": result})


def _fail(message: str) -> web.Response:
    return web.json_response({"error": [message]})


def txid(order_id: int) -> str:
    """Return the Kraken-style transaction id of a FakeVenue order id."""
    return f"O{order_id}-KRAKN-FAKEID"


def _sid(venue: FakeVenue, pair: str) -> str:
    for market in venue.markets.values():
        if pair in (_pair(market.base, market.quote), market.symbol_id):
            return market.symbol_id
    raise VenueReject(-1121, "Unknown pair")


def _descr(side: str, qty: str, pair: str, kind: str, price: str, price2: str | None) -> str:
    """Return Kraken's order description, e.g. "sell 0.01 XBTUSDT @ stop loss 48000 -> limit 47900"."""
    words = kind.replace("-limit", "").replace("-", " ")
    text = f"{side} {qty} {pair} @ {words}" + (f" {price}" if kind != "market" else "")
    return text + (f" -> limit {price2}" if price2 is not None else "")


def order_json(venue: FakeVenue, order: FakeOrder, attached: AttachedOrders | None = None
               ) -> dict[str, Any]:
    """Render one order like QueryOrders/OpenOrders/ClosedOrders."""
    parent = attached.parent(order) if attached is not None else None
    market = venue.markets[order.symbol_id]
    trigger = order.type in ("STOP_LOSS", "TAKE_PROFIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
    price = order.stop_price if trigger else order.price
    price2 = order.price if trigger and order.price is not None else None
    status = {"NEW": "open", "PARTIALLY_FILLED": "open", "FILLED": "closed"}.get(order.status, "canceled")
    trades = [t for t in venue.trades if t.order_id == order.order_id]
    return {
        "refid": txid(parent.order_id) if parent is not None else None, "userref": 0,
        "cl_ord_id": order.client_id, "status": status,
        "opentm": order.time_ms / 1000, "closetm": order.update_ms / 1000 if status != "open" else 0,
        "starttm": 0, "expiretm": 0,
        "descr": {"pair": _pair(market.base, market.quote), "type": order.side.lower(),
                  "ordertype": _NAMES[order.type], "price": _s(price), "price2": _s(price2),
                  "leverage": "none", "close": "",
                  "order": _descr(order.side.lower(), _s(order.qty), _pair(market.base, market.quote),
                                  _NAMES[order.type], _s(price), _s(price2) if price2 is not None else None)},
        "vol": _s(order.qty), "vol_exec": _s(order.executed), "cost": _s(order.cum_quote),
        "fee": _s(sum((t.commission for t in trades), Decimal(0))),
        "price": _s(order.cum_quote / order.executed if order.executed else None),
        "stopprice": "0", "limitprice": "0", "misc": "", "oflags": "fciq",
        "trades": [f"T{t.trade_id}-KRAKN-FAKEID" for t in trades],
    }


def trade_json(venue: FakeVenue, trade: FakeTrade, order: FakeOrder) -> dict[str, Any]:
    """Render one execution like TradesHistory."""
    market = venue.markets[trade.symbol_id]
    return {"ordertxid": txid(trade.order_id), "postxid": "PFAKE-KRAKN-FAKEID",
            "pair": _pair(market.base, market.quote), "time": trade.time_ms / 1000,
            "type": trade.side.lower(), "ordertype": _NAMES[order.type], "price": _s(trade.price),
            "cost": _s(trade.price * trade.qty), "fee": _s(trade.commission), "vol": _s(trade.qty),
            "margin": "0", "misc": "", "maker": trade.is_maker}


# ── public ────────────────────────────────────────────────────────────────────────────────────────
async def _time(request: web.Request) -> web.StreamResponse:
    return _ok({"unixtime": request.app[VENUE].now_ms // 1000, "rfc1123": ""})


async def _asset_pairs(request: web.Request) -> web.StreamResponse:
    result = {}
    for m in request.app[VENUE].markets.values():
        pair = _pair(m.base, m.quote)
        result[pair] = {
            "altname": pair, "wsname": f"{_PAIR_BASE.get(m.base, m.base)}/{m.quote}",
            "aclass_base": "currency",
            "base": _ASSETS.get(m.base, m.base), "aclass_quote": "currency", "quote": m.quote, "lot": "unit",
            "cost_decimals": 8, "pair_decimals": -m.tick_size.as_tuple().exponent,  # type: ignore[operator]
            "lot_decimals": -m.step_size.as_tuple().exponent, "lot_multiplier": 1,  # type: ignore[operator]
            "leverage_buy": [], "leverage_sell": [], "fees": [[0, 0.1]], "fees_maker": [[0, 0.1]],
            "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40, "ordermin": _s(m.min_qty),
            "costmin": _s(m.min_notional), "tick_size": _s(m.tick_size), "status": "online"}
    return _ok(result)


async def _ticker(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    pair = request.query.get("pair", "")
    m = venue.market(_sid(venue, pair))
    p = _s(m.price)
    ask, bid = _s(m.price + m.tick_size), _s(m.price - m.tick_size)
    return _ok({pair: {"a": [ask, "1", "1.000"], "b": [bid, "1", "1.000"],
                       "c": [p, "0.1"], "v": ["1", "1"], "p": [p, p], "t": [1, 1], "l": [p, p], "h": [p, p],
                       "o": p}})


async def _depth(request: web.Request) -> web.StreamResponse:
    venue = request.app[VENUE]
    pair = request.query.get("pair", "")
    m = venue.market(_sid(venue, pair))
    now = venue.now_ms // 1000
    return _ok({pair: {"asks": [[_s(m.price + m.tick_size), "10", now]],
                       "bids": [[_s(m.price - m.tick_size), "10", now]]}})


async def _ohlc(request: web.Request) -> web.StreamResponse:
    q = request.query
    venue = request.app[VENUE]
    pair = q.get("pair", "")
    market = venue.market(_sid(venue, pair))
    rows = market.candles.get({"1": "1m", "60": "1h"}.get(q.get("interval", "1"), ""))
    if rows is None:
        return _fail("EGeneral:Invalid arguments")
    since = int(q["since"]) * 1000 if "since" in q else None
    picked = select(rows, since, None, 720)
    body = [[r[0] // 1000, r[1], r[2], r[3], r[4], r[4], r[5], 1] for r in picked]
    return _ok({pair: body, "last": picked[-1][0] // 1000 if picked else 0})


# ── private ───────────────────────────────────────────────────────────────────────────────────────
async def _balance(request: web.Request, form: dict[str, str]) -> Any:
    return {_ASSETS.get(a, a): {"balance": _s(f + lk), "hold_trade": _s(lk)}
            for a, f, lk in request.app[VENUE].balances()}


async def _add_order(request: web.Request, form: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    kind = _TYPES.get(form.get("ordertype", ""))
    if kind is None or form.get("close[ordertype]", "stop-loss") != "stop-loss":
        raise VenueReject(-1116, "EGeneral:Invalid arguments:ordertype")  # only stop-loss closes faked
    client_id = form.get("cl_ord_id", "")
    if client_id and not _CLIENT_ID.match(client_id):
        raise VenueReject(-1116, "EGeneral:Invalid arguments:cl_ord_id")
    params = {"symbol": _sid(venue, form.get("pair", "")), "side": form.get("type", "").upper(), "type": kind,
              "quantity": form.get("volume", ""), "newClientOrderId": client_id}
    if kind in ("STOP_LOSS", "TAKE_PROFIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
        params["stopPrice"] = form.get("price", "")
        if kind.endswith("_LIMIT"):
            params["price"] = form.get("price2", "")
    elif kind == "LIMIT":
        params["price"] = form.get("price", "")
    close = form.get("close[price]")
    with venue.lock:
        order = venue.place(params)
        if close is not None:
            request.app[ATTACHED].attach(order, Bracket(Decimal(close)))
    text = _descr(form.get("type", ""), form.get("volume", ""), form.get("pair", ""),
                  form.get("ordertype", ""), form.get("price", ""), form.get("price2"))
    return {"descr": {"order": text}, "txid": [txid(order.order_id)]}


def _by_client_id(venue: FakeVenue, client_id: str, orders: list[FakeOrder]) -> list[FakeOrder]:
    return [o for o in orders if not client_id or o.client_id == client_id]


async def _open_orders(request: web.Request, form: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    orders = _by_client_id(venue, form.get("cl_ord_id", ""), venue.open_orders(None))
    return {"open": {txid(o.order_id): order_json(venue, o, request.app[ATTACHED]) for o in orders}}


async def _closed_orders(request: web.Request, form: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    closed = [o for o in venue.all_orders() if o.status not in OPEN_STATUSES]
    orders = _by_client_id(venue, form.get("cl_ord_id", ""), closed)
    return {"closed": {txid(o.order_id): order_json(venue, o, request.app[ATTACHED])
                       for o in reversed(orders[-50:])},
            "count": len(orders)}


async def _query_orders(request: web.Request, form: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    wanted = set(form.get("txid", "").split(","))
    return {txid(o.order_id): order_json(venue, o, request.app[ATTACHED]) for o in venue.all_orders()
            if txid(o.order_id) in wanted}


async def _cancel_order(request: web.Request, form: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    client_id = form.get("cl_ord_id")
    target = next((o for o in venue.open_orders(None)
                   if (client_id and o.client_id == client_id) or txid(o.order_id) == form.get("txid")), None)
    if target is None:
        raise VenueReject(-2011, "EOrder:Unknown order")
    venue.cancel(target.symbol_id, str(target.order_id), None)
    return {"count": 1}


async def _trades_history(request: web.Request, form: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    start = int(float(form.get("start", "0")) * 1000)
    orders = {o.order_id: o for o in venue.all_orders()}
    trades = [t for t in venue.trades if t.time_ms > start]
    offset = int(form.get("ofs", "0"))
    page = list(reversed(trades))[offset:offset + 50]  # newest first, 50 a page
    return {"trades": {f"T{t.trade_id}-KRAKN-FAKEID": trade_json(venue, t, orders[t.order_id]) for t in page},
            "count": len(trades)}


def _private(func: Any) -> Handler:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        body = await request.text()
        form = dict(parse_qsl(body))
        digest = hashlib.sha256((form.get("nonce", "") + body).encode()).digest()
        expected = base64.b64encode(hmac.new(base64.b64decode(KRAKEN_SECRET), request.path.encode() + digest,
                                             hashlib.sha512).digest()).decode()
        if request.headers.get("API-Key") != KRAKEN_KEY or not hmac.compare_digest(
                expected, request.headers.get("API-Sign", "")):
            return _fail("EAPI:Invalid key")
        return _ok(await func(request, form))

    return wrapper


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log, apply a queued fault, and map FakeVenue rejections to Kraken error strings."""
    route = f"{request.method} {request.path}"
    request.app[REQUESTS].append(route)
    fault = request.app[FAULTS].take(route)
    if fault is not None and fault.kind is FaultKind.RATE_LIMIT:
        return _fail("EAPI:Rate limit exceeded")
    if fault is not None and fault.kind is FaultKind.SERVER_ERROR:
        return web.Response(text="<html>Service Unavailable</html>", status=fault.status,
                            content_type="text/html")
    if fault is not None and fault.kind is FaultKind.TIMEOUT:
        await asyncio.sleep(fault.delay)
        return web.Response(text="Gateway Timeout", status=504)
    if fault is not None and fault.kind is FaultKind.ERROR:
        return _fail(fault.msg)
    try:
        response = await handler(request)
    except VenueReject as exc:
        if exc.msg.startswith("E"):
            return _fail(exc.msg)
        if "duplicate" in exc.msg.lower():  # our guess at Kraken's wording for a reused open cl_ord_id
            return _fail("EOrder:Duplicate order")
        return _fail(_MESSAGES.get(exc.code, "EGeneral:Invalid arguments"))
    if fault is not None:  # DROP_AFTER_ACCEPT: the work is done but the client never hears of it
        assert request.transport is not None
        request.transport.close()
    return response


def build_kraken_app(venue: FakeVenue, faults: FaultPlan) -> web.Application:
    """Return the aiohttp application serving ``venue`` in Kraken's dialect with ``faults`` applied."""
    venue.fee_in_quote = True
    app = web.Application(middlewares=[_middleware])
    app[VENUE] = venue
    app[FAULTS] = faults
    app[REQUESTS] = []
    app[ATTACHED] = AttachedOrders(venue)
    for path, handler in (("Time", _time), ("AssetPairs", _asset_pairs), ("Ticker", _ticker),
                          ("Depth", _depth), ("OHLC", _ohlc)):
        app.router.add_get(f"/0/public/{path}", handler)
    for path, private in (("BalanceEx", _balance), ("AddOrder", _add_order), ("OpenOrders", _open_orders),
                          ("ClosedOrders", _closed_orders), ("QueryOrders", _query_orders),
                          ("CancelOrder", _cancel_order), ("TradesHistory", _trades_history)):
        app.router.add_post(f"/0/private/{path}", _private(private))
    return app
