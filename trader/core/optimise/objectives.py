"""Objective functions for the optimiser: one number per backtest, higher is better.

- ``sharpe``: annualised (365 d) Sharpe ratio of daily returns; a flat curve (no trades) scores 0.
- ``calmar``: CAGR / max drawdown, the drawdown floored at 1 % so that a run with one lucky trade
  and a negligible drawdown does not score in the hundreds.
- ``return``: total return as a fraction.
- ``profit_dd``: total return, but a run whose max drawdown exceeds ``max_drawdown`` is infeasible.

Every objective also needs at least ``min_trades`` trades: optimisers otherwise love parameters
that never trade. An infeasible run carries the reason in ``Score.violation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from trader.core.analytics import curve
from trader.core.errors import InputError

CALMAR_DRAWDOWN_FLOOR = 0.01


class ObjectiveName(StrEnum):
    """The objectives ``tradebot optimise --objective`` accepts."""

    SHARPE = "sharpe"
    CALMAR = "calmar"
    RETURN = "return"
    PROFIT_DD = "profit_dd"


@dataclass(frozen=True, slots=True)
class Score:
    """An objective value with what it was computed from; feasible when ``violation`` is empty."""

    value: float
    trades: int
    drawdown: float
    violation: str = ""

    @property
    def feasible(self) -> bool:
        """Return True when the run met every constraint."""
        return not self.violation


@dataclass(frozen=True, slots=True)
class Objective:
    """What the optimiser maximises, with its constraints."""

    name: ObjectiveName = ObjectiveName.SHARPE
    max_drawdown: float = 0.25
    min_trades: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.max_drawdown <= 1:
            raise InputError(f"max drawdown must be a fraction in (0, 1], got {self.max_drawdown}")
        if self.min_trades < 0:
            raise InputError(f"min trades must be >= 0, got {self.min_trades}")

    def describe(self) -> str:
        """Return the objective and its constraints in words."""
        cap = f", max drawdown {self.max_drawdown:.0%}" if self.name is ObjectiveName.PROFIT_DD else ""
        return f"maximise {self.name}{cap}, at least {self.min_trades} trades"

    def score(self, equity: pd.Series, trades: int) -> Score:
        """Return the objective of one run from its equity curve and trade count."""
        drawdown = curve.max_drawdown_depth(equity) if len(equity) else 0.0
        value = _value(self.name, equity, drawdown)
        violation = ""
        if self.name is ObjectiveName.PROFIT_DD and drawdown > self.max_drawdown:
            violation = f"drawdown {drawdown:.1%} > cap {self.max_drawdown:.0%}"
        return Score(value, trades, drawdown, violation)

    def combine(self, parts: Sequence[Score]) -> Score:
        """Return the mean of per-segment scores; infeasible if any part is, or too few trades in all."""
        if not parts:
            raise ValueError("no scores to combine")
        trades = sum(p.trades for p in parts)
        violation = next((p.violation for p in parts if p.violation), "")
        if not violation and trades < self.min_trades:
            violation = f"{trades} trades < minimum {self.min_trades}"
        value = sum(p.value for p in parts) / len(parts)
        return Score(value, trades, max(p.drawdown for p in parts), violation)


def _value(name: ObjectiveName, equity: pd.Series, drawdown: float) -> float:
    if len(equity) < 2:
        return 0.0
    if name is ObjectiveName.SHARPE:
        return curve.sharpe_ratio(curve.daily_return_values(equity)) or 0.0
    if name is ObjectiveName.CALMAR:
        growth = curve.cagr(equity) or 0.0
        return growth / max(drawdown, CALMAR_DRAWDOWN_FLOOR)
    return float(equity.iloc[-1]) / float(equity.iloc[0]) - 1.0
