"""The drift report as front ends receive it: counts, the PnL difference split into its parts, per trade.

Money is Decimal in ``DriftView.quote``; a PnL difference is the account's PnL minus the backtest's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trader.core.domain.enums import Direction


@dataclass(frozen=True, slots=True)
class DriftSide:
    """One side of a trade: how the backtest or the account made it."""

    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime
    exit_price: Decimal
    amount: Decimal
    fees: Decimal
    pnl: Decimal
    exit_reason: str
    position_id: str


@dataclass(frozen=True, slots=True)
class DriftTradeView:
    """One trade of either side; ``status``: matched, missing (backtest only), extra (account only)."""

    status: str
    pair: str
    strategy: str
    direction: Direction
    backtest: DriftSide | None
    account: DriftSide | None
    slippage: Decimal
    fees: Decimal
    size: Decimal
    logic: Decimal
    why: tuple[str, ...]  # the decisions that differ; empty when only execution differs

    @property
    def pnl_difference(self) -> Decimal:
        """Return the account's PnL minus the backtest's (the sum of the four parts)."""
        return self.slippage + self.fees + self.size + self.logic

    @property
    def is_logic(self) -> bool:
        """Return True when a decision differs (the report alerts on it)."""
        return bool(self.why)

    @property
    def differs(self) -> bool:
        """Return True when anything about the trade differs between the two sides."""
        if self.is_logic or self.pnl_difference != 0:
            return True
        b, a = self.backtest, self.account
        return b is not None and a is not None and (b.entry_price, b.exit_price, b.amount) != (
            a.entry_price, a.exit_price, a.amount)

    @property
    def entry_time(self) -> datetime:
        """Return the account's entry time, else the backtest's."""
        side = self.account or self.backtest
        assert side is not None  # a trade has at least one side
        return side.entry_time


@dataclass(frozen=True, slots=True)
class ParameterChangeView:
    """A parameter change applied inside the period, at its time."""

    at: datetime
    key: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class DriftView:
    """The drift report over ``start``..``end`` (the period the account traded)."""

    start: datetime
    end: datetime
    quote: str
    strategies: tuple[str, ...]
    matched: int
    missing: int
    extra: int
    slippage: Decimal
    fees: Decimal
    size: Decimal
    logic: Decimal
    trades: tuple[DriftTradeView, ...]  # every trade of both sides, in entry time order
    changes: tuple[ParameterChangeView, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def logic_differences(self) -> tuple[DriftTradeView, ...]:
        """Return the trades whose decisions differ."""
        return tuple(t for t in self.trades if t.is_logic)

    @property
    def differing(self) -> tuple[DriftTradeView, ...]:
        """Return the trades where anything differs."""
        return tuple(t for t in self.trades if t.differs)
