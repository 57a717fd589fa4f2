"""Binance spot OCO through its order-list endpoints, as one Order of type OCO under our client id.

ccxt has no unified OCO for Binance spot, so this speaks the order-list API through ccxt's implicit
methods (signing, errors and rate limits stay ccxt's): ``POST /api/v3/orderList/oco`` with a
LIMIT_MAKER take-profit above and a STOP_LOSS below, ``GET``/``DELETE /api/v3/orderList`` and
``GET /api/v3/openOrderList``. The list carries our client id (``listClientOrderId``), each leg that id
plus ``tp``/``sl``, so a repeat after a crash finds the list instead of placing a second one. When one
leg executes Binance expires the other: the list is then FILLED (or partly) by that leg.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from trader.adapters.exchange.ccxt_orders import CreateArgs, dec
from trader.core.domain.candles import ms_to_datetime
from trader.core.domain.enums import OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Order
from trader.core.errors import OrderNotFound

Call = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]
TP_SUFFIX, SL_SUFFIX = "tp", "sl"  # our client id (32 chars) + 2 stays within Binance's 36
_OPEN = ("NEW", "PARTIALLY_FILLED")


@dataclass(frozen=True, slots=True)
class ListedOrder:
    """An OCO list as our Order, with the venue ids of its legs (fills carry a leg's id)."""

    order: Order
    leg_ids: tuple[str, ...]


def is_leg(raw: dict[str, Any]) -> bool:
    """Return True for a ccxt order dict that is one leg of a Binance order list."""
    list_id = (raw.get("info") or {}).get("orderListId")
    return list_id is not None and str(list_id) != "-1"


def order_from_list(raw_list: dict[str, Any], legs: list[dict[str, Any]]) -> ListedOrder:
    """Return the list as one OCO Order: OPEN while both legs rest, else the executed leg's state."""
    above = next((leg for leg in legs if leg.get("type") != "STOP_LOSS"), legs[0])
    below = next((leg for leg in legs if leg.get("type") == "STOP_LOSS"), legs[-1])
    executed = [leg for leg in legs if (dec(leg.get("executedQty")) or ZERO) > 0]
    filled = sum(((dec(leg.get("executedQty")) or ZERO) for leg in executed), ZERO)
    quote = sum(((dec(leg.get("cummulativeQuoteQty")) or ZERO) for leg in executed), ZERO)
    states = {str(leg.get("status")) for leg in legs}
    if executed:
        status = OrderStatus.FILLED if "FILLED" in states else OrderStatus.PARTIALLY_FILLED
    elif states & set(_OPEN):
        status = OrderStatus.OPEN
    else:  # cancelled by us (or expired as a whole): nothing executed
        status = OrderStatus.CANCELLED
    stamp = max(int(leg.get("updateTime") or leg.get("time") or 0) for leg in legs)
    order = Order(
        client_order_id=ClientOrderId(str(raw_list["listClientOrderId"])),
        symbol=Symbol(""), side=Side(str(above.get("side", "SELL")).lower()), type=OrderType.OCO,
        amount=dec(above.get("origQty")) or ZERO, status=status, filled=filled,
        average_price=quote / filled if filled > 0 else None, price=dec(above.get("price")),
        trigger_price=dec(below.get("stopPrice")), exchange_order_id=str(raw_list["orderListId"]),
        updated_at=ms_to_datetime(stamp) if stamp else None,
    )
    return ListedOrder(order, tuple(str(leg["orderId"]) for leg in legs))


class OrderListBrackets:
    """Place, read, list and cancel Binance OCO order lists through a ccxt client."""

    def __init__(self, client: Any, call: Call, retried: Call) -> None:
        self._client = client
        self._call = call  # one attempt: creation is retried by the caller, which looks up first
        self._retried = retried  # reads and cancels are safe to repeat

    async def place(self, args: CreateArgs, client_order_id: ClientOrderId) -> ListedOrder:
        """Send one OCO list: take-profit LIMIT_MAKER above, market STOP_LOSS below."""
        params = {
            "symbol": self._client.market_id(args.symbol), "side": args.side.upper(),
            "quantity": str(args.amount), "listClientOrderId": client_order_id,
            "aboveType": "LIMIT_MAKER", "abovePrice": str(args.params["takeProfitPrice"]),
            "aboveClientOrderId": client_order_id + TP_SUFFIX,
            "belowType": "STOP_LOSS", "belowStopPrice": str(args.params["stopLossPrice"]),
            "belowClientOrderId": client_order_id + SL_SUFFIX,
        }
        raw = await self._call("create_oco", lambda: self._client.private_post_orderlist_oco(params))
        return self._with_symbol(order_from_list(raw, raw.get("orderReports") or []), args.symbol)

    async def fetch(self, symbol: Symbol, client_order_id: ClientOrderId) -> ListedOrder | None:
        """Return the list with our client id, or None when the venue does not know it."""
        try:
            raw = await self._retried("fetch_order_list", lambda: self._client.private_get_orderlist(
                {"origClientOrderId": client_order_id}))
        except OrderNotFound:
            return None
        return await self._read(symbol, raw)

    async def owner(self, symbol: Symbol, list_id: str) -> ListedOrder | None:
        """Return the list with venue id ``list_id`` (the owner of a leg), or None."""
        try:
            raw = await self._retried("fetch_order_list", lambda: self._client.private_get_orderlist(
                {"orderListId": list_id}))
        except OrderNotFound:
            return None
        return await self._read(symbol, raw)

    async def open(self, symbol: Symbol | None) -> list[ListedOrder]:
        """Return every list with a leg still resting, optionally for one pair."""
        raw: list[dict[str, Any]] = await self._retried(
            "fetch_open_order_lists", lambda: self._client.private_get_openorderlist({}))
        wanted = self._client.market_id(symbol) if symbol is not None else None
        return [await self._read(symbol or self._symbol_of(item), item) for item in raw
                if wanted in (None, item.get("symbol"))]

    async def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> None:
        """Cancel both legs; an already finished list raises OrderNotFound (the caller re-reads it)."""
        await self._retried("cancel_order_list", lambda: self._client.private_delete_orderlist(
            {"symbol": self._client.market_id(symbol), "listClientOrderId": client_order_id}))

    async def _read(self, symbol: Symbol, raw: dict[str, Any]) -> ListedOrder:
        market_id = raw.get("symbol") or self._client.market_id(symbol)
        legs = []
        for leg in raw.get("orders") or []:
            query = {"symbol": market_id, "orderId": leg["orderId"]}
            legs.append(await self._retried("fetch_order", partial(self._client.private_get_order, query)))
        return self._with_symbol(order_from_list(raw, legs), symbol)

    def _symbol_of(self, raw: dict[str, Any]) -> Symbol:
        return Symbol(str(self._client.safe_symbol(raw.get("symbol"))))

    @staticmethod
    def _with_symbol(listed: ListedOrder, symbol: str) -> ListedOrder:
        return ListedOrder(replace(listed.order, symbol=Symbol(symbol)), listed.leg_ids)
