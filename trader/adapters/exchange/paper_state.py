"""Plain-data (JSON-ready) codec for the paper account: orders, requests, fills, balances, prices.

Decimals and datetimes become strings so nothing is lost in a JSON column; ``decode_*`` reverse it.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import Fill, Order, OrderRequest

STATE_VERSION = 1  # the whole account in one document (``snapshot``)
CORE_VERSION = 2  # the account core; fills and finished orders are separate documents
_DECIMALS = {"amount", "price", "trigger_price", "filled", "average_price", "fee"}
_TIMES = {"updated_at", "timestamp"}
_ENUMS: dict[str, Any] = {"side": Side, "type": OrderType, "status": OrderStatus, "purpose": OrderPurpose}
_IDS: dict[str, Any] = {"client_order_id": ClientOrderId, "position_id": PositionId, "symbol": Symbol}


def encode(value: Order | OrderRequest | Fill) -> dict[str, Any]:
    """Return a JSON-ready dict of a domain order, request or fill."""
    out: dict[str, Any] = {}
    for f in fields(value):
        item = getattr(value, f.name)
        if isinstance(item, Decimal):
            item = str(item)
        elif isinstance(item, datetime):
            item = item.isoformat()
        elif hasattr(item, "value"):
            item = item.value
        out[f.name] = item
    return out


def _decoded(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in data.items():
        if item is None:
            out[key] = None
        elif key in _DECIMALS:
            out[key] = Decimal(item)
        elif key in _TIMES:
            out[key] = datetime.fromisoformat(item)
        elif key in _ENUMS:
            out[key] = _ENUMS[key](item)
        elif key in _IDS:
            out[key] = _IDS[key](item)
        else:
            out[key] = item
    return out


def decode_order(data: dict[str, Any]) -> Order:
    """Return the Order encoded by ``encode``."""
    return Order(**_decoded(data))


def decode_request(data: dict[str, Any]) -> OrderRequest:
    """Return the OrderRequest encoded by ``encode``."""
    return OrderRequest(**_decoded(data))


def decode_fill(data: dict[str, Any]) -> Fill:
    """Return the Fill encoded by ``encode``."""
    return Fill(**_decoded(data))
