"""Read models of pair groups (the pairs strategy's two-legged positions) for /status and /positions.

Kept apart from ``dto.py`` (near its size limit). Amounts are base units, prices and PnL quote; a leg's
PnL is realised on what was closed plus the rest marked at the current price, after its fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trader.core.domain.enums import Side


@dataclass(frozen=True, slots=True)
class PairLegView:
    """One leg of a pair group."""

    pair: str
    side: Side  # BUY: the long leg; SELL: the short leg
    amount: Decimal  # held now (what was asked while it is still opening)
    entry_price: Decimal | None  # None until it fills
    current_price: Decimal | None  # None when no price could be fetched
    pnl: Decimal  # quote, after this leg's fees


@dataclass(frozen=True, slots=True)
class PairGroupView:
    """One pair group: both legs, their total PnL, the hedge ratio and how it stands."""

    id: str
    strategy: str
    status: str  # opening, open, unwinding (a leg failed), closing
    spread: str  # "long" (long y, short x) or "short"
    beta: Decimal
    legs: tuple[PairLegView, PairLegView]
    opened_at: datetime | None
    pnl: Decimal  # both legs' PnL together, quote

