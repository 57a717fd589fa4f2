"""Engine events: frozen, past tense; what ``step`` reports besides its commands.

Services persist and announce them (alerts, audit); the backtest collects PositionClosed as trades.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trader.core.domain.entries import Approved, Refused
from trader.core.domain.ids import PositionId, Symbol
from trader.core.engine.pair_groups import GroupPosition
from trader.core.positions.state import Position


@dataclass(frozen=True, slots=True)
class EntryRefused:
    """Risk refused a strategy's entry signal; nothing was sent."""

    symbol: Symbol
    strategy: str
    refusal: Refused
    at: datetime


@dataclass(frozen=True, slots=True)
class EntryApproved:
    """Risk approved an entry and its order was sent: the amount really sent and the cap that bound it."""

    position_id: PositionId
    symbol: Symbol
    strategy: str
    decision: Approved
    at: datetime


@dataclass(frozen=True, slots=True)
class PositionOpened:
    """The entry completed and protection was requested; ``position`` is the OPEN position."""

    position: Position
    at: datetime


@dataclass(frozen=True, slots=True)
class StopMoved:
    """The trailing or break-even rule moved a position's stop (never looser)."""

    position_id: PositionId
    symbol: Symbol
    old: Decimal | None
    new: Decimal
    at: datetime


@dataclass(frozen=True, slots=True)
class PositionClosed:
    """The position reached a terminal status (CLOSED, CANCELLED or REJECTED)."""

    position: Position
    at: datetime


@dataclass(frozen=True, slots=True)
class PositionFailed:
    """The position went to ERROR; a human or reconciliation must look at it."""

    position: Position
    at: datetime


@dataclass(frozen=True, slots=True)
class GroupOpened:
    """Both legs of a pair group filled: the hedge is on."""

    group: GroupPosition
    at: datetime


@dataclass(frozen=True, slots=True)
class GroupClosed:
    """A pair group is flat for good: CLOSED after being open, or FAILED (a leg failed, the other unwound).

    ``legs``: each leg that held coins as a CLOSED position (``pair_groups.leg_positions``), what the
    services store as the group's closed trades.
    """

    group: GroupPosition
    at: datetime
    legs: tuple[Position, ...] = ()


EngineEvent = (EntryRefused | EntryApproved | PositionOpened | StopMoved | PositionClosed | PositionFailed
               | GroupOpened | GroupClosed)
