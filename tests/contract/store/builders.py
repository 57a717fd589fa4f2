"""Small builders of the records the store contract round-trips."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from trader.core.domain.enums import (
    Direction,
    ExitReason,
    OrderPurpose,
    OrderStatus,
    OrderType,
    ProtectionKind,
    Side,
)
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import Fill
from trader.core.positions.state import Position, PositionStatus, Working
from trader.ports.store import OrderRecord

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def order(cid: str = "c1", position: str = "p1", symbol: str = "BTC/USDT", **changes: Any) -> OrderRecord:
    """Return a pending stop-limit sell with every optional field set."""
    record = OrderRecord(
        client_order_id=ClientOrderId(cid), position_id=PositionId(position), symbol=Symbol(symbol),
        side=Side.SELL, type=OrderType.STOP_LIMIT, purpose=OrderPurpose.STOP,
        amount=Decimal("0.12345678"), status=OrderStatus.PENDING, created_at=T0, updated_at=T0,
        price=Decimal("59000.01"), trigger_price=Decimal("59500.5"), reduce_only=True,
    )
    return replace(record, **changes)


def fill(trade_id: str = "t1", cid: str = "c1", symbol: str = "BTC/USDT", minutes: int = 0) -> Fill:
    """Return a fill ``minutes`` after T0."""
    return Fill(trade_id=trade_id, client_order_id=ClientOrderId(cid), symbol=Symbol(symbol),
                side=Side.BUY, amount=Decimal("0.001"), price=Decimal("61234.56"), fee=Decimal("0.000001"),
                fee_currency="BTC", timestamp=T0 + timedelta(minutes=minutes))


def position(pid: str = "p1", status: PositionStatus = PositionStatus.OPEN, **changes: Any) -> Position:
    """Return a position with every field away from its default."""
    base = Position(
        id=PositionId(pid), symbol=Symbol("ETH/USDT"), strategy="breakout", direction=Direction.LONG,
        status=status, amount=Decimal("1.5"), filled=Decimal("1.4985"), entry_price=Decimal("3000.12"),
        exit_filled=Decimal("0.5"), exit_price=Decimal("3100"), stop_price=Decimal("2900.5"),
        take_profit=Decimal("3300"), high_water=Decimal("3150.25"), protection=ProtectionKind.NATIVE,
        confidence=0.75, reason="breakout above 20-bar high", opened_at=T0,
        closed_at=T0 + timedelta(hours=5), exit_reason=ExitReason.TRAILING_STOP, fees=Decimal("4.5"),
        realised_pnl=Decimal("-12.345678901234567890"), entry_attempt=1, stop_attempt=2, tp_attempt=3,
        exit_attempt=4, created_at=T0 - timedelta(minutes=1), entry_executed=Decimal("1.5"),
        entry_limit=Decimal("3001"), requested_price=Decimal("2999.5"), initial_stop=Decimal("2850"),
        working=Working.STOP, working_amount=Decimal("0.9985"), tp_local=True, note="dust 0.0001 left",
    )
    return replace(base, **changes)
