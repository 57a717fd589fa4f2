"""Wallex order and trade bodies → ccxt unified structures (their ``transactTime`` is in seconds)."""

from __future__ import annotations

from typing import Any

_STATUS = {"NEW": "open", "PARTIALLY_FILLED": "open", "FILLED": "closed", "CANCELED": "canceled",
           "CANCELLED": "canceled", "EXPIRED": "expired", "REJECTED": "rejected"}


def _ms(value: Any, exchange: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and not value.isdigit():
        parsed: int | None = exchange.parse8601(value)
        return parsed
    number = int(value)
    return number * 1000 if number < 10**12 else number


def parse_wallex_order(exchange: Any, order: dict[str, Any]) -> Any:
    """Return a ccxt order for a Wallex order object."""
    market = exchange.safe_market(order.get("symbol"))
    filled = exchange.safe_string(order, "executedQty")
    average = exchange.safe_string(order, "executedPrice") if filled not in (None, "0") else None
    stamp = _ms(order.get("transactTime") or order.get("created_at"), exchange)
    updated = _ms(order.get("updated_at"), exchange)
    fee = exchange.safe_string(order, "fee")
    return exchange.safe_order({
        "info": order, "id": order.get("clientOrderId"), "clientOrderId": order.get("clientOrderId"),
        "symbol": market["symbol"], "type": str(order.get("type", "")).lower(),
        "side": str(order.get("side", "")).lower(), "status": _STATUS.get(str(order.get("status")), "open"),
        "price": exchange.safe_string(order, "price"), "amount": exchange.safe_string(order, "origQty"),
        "filled": filled, "average": average, "cost": exchange.safe_string(order, "executedSum"),
        "timestamp": stamp, "datetime": exchange.iso8601(stamp) if stamp else None,
        "lastUpdateTimestamp": updated, "fee": {"cost": fee, "currency": None} if fee else None,
        "trades": [],
    }, market)


def parse_wallex_trade(exchange: Any, trade: dict[str, Any]) -> Any:
    """Return a ccxt trade for one of our Wallex trades; the id is derived (Wallex sends none)."""
    market = exchange.safe_market(trade.get("symbol"))
    stamp = _ms(trade.get("timestamp"), exchange)
    side = "buy" if trade.get("isBuyer") else "sell"
    trade_id = f"{trade.get('symbol')}-{stamp}-{side}-{trade.get('price')}-{trade.get('quantity')}"
    return exchange.safe_trade({
        "info": trade, "id": trade_id, "order": None, "symbol": market["symbol"], "side": side,
        "price": exchange.safe_string(trade, "price"), "amount": exchange.safe_string(trade, "quantity"),
        "cost": exchange.safe_string(trade, "sum"), "timestamp": stamp,
        "datetime": exchange.iso8601(stamp) if stamp else None,
        "fee": {"cost": exchange.safe_string(trade, "fee"),
                "currency": exchange.safe_currency_code(trade.get("feeAsset"))},
    }, market)
