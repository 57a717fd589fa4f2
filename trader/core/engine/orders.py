"""Which of our orders an update belongs to, and the position event it means.

The venue reports two kinds of updates: executions (``OrderUpdate.fill``, carrying amount, price and
fee) and status changes (no fill). Amounts are booked from fills only, so a FILLED status after its
fills changes nothing and no execution is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trader.core.domain.enums import Direction, OrderPurpose, OrderStatus, OrderType
from trader.core.domain.ids import ClientOrderId, PositionId
from trader.core.domain.orders import Fill
from trader.core.positions import position_events as ev
from trader.core.sim.matching import oco_leg


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """What the venue reported for one of our orders since the last step."""

    client_order_id: ClientOrderId
    status: OrderStatus
    fill: Fill | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderRef:
    """What the engine knows about an order it asked for; ``cancelling`` once it asked to cancel it."""

    position_id: PositionId
    purpose: OrderPurpose
    order_type: OrderType
    take_profit: Decimal | None = None  # the limit leg of an OCO, to tell which leg filled
    cancelling: bool = False


def position_event(ref: OrderRef, update: OrderUpdate, direction: Direction,
                   now: datetime) -> ev.PositionEvent | None:
    """Return the position event an update means, or None when it changes nothing."""
    at = update.fill.timestamp if update.fill is not None else now
    if update.fill is not None:
        return _fill_event(ref, update.fill, direction)
    status, purpose = update.status, ref.purpose
    gone = status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
    if purpose is OrderPurpose.ENTRY:
        if status is OrderStatus.REJECTED:
            return ev.EntryRejected(update.reason, at)
        return ev.EntryCancelled(at) if gone else None
    if purpose is OrderPurpose.EXIT:
        failed = gone or status is OrderStatus.REJECTED
        return ev.ExitFailed(update.reason or status.value, at) if failed else None
    if status is OrderStatus.OPEN:
        return ev.StopPlaced(at) if purpose is OrderPurpose.STOP else ev.TakeProfitPlaced(at)
    if status is OrderStatus.REJECTED:
        return ev.StopRejected(update.reason, at) if purpose is OrderPurpose.STOP else \
            ev.TakeProfitRejected(update.reason, at)
    if gone and not ref.cancelling:
        return ev.StopCancelled(at) if purpose is OrderPurpose.STOP else ev.TakeProfitCancelled(at)
    return None


def _fill_event(ref: OrderRef, fill: Fill, direction: Direction) -> ev.PositionEvent:
    # Venues such as Binance charge a buy's fee in the coin bought: then the position holds less.
    fee_in_base = bool(fill.fee) and fill.fee_currency == fill.symbol.split("/")[0]
    args = (fill.amount, fill.price, fill.fee, fee_in_base, fill.timestamp)
    if ref.purpose is OrderPurpose.ENTRY:
        return ev.EntryFilled(*args)
    if ref.purpose is OrderPurpose.EXIT:
        return ev.ExitFilled(*args)
    if ref.purpose is OrderPurpose.TAKE_PROFIT:
        return ev.TakeProfitFilled(*args)
    if ref.order_type is OrderType.OCO and ref.take_profit is not None and \
            oco_leg(direction.exit_side, fill.price, ref.take_profit) is OrderPurpose.TAKE_PROFIT:
        return ev.TakeProfitFilled(*args)
    return ev.StopFilled(*args)
