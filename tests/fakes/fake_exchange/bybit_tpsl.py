"""Bybit's TP/SL on a spot limit order, for the fake's Bybit dialect (bybit_app.py).

A spot ``Limit`` order may carry ``takeProfit``/``stopLoss`` (market legs: ``tpOrderType``/``slOrderType``
Market). Once it has filled the venue makes one bidirectional TP/SL order in the ``tpslOrder`` book
(attached.py keeps it as an order list: a take-profit trigger above, a stop-loss trigger below, one
lock; one leg triggers, the other is expired). It is shown as one order: its own ``orderId`` (the
list's), no ``orderLinkId``, ``parentOrderLinkId`` = the entry's link id, ``stopOrderType``
BidirectionalTpslOrder, ``takeProfit``/``stopLoss`` set; ``Untriggered`` while both legs rest, then
``Filled`` by the leg that executed, ``Deactivated`` when cancelled. Its executions carry its
``orderId``. Bybit refuses TP/SL on a spot market order (as ccxt does before sending).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.fakes.fake_exchange.attached import AttachedOrders, Bracket
from tests.fakes.fake_exchange.venue import OPEN_STATUSES, FakeOrder, FakeOrderList, FakeTrade

LIST_ID_BASE = 900_000  # shown order ids of the lists, apart from the venue's order ids


def bracket_of(body: dict[str, Any]) -> Bracket | str | None:
    """Return the bracket a create-order body carries, None for none, or the refusal's message."""
    stop, target = body.get("stopLoss"), body.get("takeProfit")
    if stop is None and target is None:
        return None
    if body.get("orderType") != "Limit":
        return "TP/SL is only supported for spot limit orders"
    if stop is None or "Limit" in (body.get("slOrderType"), body.get("tpOrderType")):
        return "only market TP/SL legs with a stop loss are faked"
    return Bracket(Decimal(str(stop)), Decimal(str(target)) if target is not None else None)


def shown_id(order_list: FakeOrderList) -> int:
    """Return the order id the venue shows for a TP/SL list."""
    return LIST_ID_BASE + order_list.list_id


def find(attached: AttachedOrders, order_id: str | None) -> FakeOrderList | None:
    """Return the TP/SL list shown with ``order_id``, or None."""
    for list_id in attached.lists:
        order_list = attached.venue.order_lists[list_id]
        if order_id and str(shown_id(order_list)) == order_id:
            return order_list
    return None


def listed(attached: AttachedOrders, symbol_id: str | None, *, open_only: bool) -> list[FakeOrderList]:
    """Return the TP/SL lists on a market (all markets for None), open ones or every one."""
    venue = attached.venue
    found = [venue.order_lists[i] for i in attached.lists]
    return [lst for lst in found if symbol_id in (None, lst.symbol_id)
            and (not open_only or any(leg.status in OPEN_STATUSES for leg in venue.list_legs(lst)))]


def list_json(attached: AttachedOrders, order_list: FakeOrderList) -> dict[str, Any]:
    """Render a TP/SL list as one order, like GET /v5/order/realtime or /history."""
    venue = attached.venue
    above, below = venue.list_legs(order_list)
    entry = venue.orders[attached.lists[order_list.list_id]]
    done = next((leg for leg in (above, below) if leg.executed > 0), None)
    statuses = {above.status, below.status}
    if statuses & set(OPEN_STATUSES):
        status = "Untriggered"
    elif done is not None:
        status = "Filled" if done.status == "FILLED" else "PartiallyFilledCanceled"
    else:
        status = "Deactivated"
    executed = done.executed if done is not None else Decimal(0)
    quote = done.cum_quote if done is not None else Decimal(0)
    updated = max(above.update_ms, below.update_ms)
    return {
        "orderId": str(shown_id(order_list)), "orderLinkId": "", "parentOrderLinkId": entry.client_id,
        "symbol": order_list.symbol_id, "side": "Sell" if above.side == "SELL" else "Buy",
        "orderType": "Market", "price": "0", "qty": f"{above.qty:f}", "orderStatus": status,
        "avgPrice": f"{quote / executed:f}" if executed else "", "cumExecQty": f"{executed:f}",
        "cumExecValue": f"{quote:f}", "cumExecFee": "0", "leavesQty": f"{above.qty - executed:f}",
        "timeInForce": "GTC", "isLeverage": "0", "stopOrderType": "BidirectionalTpslOrder",
        "triggerPrice": "0", "triggerDirection": 0, "takeProfit": f"{above.stop_price:f}",
        "stopLoss": f"{below.stop_price:f}", "tpTriggerBy": "LastPrice", "slTriggerBy": "LastPrice",
        "reduceOnly": False, "positionIdx": 0, "createType": "CreateByUser", "cancelType": "UNKNOWN",
        "rejectReason": "EC_NoError", "createdTime": str(order_list.time_ms), "updatedTime": str(updated),
    }


def owner_of(attached: AttachedOrders, order: FakeOrder) -> FakeOrderList | None:
    """Return the TP/SL list a leg belongs to (its executions carry the list's shown id), else None."""
    if order.order_list_id in attached.lists:
        return attached.venue.order_lists[order.order_list_id]
    return None


def trade_order_id(attached: AttachedOrders, trade: FakeTrade) -> str:
    """Return the order id an execution shows: a TP/SL leg's is its list's."""
    order_list = owner_of(attached, attached.venue.orders[trade.order_id])
    return str(shown_id(order_list)) if order_list is not None else str(trade.order_id)
