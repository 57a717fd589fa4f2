"""BacktestResult: the trades (with MAE/MFE), the equity curve, KPIs and the assumptions of a run.

KPIs come from ``trader.core.analytics.kpis`` (the same functions as the live /profit report), computed
on demand so a run that only needs its trades does not pay for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from trader.core.analytics.kpis import Kpis, compute_kpis
from trader.core.analytics.records import TradeRecord, equity_curve
from trader.core.backtest.lanes import Lane
from trader.core.backtest.runner import BacktestSettings, RunOutput
from trader.core.backtest.stops import TradingStops
from trader.core.domain.candles import datetime_to_ms, ms_to_datetime
from trader.core.domain.ids import Symbol
from trader.core.positions.state import Position, PositionStatus


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Everything a run produced, plus what it assumed."""

    strategy: str
    params: Mapping[str, object]
    pairs: tuple[str, ...]
    timeframe: str
    start_balance: Decimal
    quote: str
    # the one closed-trade record, with MAE/MFE filled in; a tuple, or the compiled path's records built
    # on first read (``compiled_records.LazyTrades``, equal to the tuple): len() costs nothing
    trades: Sequence[TradeRecord]
    equity: pd.Series  # quote-currency equity at every candle close (UTC index)
    candles: int
    steps: int  # engine.step calls (the event count)
    refused_orders: int  # entries the simulated venue rejected (e.g. funds after slippage)
    assumptions: Mapping[str, str] = field(default_factory=dict)
    stops: TradingStops = field(default_factory=TradingStops)  # why trading stopped, if it did
    path: str = "engine"  # which simulation ran: "fast", or "engine" with the reason the fast one did not

    @property
    def start(self) -> datetime:
        """Return the first equity time."""
        return self.equity.index[0].to_pydatetime()  # type: ignore[no-any-return]

    @property
    def end(self) -> datetime:
        """Return the last equity time."""
        return self.equity.index[-1].to_pydatetime()  # type: ignore[no-any-return]

    @property
    def end_equity(self) -> float:
        """Return the final equity in the quote currency."""
        return float(self.equity.iloc[-1])

    def kpis(self) -> Kpis:
        """Return return, CAGR, Sharpe, Sortino, Calmar, drawdown, win rate, profit factor and more."""
        return compute_kpis(self.trades, self.equity)


def build_result(run: RunOutput, settings: BacktestSettings, params: Mapping[str, object],
                 assumptions: Mapping[str, str], path: str = "engine") -> BacktestResult:
    """Turn a run's closed positions and fills into a BacktestResult."""
    closed = [p for p in run.positions if is_trade(p)]
    excursions = _excursions(closed, run.lanes)
    trades = tuple(sorted((trade_record(p, *excursions[i]) for i, p in enumerate(closed)),
                          key=lambda t: (t.entry_time, t.symbol)))
    values = run.timeline.equity_curve(run.fills, settings.start_balance, run.funding)
    equity = equity_curve(run.timeline.times, values) if len(values) else pd.Series(dtype=np.float64)
    refused = sum(1 for p in run.positions if p.status is PositionStatus.REJECTED)
    candles = sum(len(lane) for lane in run.lanes.values())
    return BacktestResult(settings.strategy, dict(params), tuple(run.lanes), settings.timeframe,
                          settings.start_balance, settings.quote, trades, equity, candles, run.steps, refused,
                          dict(assumptions), run.stops, path)


def is_trade(position: Position) -> bool:
    """Return True for a CLOSED position that held coins and has an exit price (a round trip)."""
    closed = position.status is PositionStatus.CLOSED
    return closed and position.filled > 0 and position.exit_price is not None


def _span(position: Position) -> tuple[datetime, datetime]:
    entry_time = position.opened_at or ms_to_datetime(0)
    return entry_time, position.closed_at or entry_time


def _excursions(closed: list[Position], lanes: Mapping[Symbol, Lane]) -> list[tuple[float, float]]:
    """Return (highest high, lowest low) over each position's candles, entry to exit candle included.

    Array operations per pair (searchsorted over all trades, one compiled pass over the ranges)
    instead of two searches and two slices per trade: the same numbers, exactly.
    """
    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(closed)
    by_symbol: dict[Symbol, list[int]] = {}
    for i, position in enumerate(closed):
        by_symbol.setdefault(position.symbol, []).append(i)
    for symbol, indexes in by_symbol.items():
        candles = lanes[symbol].candles
        spans = [_span(closed[i]) for i in indexes]
        entry_ms = np.array([datetime_to_ms(a) for a, _ in spans], dtype=np.int64)
        exit_ms = np.array([datetime_to_ms(b) for _, b in spans], dtype=np.int64)
        first = np.maximum(np.searchsorted(candles.timestamp, entry_ms, side="right") - 1, 0)
        last = np.maximum(np.searchsorted(candles.timestamp, exit_ms, side="right") - 1, first)
        highs, lows = _range_extremes(candles.high, candles.low, first, last)
        for i, high, low in zip(indexes, highs.tolist(), lows.tolist(), strict=True):
            out[i] = (high, low)
    return out


def _range_extremes(high: np.ndarray, low: np.ndarray, first: np.ndarray,
                    last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return max(high[f:l+1]) and min(low[f:l+1]) for each (f, l) of ``first``/``last`` (f <= l).

    numpy's ``reduceat`` over the bounds f0, l0+1, f1, l1+1, ...: the even results are the slices (the
    odd ones, between trades, are dropped); max/min are exact, so the values are the slices' own. Plain
    numpy, not a cached numba function: loading one more compiled function costs a `tradebot
    backtest` process more than the reduction itself.
    """
    n = len(first)
    if n == 0:
        return np.empty(0), np.empty(0)
    end = len(high) - 1  # reduceat wants every bound inside the array: a slice to the end stops one short
    bounds = np.empty(2 * n, dtype=np.intp)
    bounds[0::2] = first
    bounds[1::2] = np.minimum(np.asarray(last) + 1, end)
    highs = np.maximum.reduceat(high, bounds)[0::2]
    lows = np.minimum.reduceat(low, bounds)[0::2]
    tail = np.asarray(last) == end  # ... and takes the last candle in here
    highs[tail] = np.maximum(highs[tail], high[end])
    lows[tail] = np.minimum(lows[tail], low[end])
    return highs, lows


def trade_record(position: Position, highest: float, lowest: float) -> TradeRecord:
    """Return a closed position as a trade record; ``highest``/``lowest``: its candles' extremes (MAE/MFE)."""
    entry_time, exit_time = _span(position)
    entry = float(position.entry_price or 0)
    high = highest / entry - 1.0
    low = lowest / entry - 1.0
    long = position.is_long
    return TradeRecord(
        symbol=position.symbol, strategy=position.strategy, direction=position.direction,
        entry_time=entry_time, exit_time=exit_time, entry_price=position.entry_price or Decimal(0),
        exit_price=position.exit_price or Decimal(0), amount=position.filled, fees=position.fees,
        pnl=position.realised_pnl, exit_reason=str(position.exit_reason or ""),
        confidence=position.confidence, entry_reason=position.reason,
        mae=low if long else -high, mfe=high if long else -low,
        leverage=position.leverage, funding=position.funding,
    )
