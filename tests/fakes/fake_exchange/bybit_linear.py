"""Bybit v5 linear perpetuals (``category=linear``, USDT-margined) for the fake venue, over the same
``FuturesAccount`` the Binance USDⓈ-M and OKX swap dialects use (one-way positions, isolated margin,
conditional orders, funding).

What ccxt 4.5's bybit client sends for a ``BTC/USDT:USDT`` swap on a unified (UTA) account (checked
against the installed source): markets → ``GET /v5/market/instruments-info?category=linear`` (and
``status=PreLaunch``; ``lotSizeFilter.qtyStep`` in base units, contract size 1, ``leverageFilter``);
tiers → ``GET /v5/market/risk-limit``; ``set_margin_mode`` → ``POST /v5/account/set-margin-mode``
(``setMarginMode`` ISOLATED_MARGIN / REGULAR_MARGIN: account-wide, every perpetual at once; a classic
account's per-symbol ``/v5/position/switch-isolated`` is not used on UTA and not faked);
``set_leverage`` → ``POST /v5/position/set-leverage`` (``buyLeverage`` = ``sellLeverage``; retCode
110043 "leverage not modified" when unchanged, which ccxt raises as BadRequest); orders →
``POST /v5/order/create`` (a stop: ``triggerPrice``, ``triggerDirection`` 1 rise / 2 fall,
``reduceOnly``), ``/v5/order/realtime``, ``/v5/order/cancel`` (bybit_linear_orders.py); positions →
``GET /v5/position/list`` (``side`` Buy/Sell with an unsigned ``size``, ``liqPrice``, ``markPrice``);
the wallet → ``GET /v5/account/wallet-balance?accountType=UNIFIED`` (one USDT balance for spot and
swaps); trades and funding → ``GET /v5/execution/list`` (``execType`` Trade / Funding, newest first,
at most 7 days per request, cursor paged). The routes are shared with the spot dialect (its middleware
applies faults and checks signatures first); a middleware answers the ``category=linear`` requests
here and passes the rest on.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange import bybit_linear_orders as orders
from tests.fakes.fake_exchange.bybit_linear_orders import fail, ok, s
from tests.fakes.fake_exchange.fapi_account import MIN_NOTIONAL, STEP, FuturesAccount
from tests.fakes.fake_exchange.fapi_app import BRACKETS, FuturesBook

D = Decimal
LINEAR_ACCOUNT = web.AppKey("bybit_linear_account", FuturesAccount)
MAX_LEVERAGE = 100  # Bybit's BTCUSDT limit (the fake's first margin tier allows more)
_MODES = {"ISOLATED_MARGIN": "ISOLATED", "REGULAR_MARGIN": "CROSSED"}


def _book(account: FuturesAccount) -> FuturesBook:
    return account.book


# ── market data ─────────────────────────────────────────────────────────────────────────────
async def _instruments(request: web.Request, account: FuturesAccount) -> web.StreamResponse:
    venue, q = account.venue, request.query
    if q.get("cursor") or q.get("status") == "PreLaunch":  # one page, nothing pre-launch
        return ok({"category": "linear", "list": []}, venue.now_ms)
    rows = [{"symbol": m.symbol_id, "contractType": "LinearPerpetual", "status": "Trading",
             "baseCoin": m.base, "quoteCoin": m.quote, "settleCoin": m.quote, "launchTime": "1585526400000",
             "deliveryTime": "0", "deliveryFeeRate": "", "priceScale": "2", "fundingInterval": 480,
             "leverageFilter": {"minLeverage": "1", "maxLeverage": f"{MAX_LEVERAGE}.00",
                                "leverageStep": "0.01"},
             "priceFilter": {"minPrice": s(m.tick_size), "maxPrice": "1999999.80",
                             "tickSize": s(m.tick_size)},
             "lotSizeFilter": {"maxOrderQty": "1190", "minOrderQty": s(STEP), "qtyStep": s(STEP),
                               "postOnlyMaxOrderQty": "1190", "maxMktOrderQty": "119",
                               "minNotionalValue": s(MIN_NOTIONAL)},
             "unifiedMarginTrade": True, "copyTrading": "both", "upperFundingRate": "0.005",
             "lowerFundingRate": "-0.005", "isPreListing": False}
            for m in venue.markets.values()]
    return ok({"category": "linear", "list": rows}, venue.now_ms)  # no cursor: the last page


async def _risk_limit(request: web.Request, account: FuturesAccount) -> web.StreamResponse:
    """GET /v5/market/risk-limit: the maintenance-margin tiers (the fake's Binance brackets)."""
    rows = [{"id": i + 1, "symbol": m.symbol_id, "riskLimitValue": str(cap), "maintenanceMargin": rate,
             "initialMargin": s(D(1) / lev), "isLowestRisk": int(i == 0), "maxLeverage": f"{lev}.00",
             "mmDeduction": cum}
            for m in account.venue.markets.values() for i, (_, cap, lev, rate, cum) in enumerate(BRACKETS)]
    return ok({"category": "linear", "list": rows}, account.venue.now_ms)


# ── settings ────────────────────────────────────────────────────────────────────────────────
async def _set_leverage(request: web.Request) -> web.StreamResponse:
    account = request.app[LINEAR_ACCOUNT]
    body = await orders.body_of(request)
    if body.get("category") != "linear" or body.get("buyLeverage") != body.get("sellLeverage"):
        return fail(10001, "params error: category / buyLeverage must equal sellLeverage in one-way mode")
    with account.venue.lock:
        sid = account.venue.market(str(body.get("symbol", ""))).symbol_id
        lever = int(D(str(body.get("buyLeverage", "0"))))
        if not 1 <= lever <= MAX_LEVERAGE:
            return fail(10001, f"leverage invalid: {body.get('buyLeverage')}")
        if account.leverage(sid) == lever:
            return fail(110043, "leverage not modified")
        account.book.leverage[sid] = lever
        account.book.setting_changes.append(f"{sid} leverage {lever}")
    return ok({}, account.venue.now_ms)


async def _set_margin_mode(request: web.Request) -> web.StreamResponse:
    """POST /v5/account/set-margin-mode: the unified account's margin mode, for every perpetual."""
    account = request.app[LINEAR_ACCOUNT]
    wanted = _MODES.get(str((await orders.body_of(request)).get("setMarginMode")))
    if wanted is None:
        return fail(10001, "setMarginMode invalid (ISOLATED_MARGIN, REGULAR_MARGIN are faked)")
    book = _book(account)
    with account.venue.lock:
        current = {book.margin_type.get(sid, "CROSSED") for sid in account.venue.markets}
        if current != {wanted}:
            for sid in account.venue.markets:
                book.margin_type[sid] = wanted
            book.setting_changes.append(f"account {wanted}")
    return ok({"reasons": []}, account.venue.now_ms)


# ── account ─────────────────────────────────────────────────────────────────────────────────
def _flat(sid: str, idx: int, mark: Decimal, lever: int) -> dict[str, Any]:
    """A position row of size 0: what a one-symbol query lists for a symbol without a position."""
    return {"symbol": sid, "side": "", "size": "0", "avgPrice": "0", "positionValue": "0",
            "markPrice": s(mark), "leverage": str(lever), "liqPrice": "", "bustPrice": "", "positionIM": "0",
            "positionMM": "0",
            "unrealisedPnl": "0", "cumRealisedPnl": "0", "tradeMode": 0, "positionIdx": idx,
            "positionStatus": "Normal", "autoAddMargin": 0, "riskId": 1, "takeProfit": "", "stopLoss": "",
            "trailingStop": "0", "createdTime": "0", "updatedTime": "0", "seq": 1, "isReduceOnly": False}


async def _positions(request: web.Request) -> web.StreamResponse:
    """GET /v5/position/list: the open positions (settleCoin), or one symbol's rows even when flat (as
    Bybit lists them: one ``positionIdx`` 0 row one-way, a 1 and a 2 row in hedge mode)."""
    account, q = request.app[LINEAR_ACCOUNT], request.query
    if q.get("category") != "linear" or not (q.get("symbol") or q.get("settleCoin")):
        return fail(10001, "symbol or settleCoin is required")
    rows = []
    with account.venue.lock:
        held = account.positions.get(q.get("symbol", ""))
        if q.get("symbol") and not (held and held.qty):
            sid = account.venue.market(q["symbol"]).symbol_id
            mark, lever = account.venue.market(sid).price, account.leverage(sid)
            sides = (1, 2) if account.book.hedge_mode else (0,)
            rows = [_flat(sid, idx, mark, lever) for idx in sides]
        for sid, pos in account.positions.items():
            if not pos.qty or q.get("symbol", sid) != sid:
                continue
            mark = account.venue.market(sid).price
            isolated = account.book.margin_type.get(sid) == "ISOLATED"
            rows.append({"symbol": sid, "side": "Buy" if pos.qty > 0 else "Sell", "size": s(abs(pos.qty)),
                         "avgPrice": s(pos.entry), "positionValue": s(abs(pos.qty) * pos.entry),
                         "markPrice": s(mark), "leverage": str(account.leverage(sid)),
                         "liqPrice": s(account.liquidation_price(sid)), "bustPrice": "",
                         "positionIM": s(pos.margin), "positionMM": "",
                         "unrealisedPnl": s(account.unrealized(sid)),
                         "cumRealisedPnl": "0", "tradeMode": 1 if isolated else 0, "positionIdx": 0,
                         "positionStatus": "Normal", "autoAddMargin": 0, "riskId": 1, "takeProfit": "",
                         "stopLoss": "", "trailingStop": "0", "createdTime": str(account.venue.now_ms),
                         "updatedTime": str(account.venue.now_ms), "seq": 1, "isReduceOnly": False})
    return ok({"category": "linear", "list": rows, "nextPageCursor": ""}, account.venue.now_ms)


async def _wallet(request: web.Request, handler: Any, account: FuturesAccount) -> web.StreamResponse:
    """The unified account: the futures wallet's USDT added to the spot USDT (the same balance)."""
    spot: web.Response = await handler(request)
    body = json.loads(spot.text or "{}")
    with account.venue.lock:
        if not account.wallet and not account.used_margin():
            return spot
        unrealized = sum((account.unrealized(sid) for sid in account.positions), D(0))
        wallet, used = account.wallet, account.used_margin()
    coins = body["result"]["list"][0]["coin"]
    usdt = next((c for c in coins if c["coin"] == "USDT"), None)
    if usdt is None:
        usdt = {"coin": "USDT", "walletBalance": "0", "locked": "0", "equity": "0", "totalOrderIM": "0",
                "totalPositionIM": "0"}
        coins.append(usdt)
    usdt.update(walletBalance=s(D(usdt["walletBalance"]) + wallet),
                equity=s(D(usdt["equity"]) + wallet + unrealized), unrealisedPnl=s(unrealized),
                totalPositionIM=s(D(usdt["totalPositionIM"]) + used),
                availableToWithdraw="")  # deprecated for UNIFIED: empty (/v5/account/withdrawal instead)
    # The account-wide fields (USD; the fake's USDT is $1): cross margin only, "" in isolated margin
    margin = D(usdt["walletBalance"]) + unrealized
    initial = D(usdt["totalPositionIM"]) + D(usdt["totalOrderIM"]) + D(usdt["locked"])
    isolated = "ISOLATED" in account.book.margin_type.values()
    body["result"]["list"][0].update(
        totalWalletBalance=usdt["walletBalance"], totalPerpUPL=s(unrealized), totalEquity=usdt["equity"],
        totalMarginBalance="" if isolated else s(margin), totalInitialMargin="" if isolated else s(initial),
        totalAvailableBalance="" if isolated else s(margin - initial))
    return web.json_response(body)


# ── dispatch ────────────────────────────────────────────────────────────────────────────────
_LINEAR_GET = {"/v5/market/instruments-info": _instruments, "/v5/market/risk-limit": _risk_limit,
               "/v5/order/realtime": orders.realtime, "/v5/execution/list": orders.executions}
_LINEAR_POST = {"/v5/order/create": orders.create, "/v5/order/cancel": orders.cancel}


@web.middleware
async def _linear_dialect(request: web.Request, handler: Any) -> web.StreamResponse:
    account = request.app[LINEAR_ACCOUNT]
    if request.method == "GET" and request.path == "/v5/account/wallet-balance":
        return await _wallet(request, handler, account)
    if request.method == "GET" and request.path == "/v5/user/query-api" and account.book.classic_account:
        return ok({"unified": 0, "uta": 0, "readOnly": 0, "permissions": {"ContractTrade": ["Order"]}},
                  account.venue.now_ms)
    if request.method == "GET" and request.path == "/v5/market/risk-limit":
        return await _risk_limit(request, account)
    if request.method == "GET" and request.query.get("category") == "linear" and request.path in _LINEAR_GET:
        return await _LINEAR_GET[request.path](request, account)
    if request.method == "POST" and request.path in _LINEAR_POST:
        body = await orders.body_of(request)
        if body.get("category") == "linear":
            return await _LINEAR_POST[request.path](request, account, body)
    response: web.StreamResponse = await handler(request)
    return response


async def _unreachable(request: web.Request) -> web.StreamResponse:
    return fail(10001, "not faked")


def add_bybit_linear_routes(app: web.Application, account: FuturesAccount) -> None:
    """Serve Bybit's linear perpetuals from ``app`` (the spot Bybit dialect) over ``account``."""
    app[LINEAR_ACCOUNT] = account
    app.middlewares.append(_linear_dialect)
    app.router.add_post("/v5/position/set-leverage", _set_leverage)
    app.router.add_post("/v5/account/set-margin-mode", _set_margin_mode)
    app.router.add_get("/v5/position/list", _positions)
    app.router.add_get("/v5/market/risk-limit", _unreachable)  # answered by the middleware
