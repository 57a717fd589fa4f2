"""Venue order updates become the right position events (or nothing)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trader.core.domain.enums import Direction, OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import Fill
from trader.core.engine.orders import OrderRef, OrderUpdate, position_event
from trader.core.positions import position_events as ev

NOW = datetime(2024, 1, 1, tzinfo=UTC)
CID = ClientOrderId("c1")


def ref(purpose: OrderPurpose, kind: OrderType = OrderType.MARKET, take: str | None = None,
        cancelling: bool = False) -> OrderRef:
    return OrderRef(PositionId("p"), purpose, kind, None if take is None else Decimal(take), cancelling)


def fill(price: str) -> Fill:
    return Fill("t1", CID, Symbol("BTC/USDT"), Side.SELL, Decimal("0.5"), Decimal(price), Decimal("0.1"),
                "USDT", NOW)


@pytest.mark.parametrize(("purpose", "kind", "take", "price", "expected"), [
    (OrderPurpose.ENTRY, OrderType.MARKET, None, "100", ev.EntryFilled),
    (OrderPurpose.EXIT, OrderType.MARKET, None, "100", ev.ExitFilled),
    (OrderPurpose.STOP, OrderType.STOP, None, "95", ev.StopFilled),
    (OrderPurpose.TAKE_PROFIT, OrderType.LIMIT, None, "110", ev.TakeProfitFilled),
    (OrderPurpose.STOP, OrderType.OCO, "110", "110", ev.TakeProfitFilled),
    (OrderPurpose.STOP, OrderType.OCO, "110", "94.5", ev.StopFilled),
])
def test_fills_map_to_the_leg_that_executed(purpose: OrderPurpose, kind: OrderType, take: str | None,
                                            price: str, expected: type) -> None:
    event = position_event(ref(purpose, kind, take), OrderUpdate(CID, OrderStatus.FILLED, fill(price)),
                           Direction.LONG, NOW)
    assert isinstance(event, expected)
    assert event.amount == Decimal("0.5") and event.fee == Decimal("0.1")  # type: ignore[union-attr]


@pytest.mark.parametrize(("purpose", "status", "cancelling", "expected"), [
    (OrderPurpose.ENTRY, OrderStatus.REJECTED, False, ev.EntryRejected),
    (OrderPurpose.ENTRY, OrderStatus.CANCELLED, False, ev.EntryCancelled),
    (OrderPurpose.ENTRY, OrderStatus.OPEN, False, type(None)),
    (OrderPurpose.STOP, OrderStatus.OPEN, False, ev.StopPlaced),
    (OrderPurpose.STOP, OrderStatus.REJECTED, False, ev.StopRejected),
    (OrderPurpose.STOP, OrderStatus.CANCELLED, False, ev.StopCancelled),
    (OrderPurpose.STOP, OrderStatus.CANCELLED, True, type(None)),
    (OrderPurpose.TAKE_PROFIT, OrderStatus.EXPIRED, False, ev.TakeProfitCancelled),
    (OrderPurpose.EXIT, OrderStatus.REJECTED, False, ev.ExitFailed),
    (OrderPurpose.EXIT, OrderStatus.FILLED, False, type(None)),
])
def test_status_updates_without_fill(purpose: OrderPurpose, status: OrderStatus, cancelling: bool,
                                     expected: type) -> None:
    update = OrderUpdate(CID, status, reason="venue says no")
    event = position_event(ref(purpose, cancelling=cancelling), update, Direction.LONG, NOW)
    assert isinstance(event, expected)
