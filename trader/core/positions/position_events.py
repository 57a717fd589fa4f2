"""Position events: frozen, past tense; every change of a Position is one of these.

Fill events carry one execution (partial fills arrive as several events). ``fee`` is in the quote
currency unless ``fee_in_base``; a fee in a third asset must be converted to quote by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trader.core.domain.enums import ExitReason
from trader.core.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class _Fill:
    amount: Decimal
    price: Decimal
    fee: Decimal = ZERO
    fee_in_base: bool = False
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EntryFilled(_Fill):
    """The entry order executed ``amount`` at ``price`` (partial fills allowed)."""


@dataclass(frozen=True, slots=True)
class EntryCancelled:
    """The entry order was cancelled or expired; any filled part is kept."""

    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EntryRejected:
    """The venue refused the entry order."""

    reason: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StopPlaced:
    """The venue accepted the resting stop (or OCO) order."""

    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StopRejected:
    """The venue refused the stop; the engine watches the stop from now on."""

    reason: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StopCancelled:
    """The resting stop disappeared without our asking (venue or user cancelled it)."""

    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StopTriggered:
    """The venue reports the resting stop triggered; fills follow as StopFilled."""

    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StopFilled(_Fill):
    """The stop (or the stop leg of an OCO) executed ``amount``."""


@dataclass(frozen=True, slots=True)
class TakeProfitPlaced:
    """The venue accepted the resting take-profit limit."""

    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TakeProfitRejected:
    """The venue refused the take-profit; the engine watches the target instead."""

    reason: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TakeProfitCancelled:
    """The resting take-profit disappeared without our asking."""

    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TakeProfitFilled(_Fill):
    """The take-profit (or the limit leg of an OCO) executed ``amount``."""


@dataclass(frozen=True, slots=True)
class ExitRequested:
    """Close the position at market (signal, manual, halt, end of data)."""

    reason: ExitReason
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExitFilled(_Fill):
    """The market exit order executed ``amount`` (partial fills allowed)."""


@dataclass(frozen=True, slots=True)
class ExitFailed:
    """The market exit order was rejected, cancelled or expired; it is re-sent with a new attempt."""

    reason: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PriceUpdated:
    """A closed candle (or tick: high = low = close) for the position's symbol."""

    high: Decimal
    low: Decimal
    close: Decimal
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ErrorRaised:
    """Something outside the machine broke the position (e.g. reconciliation mismatch)."""

    detail: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FundingPaid:
    """A perpetual swap's funding charge: ``amount`` quote paid (negative: received) at ``at``."""

    amount: Decimal
    at: datetime | None = None


PositionEvent = (
    EntryFilled | EntryCancelled | EntryRejected | StopPlaced | StopRejected | StopCancelled
    | StopTriggered | StopFilled | TakeProfitPlaced | TakeProfitRejected | TakeProfitCancelled
    | TakeProfitFilled | ExitRequested | ExitFilled | ExitFailed | PriceUpdated | ErrorRaised
    | FundingPaid
)
