"""Binance USDⓈ-M order, position and wallet routes for the fake venue, over ``FuturesAccount``.

What ccxt 4.5's binance client sends for a linear perpetual (checked against the installed source):
market/limit orders → ``/fapi/v1/order`` (POST/GET/DELETE); conditional orders (``stopLossPrice``,
``takeProfitPrice``, ``triggerPrice``) → the algo API ``/fapi/v1/algoOrder`` (POST/GET/DELETE,
``clientAlgoId``, ``triggerPrice``); ``fetch_open_orders`` → ``/fapi/v1/openOrders`` and, with
``trigger``, ``/fapi/v1/openAlgoOrders``; ``fetch_orders`` with ``trigger`` →
``/fapi/v1/allAlgoOrders``; ``fetch_my_trades`` → ``/fapi/v1/userTrades``; ``fetch_balance`` →
``/fapi/v3/account``; ``fetch_positions`` → ``/fapi/v3/positionRisk``; candles and ticker →
``/fapi/v1/klines`` and ``/fapi/v1/ticker/24hr`` (the spot prices: the fake has no basis).
Served by the same application as the spot dialect, so the same fault middleware applies.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange.binance_app import VENUE, _s, _signed, klines, server_time, ticker
from tests.fakes.fake_exchange.fapi_account import FAlgo, FOrder, FTrade, FuturesAccount

ACCOUNT = web.AppKey("futures_account", FuturesAccount)


def order_json(order: FOrder) -> dict[str, Any]:
    """Render a regular futures order as /fapi/v1/order does (RESULT response)."""
    return {
        "orderId": order.order_id, "symbol": order.symbol_id, "status": order.status,
        "clientOrderId": order.client_id, "price": _s(order.price), "avgPrice": _s(order.avg_price),
        "origQty": _s(order.qty), "executedQty": _s(order.executed), "cumQty": _s(order.executed),
        "cumQuote": _s(order.cum_quote), "timeInForce": "GTC", "type": order.type, "origType": order.type,
        "reduceOnly": order.reduce_only, "closePosition": False, "side": order.side, "positionSide": "BOTH",
        "stopPrice": "0", "workingType": "CONTRACT_PRICE", "priceProtect": False,
        "priceMatch": "NONE", "selfTradePreventionMode": "NONE", "goodTillDate": 0,
        "time": order.time_ms, "updateTime": order.update_ms,
    }


def algo_json(algo: FAlgo, child: FOrder | None = None) -> dict[str, Any]:
    """Render a conditional order as /fapi/v1/algoOrder does; a triggered one carries its order's fill."""
    return {
        "executedQty": _s(child.executed if child else None),
        "avgPrice": _s(child.avg_price if child else None),
        "algoId": algo.algo_id, "clientAlgoId": algo.client_id, "algoType": "CONDITIONAL",
        "orderType": algo.type, "symbol": algo.symbol_id, "side": algo.side, "positionSide": "BOTH",
        "timeInForce": "GTC", "quantity": _s(algo.qty), "algoStatus": algo.status,
        "actualOrderId": str(algo.actual_order_id or ""), "triggerPrice": _s(algo.trigger), "price": "0",
        "icebergQuantity": None, "selfTradePreventionMode": "NONE", "workingType": "CONTRACT_PRICE",
        "priceMatch": "NONE", "closePosition": algo.close_position, "priceProtect": False,
        "reduceOnly": algo.reduce_only, "createTime": algo.time_ms, "updateTime": algo.update_ms,
        "triggerTime": algo.update_ms if algo.status == "FINISHED" else 0, "goodTillDate": 0,
    }


def trade_json(trade: FTrade) -> dict[str, Any]:
    """Render one execution as /fapi/v1/userTrades does."""
    return {
        "symbol": trade.symbol_id, "id": trade.trade_id, "orderId": trade.order_id, "side": trade.side,
        "price": _s(trade.price), "qty": _s(trade.qty), "realizedPnl": _s(trade.realized),
        "quoteQty": _s(trade.price * trade.qty), "commission": _s(trade.commission),
        "commissionAsset": "USDT", "time": trade.time_ms, "positionSide": "BOTH",
        "buyer": trade.side == "BUY", "maker": trade.maker,
    }


def _position_rows(account: FuturesAccount, symbol: str | None) -> list[dict[str, Any]]:
    rows = []
    for sid, pos in sorted(account.positions.items()):
        if pos.qty == 0 or symbol not in (None, sid):
            continue
        mark = account.venue.market(sid).price
        margin_type = account.book.margin_type.get(sid, "CROSSED").lower()
        rows.append({
            "symbol": sid, "positionSide": "BOTH", "positionAmt": _s(pos.qty), "entryPrice": _s(pos.entry),
            "breakEvenPrice": _s(pos.entry), "markPrice": _s(mark),
            "unRealizedProfit": _s(account.unrealized(sid)),
            "liquidationPrice": _s(account.liquidation_price(sid)),
            "isolatedMargin": _s(pos.margin if margin_type == "isolated" else None),
            "notional": _s(pos.qty * mark), "marginAsset": "USDT",
            "isolatedWallet": _s(pos.margin if margin_type == "isolated" else None),
            "initialMargin": _s(pos.margin), "maintMargin": "0", "positionInitialMargin": _s(pos.margin),
            "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0",
            "leverage": str(account.leverage(sid)), "marginType": margin_type,
            "updateTime": account.venue.now_ms,
        })
    return rows


async def _new_order(request: web.Request, params: dict[str, str]) -> Any:
    return order_json(request.app[ACCOUNT].place(params))


async def _get_order(request: web.Request, params: dict[str, str]) -> Any:
    return order_json(request.app[ACCOUNT].find(params.get("symbol", ""), params.get("orderId"),
                                                params.get("origClientOrderId")))


async def _cancel_order(request: web.Request, params: dict[str, str]) -> Any:
    return order_json(request.app[ACCOUNT].cancel(params.get("symbol", ""), params.get("orderId"),
                                                  params.get("origClientOrderId")))


async def _open_orders(request: web.Request, params: dict[str, str]) -> Any:
    return [order_json(o) for o in request.app[ACCOUNT].open_orders(params.get("symbol"))]


async def _new_algo(request: web.Request, params: dict[str, str]) -> Any:
    return algo_json(request.app[ACCOUNT].place_algo(params))


async def _get_algo(request: web.Request, params: dict[str, str]) -> Any:
    account = request.app[ACCOUNT]
    algo = account.find_algo(params.get("algoId"), params.get("clientAlgoId"))
    return algo_json(algo, account.orders.get(algo.actual_order_id or 0))


async def _cancel_algo(request: web.Request, params: dict[str, str]) -> Any:
    algo = request.app[ACCOUNT].cancel_algo(params.get("algoId"), params.get("clientAlgoId"))
    return {"algoId": algo.algo_id, "clientAlgoId": algo.client_id, "code": "200", "msg": "success"}


async def _open_algos(request: web.Request, params: dict[str, str]) -> Any:
    return [algo_json(a) for a in request.app[ACCOUNT].open_algos(params.get("symbol"))]


async def _all_algos(request: web.Request, params: dict[str, str]) -> Any:
    account = request.app[ACCOUNT]
    sid = request.app[VENUE].market(params.get("symbol", "")).symbol_id
    start = int(params.get("startTime", "0"))
    with account.venue.lock:
        algos = [a for a in account.algos.values() if a.symbol_id == sid and a.time_ms >= start]
        return [algo_json(a, account.orders.get(a.actual_order_id or 0)) for a in algos]


async def _user_trades(request: web.Request, params: dict[str, str]) -> Any:
    account = request.app[ACCOUNT]
    sid = request.app[VENUE].market(params.get("symbol", "")).symbol_id
    end = int(params["endTime"]) if "endTime" in params else None
    trades = account.user_trades(sid, int(params.get("startTime", "0")), end)
    return [trade_json(t) for t in trades[: int(params.get("limit", "500"))]]


async def _account(request: web.Request, params: dict[str, str]) -> Any:
    account = request.app[ACCOUNT]
    with account.venue.lock:
        unrealized = sum((account.unrealized(s) for s in account.positions), start=account.wallet * 0)
        used, free = account.used_margin(), account.available()
        asset = {"asset": "USDT", "walletBalance": _s(account.wallet), "unrealizedProfit": _s(unrealized),
                 "marginBalance": _s(account.wallet + unrealized), "maintMargin": "0",
                 "initialMargin": _s(used), "positionInitialMargin": _s(used), "openOrderInitialMargin": "0",
                 "crossWalletBalance": _s(account.wallet), "crossUnPnl": _s(unrealized),
                 "availableBalance": _s(free), "maxWithdrawAmount": _s(free),
                 "updateTime": account.venue.now_ms}
        return {"totalInitialMargin": _s(used), "totalMaintMargin": "0",
                "totalWalletBalance": _s(account.wallet), "totalUnrealizedProfit": _s(unrealized),
                "totalMarginBalance": _s(account.wallet + unrealized),
                "availableBalance": _s(free), "maxWithdrawAmount": _s(free), "assets": [asset],
                "positions": _position_rows(account, None)}


async def _position_risk(request: web.Request, params: dict[str, str]) -> Any:
    return _position_rows(request.app[ACCOUNT], params.get("symbol"))


def add_order_routes(app: web.Application, account: FuturesAccount) -> None:
    """Serve the futures orders, positions and wallet from ``app`` (beside the settings routes)."""
    app[ACCOUNT] = account
    app.router.add_get("/fapi/v1/time", server_time)
    app.router.add_get("/fapi/v1/klines", klines)
    app.router.add_get("/fapi/v1/ticker/24hr", ticker)
    app.router.add_post("/fapi/v1/order", _signed(_new_order))
    app.router.add_get("/fapi/v1/order", _signed(_get_order))
    app.router.add_delete("/fapi/v1/order", _signed(_cancel_order))
    app.router.add_get("/fapi/v1/openOrders", _signed(_open_orders))
    app.router.add_post("/fapi/v1/algoOrder", _signed(_new_algo))
    app.router.add_get("/fapi/v1/algoOrder", _signed(_get_algo))
    app.router.add_delete("/fapi/v1/algoOrder", _signed(_cancel_algo))
    app.router.add_get("/fapi/v1/openAlgoOrders", _signed(_open_algos))
    app.router.add_get("/fapi/v1/allAlgoOrders", _signed(_all_algos))
    app.router.add_get("/fapi/v1/userTrades", _signed(_user_trades))
    app.router.add_get("/fapi/v3/account", _signed(_account))
    app.router.add_get("/fapi/v2/account", _signed(_account))
    app.router.add_get("/fapi/v3/positionRisk", _signed(_position_risk))
    app.router.add_get("/fapi/v2/positionRisk", _signed(_position_risk))
