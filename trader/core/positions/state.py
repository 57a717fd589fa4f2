"""The Position value: one trade from entry request to close, as plain frozen data the store persists.

Amounts are base-currency Decimals, prices and money quote-currency Decimals. ``amount`` is what was
requested, ``entry_executed`` what the venue executed, ``filled`` what we hold after fees paid in the base
currency, ``exit_filled`` how much of ``filled`` has been sold (or bought back) again. ``fees`` is the quote
value of every fee paid; ``realised_pnl`` already has them subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from typing import Any

from trader.core.domain.enums import Direction, ExitReason, ProtectionKind
from trader.core.domain.ids import PositionId, Symbol
from trader.core.domain.money import ZERO


class PositionStatus(StrEnum):
    """Lifecycle of a position; legal moves live in ``positions.machine``."""

    PENDING_ENTRY = "pending_entry"
    OPEN = "open"
    EXITING = "exiting"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    ERROR = "error"

    @property
    def is_terminal(self) -> bool:
        """Return True when no event can change the position any more."""
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """Return True while the position holds, or may still acquire, coins."""
        return self in _ACTIVE


_TERMINAL = frozenset({PositionStatus.CLOSED, PositionStatus.CANCELLED, PositionStatus.REJECTED})
_ACTIVE = frozenset({PositionStatus.PENDING_ENTRY, PositionStatus.OPEN, PositionStatus.EXITING})


class Working(StrEnum):
    """Which closing order is working on the venue; at most one, since on spot they lock the same coins."""

    NONE = "none"
    STOP = "stop"  # resting native stop
    TAKE_PROFIT = "take_profit"  # resting take-profit limit (swapped in near the target)
    OCO = "oco"  # stop + take-profit as one venue order
    EXIT = "exit"  # market exit order


@dataclass(frozen=True, slots=True)
class Position:
    """One position; replaced (never mutated) by ``positions.machine.apply``."""

    id: PositionId
    symbol: Symbol
    strategy: str
    direction: Direction
    status: PositionStatus
    amount: Decimal  # requested, base
    filled: Decimal = ZERO  # held, base, after base-currency fees
    entry_price: Decimal | None = None  # average entry fill price
    exit_filled: Decimal = ZERO  # closed so far, base
    exit_price: Decimal | None = None  # average exit fill price
    stop_price: Decimal | None = None  # current stop (venue or watched)
    take_profit: Decimal | None = None
    high_water: Decimal | None = None  # best price since entry (highest for long, lowest for short)
    protection: ProtectionKind = ProtectionKind.NONE
    confidence: float = 1.0
    reason: str = ""
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    exit_reason: ExitReason | None = None
    fees: Decimal = ZERO  # quote value of all fees paid
    realised_pnl: Decimal = ZERO  # quote, fees included
    # Orders placed so far per purpose; the working order's client id uses attempt = counter - 1.
    entry_attempt: int = 0
    stop_attempt: int = 0  # the stop and an OCO share the STOP purpose
    tp_attempt: int = 0
    exit_attempt: int = 0
    # Added beyond the minimum: needed to run the machine and to reconcile after a restart.
    created_at: datetime | None = None
    entry_executed: Decimal = ZERO  # gross amount the venue executed for the entry, base
    entry_limit: Decimal | None = None  # None: market entry
    requested_price: Decimal | None = None  # reference entry price the size was computed at
    initial_stop: Decimal | None = None  # stop at entry; the trade's 1R
    working: Working = Working.NONE
    working_amount: Decimal = ZERO  # amount of the working closing order, base
    tp_local: bool = False  # the venue refused the take-profit: the engine watches the target
    note: str = ""  # why the position is in ERROR, or closed leaving unsellable dust
    # Perpetual swaps: the leverage the entry was sized with (1 on spot) and the funding paid so far
    # (negative: received); funding is also in realised_pnl, as fees are.
    leverage: Decimal = Decimal(1)
    funding: Decimal = ZERO

    @property
    def open_amount(self) -> Decimal:
        """Return the amount still held, base."""
        return self.filled - self.exit_filled

    @property
    def is_long(self) -> bool:
        """Return True for a long position."""
        return self.direction is Direction.LONG


_FIELDS = tuple(f.name for f in fields(Position))
_GET_ALL = attrgetter(*_FIELDS)
_SETTERS = tuple(getattr(Position, name).__set__ for name in _FIELDS)
_SETTER = dict(zip(_FIELDS, _SETTERS, strict=True))
_new = object.__new__


def evolve(position: Position, **changes: Any) -> Position:
    """Return a copy of ``position`` with ``changes``; like ``dataclasses.replace``, about twice as fast.

    Hand-written because the backtest copies a position on every event and ``replace`` rebuilds the
    keyword arguments of all fields through ``__init__``; this copies the slots directly. Unknown
    field names raise KeyError.
    """
    new = _new(Position)
    for setter, value in zip(_SETTERS, _GET_ALL(position), strict=True):
        setter(new, value)
    for name, value in changes.items():
        _SETTER[name](new, value)
    return new
