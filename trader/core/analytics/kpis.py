"""KPIs for live records and backtest results alike: trade statistics plus equity-curve statistics.

Definitions (also in docs/reports.md): a win has net PnL > 0, a loss < 0 (zero is neither);
win rate = wins / trades; profit factor = gross profit / |gross loss| (inf with no losses);
expectancy = mean net PnL per trade; exposure time = share of the period with at least one position
open (overlapping trades counted once); trades per day = trades / period days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from trader.core.analytics import curve
from trader.core.analytics.account import AccountKpis, account_kpis
from trader.core.analytics.curve import Drawdown
from trader.core.analytics.records import TradeArrays, TradeRecord, check_equity, trade_arrays
from trader.core.domain.money import ZERO

__all__ = ["AccountKpis", "EquityStats", "Kpis", "TradeStats", "account_kpis", "compute_kpis",
           "equity_from_trades", "equity_stats", "exposure_time", "trade_stats"]


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Round-trip statistics in the quote currency (money exact, ratios float)."""

    trades: int
    wins: int
    losses: int
    total_pnl: Decimal
    total_fees: Decimal
    gross_profit: Decimal
    gross_loss: Decimal  # a positive magnitude
    average_win: Decimal | None
    average_loss: Decimal | None  # negative
    expectancy: Decimal | None
    win_rate: float | None  # fraction 0..1
    profit_factor: float | None  # inf when there are wins and no losses


@dataclass(frozen=True, slots=True)
class EquityStats:
    """Equity-curve statistics over [start, end]."""

    start: datetime
    end: datetime
    start_equity: float
    end_equity: float
    total_return: float  # fraction
    max_drawdown: Drawdown  # the deepest episode
    longest_drawdown: Drawdown  # the episode that lasted longest (often not the deepest)
    volatility: float | None  # annualised (365 d) standard deviation of daily returns
    sharpe: float | None
    sortino: float | None
    cagr: float | None
    calmar: float | None


@dataclass(frozen=True, slots=True)
class Kpis:
    """Everything the /profit report and the backtest report show."""

    trades: TradeStats
    equity: EquityStats
    exposure_time: float  # fraction of the period with a position open
    trades_per_day: float | None


def trade_stats(trades: Sequence[TradeRecord]) -> TradeStats:
    """Return win rate, profit factor, average win/loss and expectancy of closed trades."""
    pnls = [t.pnl for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_profit = sum(wins, ZERO)
    gross_loss = -sum(losses, ZERO)
    total = sum(pnls, ZERO)
    count = len(pnls)
    if gross_loss > 0:
        profit_factor: float | None = float(gross_profit / gross_loss)
    else:
        profit_factor = float("inf") if gross_profit > 0 else None
    return TradeStats(
        trades=count,
        wins=len(wins),
        losses=len(losses),
        total_pnl=total,
        total_fees=sum((t.fees for t in trades), ZERO),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        average_win=gross_profit / len(wins) if wins else None,
        average_loss=-gross_loss / len(losses) if losses else None,
        expectancy=total / count if count else None,
        win_rate=len(wins) / count if count else None,
        profit_factor=profit_factor,
    )


def equity_stats(equity: pd.Series) -> EquityStats:
    """Return drawdowns, volatility, Sharpe, Sortino (daily, 365 d), CAGR and Calmar of an equity curve."""
    check_equity(equity)
    if len(equity) == 0:
        raise ValueError("equity curve is empty")
    returns = curve.daily_returns(equity)
    dd = curve.max_drawdown(equity)
    growth = curve.cagr(equity)
    first, last = float(equity.iloc[0]), float(equity.iloc[-1])
    return EquityStats(
        start=equity.index[0].to_pydatetime(),
        end=equity.index[-1].to_pydatetime(),
        start_equity=first,
        end_equity=last,
        total_return=last / first - 1.0,
        max_drawdown=dd,
        longest_drawdown=curve.longest_drawdown(equity),
        volatility=curve.volatility(returns),
        sharpe=curve.sharpe_ratio(returns),
        sortino=curve.sortino_ratio(returns),
        cagr=growth,
        calmar=curve.calmar_ratio(growth, dd),
    )


def exposure_time(arrays: TradeArrays, start_ns: int, end_ns: int) -> float:
    """Return the fraction of [start, end] covered by at least one trade (intervals merged)."""
    span = end_ns - start_ns
    if span <= 0 or len(arrays) == 0:
        return 0.0
    order = np.argsort(arrays.entry_ns, kind="stable")
    starts = np.clip(arrays.entry_ns[order], start_ns, end_ns)
    ends = np.clip(arrays.exit_ns[order], start_ns, end_ns)
    reach = np.maximum.accumulate(ends)
    # a trade adds only the part beyond the furthest exit seen before it
    prior = np.concatenate(([start_ns], reach[:-1]))
    covered = np.maximum(ends - np.maximum(starts, prior), 0)
    return float(covered.sum()) / span


def compute_kpis(trades: Sequence[TradeRecord], equity: pd.Series) -> Kpis:
    """Return every KPI for closed trades and the equity curve of the same run or account."""
    stats = equity_stats(equity)
    arrays = trade_arrays(trades)
    start_ns, end_ns = int(equity.index[0].value), int(equity.index[-1].value)
    days = (end_ns - start_ns) / 86_400e9
    return Kpis(
        trades=trade_stats(trades),
        equity=stats,
        exposure_time=exposure_time(arrays, start_ns, end_ns),
        trades_per_day=len(trades) / days if days > 0 else None,
    )


def equity_from_trades(trades: Sequence[TradeRecord], start_equity: Decimal, start: datetime) -> pd.Series:
    """Return a step equity curve: ``start_equity`` plus realised PnL at each exit (for live records)."""
    ordered = sorted(trades, key=lambda t: t.exit_time)
    times = [pd.Timestamp(start)] + [pd.Timestamp(t.exit_time) for t in ordered]
    pnl = np.fromiter((float(t.pnl) for t in ordered), dtype=np.float64, count=len(ordered))
    values = float(start_equity) + np.concatenate(([0.0], np.cumsum(pnl)))
    index = pd.DatetimeIndex(times)
    if index.tz is None:
        raise ValueError("start is naive: times must be timezone-aware UTC")
    return check_equity(pd.Series(values, index=index.tz_convert("UTC"), name="equity"))
