"""Position value and status helpers."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from trader.core.domain.enums import Direction
from trader.core.domain.ids import PositionId, Symbol
from trader.core.positions.state import Position, PositionStatus


def _pos(**kw: object) -> Position:
    base = dict(id=PositionId("p1"), symbol=Symbol("BTC/USDT"), strategy="s", direction=Direction.LONG,
                status=PositionStatus.OPEN, amount=Decimal(1))
    base.update(kw)
    return Position(**base)  # type: ignore[arg-type]


def test_open_amount_is_filled_minus_exit_filled() -> None:
    assert _pos(filled=Decimal("0.999"), exit_filled=Decimal("0.4")).open_amount == Decimal("0.599")


def test_position_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _pos().status = PositionStatus.CLOSED  # type: ignore[misc]


@pytest.mark.parametrize(
    ("status", "terminal", "active"),
    [
        (PositionStatus.PENDING_ENTRY, False, True),
        (PositionStatus.OPEN, False, True),
        (PositionStatus.EXITING, False, True),
        (PositionStatus.CLOSED, True, False),
        (PositionStatus.CANCELLED, True, False),
        (PositionStatus.REJECTED, True, False),
        (PositionStatus.ERROR, False, False),
    ],
)
def test_status_terminal_and_active_flags(status: PositionStatus, terminal: bool, active: bool) -> None:
    assert status.is_terminal is terminal
    assert status.is_active is active


def test_status_values_are_stable_strings() -> None:
    assert [s.value for s in PositionStatus] == [
        "pending_entry", "open", "exiting", "closed", "cancelled", "rejected", "error"]
