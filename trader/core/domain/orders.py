"""Order intent, venue view of an order, fills, and the legal order-status transitions."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from operator import attrgetter

from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.money import ZERO
from trader.core.errors import InvariantViolation

_S = OrderStatus
ORDER_TRANSITIONS: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    {
        (_S.PENDING, _S.OPEN), (_S.PENDING, _S.PARTIALLY_FILLED), (_S.PENDING, _S.FILLED),
        (_S.PENDING, _S.REJECTED), (_S.PENDING, _S.CANCELLED), (_S.PENDING, _S.EXPIRED),
        (_S.OPEN, _S.PARTIALLY_FILLED), (_S.OPEN, _S.FILLED), (_S.OPEN, _S.CANCELLED),
        (_S.OPEN, _S.EXPIRED), (_S.OPEN, _S.REJECTED),
        (_S.PARTIALLY_FILLED, _S.PARTIALLY_FILLED), (_S.PARTIALLY_FILLED, _S.FILLED),
        (_S.PARTIALLY_FILLED, _S.CANCELLED), (_S.PARTIALLY_FILLED, _S.EXPIRED),
    }
)


def check_transition(old: OrderStatus, new: OrderStatus) -> None:
    """Raise InvariantViolation unless ``old -> new`` is legal (staying put is always legal)."""
    if old != new and (old, new) not in ORDER_TRANSITIONS:
        raise InvariantViolation(f"illegal order transition {old} -> {new}")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An intent to place an order; stored before it is sent (outbox) and keyed by client id."""

    client_order_id: ClientOrderId
    position_id: PositionId
    symbol: Symbol
    side: Side
    type: OrderType
    purpose: OrderPurpose
    amount: Decimal
    price: Decimal | None = None  # limit price
    trigger_price: Decimal | None = None  # stop / take-profit trigger
    reduce_only: bool = False
    # An entry carrying its protection (Capabilities.attached_bracket): the venue places these on fill.
    attached_stop: Decimal | None = None
    attached_take_profit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """The venue's view of one order, as our types."""

    client_order_id: ClientOrderId
    symbol: Symbol
    side: Side
    type: OrderType
    amount: Decimal
    status: OrderStatus
    filled: Decimal = ZERO
    average_price: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    exchange_order_id: str | None = None
    fee: Decimal = ZERO
    fee_currency: str | None = None
    updated_at: datetime | None = None

    @property
    def remaining(self) -> Decimal:
        """Return the unfilled amount."""
        return self.amount - self.filled

    def with_status(self, status: OrderStatus, **changes: object) -> Order:
        """Return a copy in ``status``, checking the transition is legal."""
        check_transition(self.status, status)
        # slots copied directly: ``dataclasses.replace`` costs twice as much and this runs per fill
        new: Order = object.__new__(Order)
        for setter, value in zip(_ORDER_SETTERS, _ORDER_GET_ALL(self), strict=True):
            setter(new, value)
        _ORDER_SETTER["status"](new, status)
        for name, value in changes.items():
            _ORDER_SETTER[name](new, value)  # unknown names raise KeyError
        return new


_ORDER_FIELDS = tuple(f.name for f in fields(Order))
_ORDER_GET_ALL = attrgetter(*_ORDER_FIELDS)
_ORDER_SETTERS = tuple(getattr(Order, name).__set__ for name in _ORDER_FIELDS)
_ORDER_SETTER = dict(zip(_ORDER_FIELDS, _ORDER_SETTERS, strict=True))


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution; ``trade_id`` is unique per venue so a fill is recorded once."""

    trade_id: str
    client_order_id: ClientOrderId
    symbol: Symbol
    side: Side
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    timestamp: datetime
