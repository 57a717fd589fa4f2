"""Translate between our order types and ccxt's unified create-order arguments, orders and trades.

Our OrderRequest → ccxt ``create_order(symbol, type, side, amount, price, params)``:
MARKET/LIMIT as is; STOP → market + ``stopLossPrice``; STOP_LIMIT → limit + ``stopLossPrice``;
TAKE_PROFIT → market (or limit when a price is given) + ``takeProfitPrice``; OCO (where the venue
supports it through unified params) → ``stopLossPrice`` = trigger_price, ``takeProfitPrice`` = price.
Every request carries ``clientOrderId``, which ccxt maps to the venue's field; on a perpetual every
closing order (stop, take-profit, exit) also carries ``reduceOnly``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from trader.adapters.exchange.capabilities import VenueFacts
from trader.adapters.exchange.rounding import rounded_request
from trader.core.domain.candles import ms_to_datetime
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO, D
from trader.core.domain.orders import Fill, Order, OrderRequest
from trader.core.errors import InvalidOrder

_STATUS = {
    "open": OrderStatus.OPEN, "closed": OrderStatus.FILLED, "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED, "expired": OrderStatus.EXPIRED, "rejected": OrderStatus.REJECTED,
}


@dataclass(frozen=True, slots=True)
class CreateArgs:
    """Arguments for ccxt ``create_order``; amount and price already at market precision."""

    symbol: str
    type: str
    side: str
    amount: Decimal
    price: Decimal | None
    params: dict[str, Any]


def dec(value: Any) -> Decimal | None:
    """Return a ccxt number (float, int or str) as Decimal; floats via repr so 0.1 stays 0.1."""
    if value is None or value == "":
        return None
    return D(repr(value) if isinstance(value, float) else str(value))


def create_args(
    request: OrderRequest, spec: MarketSpec, facts: VenueFacts, last_price: Decimal | None
) -> CreateArgs:
    """Return rounded, minimum-checked create-order arguments; InvalidOrder before anything is sent.

    ``last_price`` values a market order for the minimum-cost check.
    """
    request = rounded_request(request, spec, last_price)
    amount, price, trigger = request.amount, request.price, request.trigger_price
    params: dict[str, Any] = {"clientOrderId": request.client_order_id}
    if spec.futures is not None and request.purpose is not OrderPurpose.ENTRY:
        # A closing order on a perpetual must never open or flip a position (a stop resting after
        # the position closed by other means would otherwise open the opposite side).
        params["reduceOnly"] = True
    kind = request.type
    if kind is OrderType.MARKET:
        return CreateArgs(request.symbol, "market", request.side.value, amount, None, params)
    if kind is OrderType.LIMIT:
        return CreateArgs(request.symbol, "limit", request.side.value, amount, _need(price, request), params)
    params.update(dict(facts.stop_params))
    if facts.trigger_client_id:  # e.g. OKX algo orders are found by algoClOrdId, not clOrdId
        del params["clientOrderId"]
        params[facts.trigger_client_id] = request.client_order_id
    if kind is OrderType.STOP:
        params["stopLossPrice"] = _need(trigger, request)
        return CreateArgs(request.symbol, "market", request.side.value, amount, None, params)
    if kind is OrderType.STOP_LIMIT:
        params["stopLossPrice"] = _need(trigger, request)
        return CreateArgs(request.symbol, "limit", request.side.value, amount, _need(price, request), params)
    if kind is OrderType.TAKE_PROFIT:
        params["takeProfitPrice"] = _need(trigger or price, request)
        order_type = "limit" if price is not None and trigger is not None else "market"
        limit = price if order_type == "limit" else None
        return CreateArgs(request.symbol, order_type, request.side.value, amount, limit, params)
    params["stopLossPrice"] = _need(trigger, request)
    params["takeProfitPrice"] = _need(price, request)
    return CreateArgs(request.symbol, "market", request.side.value, amount, None, params)


def _need(value: Decimal | None, request: OrderRequest) -> Decimal:
    if value is None:
        raise InvalidOrder(f"{request.client_order_id}: a {request.type} order needs its price/trigger")
    return value


def order_from_ccxt(raw: dict[str, Any], fallback_id: ClientOrderId | None = None) -> Order:
    """Return our Order for a ccxt unified order dict."""
    amount = dec(raw.get("amount")) or ZERO
    filled = dec(raw.get("filled")) or ZERO
    status = _STATUS.get(str(raw.get("status")), OrderStatus.OPEN)
    if status is OrderStatus.OPEN and filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    kind = _order_type(raw)
    trigger = next((dec(raw.get(k)) for k in ("triggerPrice", "stopPrice", "stopLossPrice", "takeProfitPrice")
                    if raw.get(k) is not None), None)
    limit_price = dec(raw.get("price")) if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    if kind is OrderType.TAKE_PROFIT and str(raw.get("type")) == "limit":
        limit_price = dec(raw.get("price"))
    if kind is OrderType.OCO:  # our OCO's price is its take-profit, its trigger the stop
        limit_price, trigger = dec(raw.get("takeProfitPrice")), dec(raw.get("stopLossPrice"))
    fee, fee_currency = _fee(raw)
    info = raw.get("info") or {}  # OKX algo orders keep our id in algoClOrdId, which ccxt does not lift
    stamp = raw.get("lastUpdateTimestamp") or raw.get("lastTradeTimestamp") or raw.get("timestamp")
    return Order(
        client_order_id=ClientOrderId(str(raw.get("clientOrderId") or info.get("algoClOrdId")
                                          or fallback_id or "")),
        symbol=Symbol(str(raw.get("symbol"))), side=Side(str(raw.get("side"))), type=kind, amount=amount,
        status=status, filled=filled, average_price=dec(raw.get("average")) if filled > 0 else None,
        price=limit_price, trigger_price=trigger,
        exchange_order_id=str(raw.get("id")) if raw.get("id") else None,
        fee=fee, fee_currency=fee_currency, updated_at=ms_to_datetime(int(stamp)) if stamp else None,
    )


def _order_type(raw: dict[str, Any]) -> OrderType:
    venue_type = str((raw.get("info") or {}).get("type", "")).upper()
    unified = str(raw.get("type") or "").lower()
    if raw.get("takeProfitPrice") is not None and raw.get("stopLossPrice") is not None:
        return OrderType.OCO  # e.g. an OKX oco algo order
    if raw.get("takeProfitPrice") is not None or "TAKE_PROFIT" in venue_type:
        return OrderType.TAKE_PROFIT
    if any(raw.get(k) is not None for k in ("triggerPrice", "stopPrice", "stopLossPrice")):
        return OrderType.STOP_LIMIT if unified == "limit" or venue_type.endswith("LIMIT") else OrderType.STOP
    return OrderType.LIMIT if unified == "limit" else OrderType.MARKET


def _fee(raw: dict[str, Any]) -> tuple[Decimal, str | None]:
    fees = raw.get("fees") or ([raw["fee"]] if raw.get("fee") else [])
    total, currency = ZERO, None
    for item in fees:
        if item and item.get("cost") is not None:
            total += dec(item["cost"]) or ZERO
            currency = currency or item.get("currency")
    return total, currency


def fill_from_ccxt(raw: dict[str, Any], client_order_id: ClientOrderId) -> Fill:
    """Return our Fill for a ccxt unified trade dict."""
    fee = raw.get("fee") or {}
    return Fill(
        trade_id=str(raw["id"]), client_order_id=client_order_id, symbol=Symbol(str(raw["symbol"])),
        side=Side(str(raw["side"])), amount=dec(raw["amount"]) or ZERO, price=dec(raw["price"]) or ZERO,
        fee=dec(fee.get("cost")) or ZERO, fee_currency=str(fee.get("currency") or ""),
        timestamp=ms_to_datetime(int(raw["timestamp"])),
    )


def since_ms(moment: datetime | None) -> int | None:
    """Return epoch ms for an aware datetime, None for None."""
    return None if moment is None else int(moment.timestamp() * 1000)
