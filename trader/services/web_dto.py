"""Frozen values for the web API's read models beyond the Telegram ones (KPIs, curves, candles, audit, jobs).

Same conventions as ``dto``: money is Decimal in the quote currency, times aware UTC, ratios fractions.
Ratios computed from float equity curves (Sharpe, Sortino, volatility, drawdown) are floats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class KpiView:
    """Live-account KPIs over the last ``days`` days (all time when None)."""

    quote: str
    days: int | None
    trades: int
    wins: int
    losses: int
    win_rate: Decimal | None
    profit_factor: Decimal | None  # None without losses to divide by
    expectancy: Decimal | None  # mean net PnL per trade
    total_pnl: Decimal
    fees: Decimal
    total_return: float | None  # from the equity snapshots; None with fewer than two
    max_drawdown: float | None
    sharpe: float | None  # annualised over 365 days from daily returns
    sortino: float | None
    volatility: float | None  # annualised standard deviation of daily returns
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """One equity snapshot with its drawdown from the running peak (a fraction <= 0)."""

    ts: datetime
    equity: Decimal
    drawdown: float


@dataclass(frozen=True, slots=True)
class EquityCurveView:
    """The account's equity snapshots, oldest first."""

    quote: str
    points: tuple[EquityPoint, ...]


@dataclass(frozen=True, slots=True)
class CandleTable:
    """Candles as columns (open time in epoch ms) plus one column per requested indicator.

    Indicator values are None during their warm-up; names are as requested, e.g. ``sma_20``.
    """

    pair: str
    timeframe: str
    time: tuple[int, ...]
    open: tuple[float, ...]
    high: tuple[float, ...]
    low: tuple[float, ...]
    close: tuple[float, ...]
    volume: tuple[float, ...]
    indicators: dict[str, tuple[float | None, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditView:
    """One audit-log entry."""

    id: int
    ts: datetime
    actor: str
    action: str
    detail: str
    result: str
