"""InsightService: the web API's read models beyond the Telegram views (KPIs, equity curve, per-strategy
results, candles with indicator columns, the audit log, scheduled jobs).

Everything is computed by ``trader.core.analytics`` and ``trader.core.indicators`` over the store, so
the API's KPIs agree with the backtest report and /profit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from trader.core import indicators
from trader.core.analytics import curve
from trader.core.analytics.kpis import trade_stats
from trader.core.domain.candles import CandleFrame, datetime_to_ms, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, InputError
from trader.ports.clock import Clock
from trader.ports.store import EquitySnapshot, UnitOfWorkFactory
from trader.services.audit import AuditService
from trader.services.closed_trades import ClosedTrades
from trader.services.dto import JobView
from trader.services.equity_history import EquityHistory
from trader.services.web_dto import (
    AuditView,
    CandleTable,
    EquityCurveView,
    EquityPoint,
    KpiView,
)

MAX_CANDLES: Final = 5000
MAX_PERIOD: Final = 500
_INDICATOR = re.compile(r"^(sma|ema|rsi|atr|bollinger)_(\d{1,3})$")
JobsSource = Callable[[], tuple[JobView, ...]]


def _float_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _column(values: npt.NDArray[np.float64]) -> tuple[float | None, ...]:
    return tuple(None if math.isnan(v) else float(v) for v in values.tolist())


def indicator_columns(frame: CandleFrame, names: Sequence[str]) -> dict[str, npt.NDArray[np.float64]]:
    """Return the columns for ``names`` like ``sma_20``, ``rsi_14``, ``bollinger_20`` (three bands).

    InputError names an unknown indicator or a period out of 2..500.
    """
    out: dict[str, npt.NDArray[np.float64]] = {}
    for name in names:
        match = _INDICATOR.match(name)
        period = int(match.group(2)) if match else 0
        if match is None or not 2 <= period <= MAX_PERIOD:
            raise InputError(f"unknown indicator {name!r}", user_message=(
                f"Unknown indicator {name}: use sma_N, ema_N, rsi_N, atr_N or bollinger_N with N in 2..500."))
        kind = match.group(1)
        if kind == "sma":
            out[name] = indicators.sma(frame.close, period)
        elif kind == "ema":
            out[name] = indicators.ema(frame.close, period)
        elif kind == "rsi":
            out[name] = indicators.rsi(frame.close, period)
        elif kind == "atr":
            out[name] = indicators.atr(frame.high, frame.low, frame.close, period)
        else:
            bands = indicators.bollinger(frame.close, period)
            out[f"{name}_upper"], out[f"{name}_middle"], out[f"{name}_lower"] = (
                bands.upper, bands.middle, bands.lower)
    return out


def _equity_series(snapshots: Sequence[EquitySnapshot]) -> pd.Series:
    index = pd.DatetimeIndex([s.ts for s in snapshots])
    return pd.Series([float(s.equity) for s in snapshots], index=index, dtype=np.float64)


class StoreInsightService:
    """Read models over the store for the web API."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, audit: AuditService, *, quote: str,
                 store_exchange: str, jobs: JobsSource | None = None) -> None:
        self._uow = uow_factory
        self._closed = ClosedTrades(uow_factory)
        self._equity = EquityHistory(uow_factory)
        self._clock = clock
        self._audit = audit
        self._quote = quote
        self._exchange = store_exchange
        self._jobs = jobs or (lambda: ())

    def _since(self, days: int | None) -> datetime | None:
        if days is not None and days < 1:
            raise InputError(f"days {days}", user_message="Days must be 1 or more.")
        return None if days is None else self._clock.now() - timedelta(days=days)

    async def kpis(self, days: int | None = None) -> KpiView:
        """Return trade statistics and equity-curve ratios over the last ``days`` days."""
        since = self._since(days)
        records = [r for r in await self._closed.records() if since is None or r.exit_time >= since]
        stats = trade_stats(records)
        snapshots = await self._equity.since(since)
        total = drawdown = sharpe = sortino = vol = None
        if len(snapshots) >= 2:
            equity = _equity_series(snapshots)
            total = float(equity.iloc[-1]) / float(equity.iloc[0]) - 1.0 if equity.iloc[0] > 0 else None
            drawdown = curve.max_drawdown(equity).depth
            returns = curve.daily_returns(equity)
            sharpe, sortino = curve.sharpe_ratio(returns), curve.sortino_ratio(returns)
            if len(returns) >= 2:
                vol = float(np.std(returns.to_numpy(), ddof=1)) * math.sqrt(curve.DAYS_PER_YEAR)
        factor = stats.gross_profit / stats.gross_loss if stats.gross_loss > 0 else None
        return KpiView(
            quote=self._quote, days=days, trades=stats.trades, wins=stats.wins, losses=stats.losses,
            win_rate=Decimal(stats.wins) / Decimal(stats.trades) if stats.trades else None,
            profit_factor=factor, expectancy=stats.expectancy, total_pnl=stats.total_pnl,
            fees=stats.total_fees, total_return=total, max_drawdown=drawdown, sharpe=_float_or_none(sharpe),
            sortino=_float_or_none(sortino), volatility=_float_or_none(vol),
            start=snapshots[0].ts if snapshots else None, end=snapshots[-1].ts if snapshots else None)

    async def equity_curve(self, days: int | None = None, max_points: int = 2000) -> EquityCurveView:
        """Return equity snapshots with drawdown, thinned to at most ``max_points`` (last point kept)."""
        snapshots = await self._equity.since(self._since(days))
        if not snapshots:
            return EquityCurveView(self._quote, ())
        dd = curve.drawdown_series(_equity_series(snapshots)).to_numpy()
        step = max(1, math.ceil(len(snapshots) / max(1, max_points)))
        chosen = list(range(0, len(snapshots), step))
        if chosen[-1] != len(snapshots) - 1:
            chosen.append(len(snapshots) - 1)
        points = tuple(EquityPoint(snapshots[i].ts, snapshots[i].equity, float(dd[i])) for i in chosen)
        return EquityCurveView(self._quote, points)

    async def candles(self, pair: str, timeframe: str, limit: int,
                      names: Sequence[str] = ()) -> CandleTable:
        """Return the last ``limit`` stored candles of ``pair`` with the indicator columns ``names``."""
        if not 1 <= limit <= MAX_CANDLES:
            raise InputError(f"limit {limit}", user_message=f"limit must be 1..{MAX_CANDLES}.")
        try:
            step = timeframe_ms(timeframe)
        except ValueError as exc:
            raise InputError(str(exc), user_message=f"Unknown timeframe {timeframe}.") from exc
        symbol = Symbol(pair.upper())
        warmup = max((int(m.group(2)) for n in names if (m := _INDICATOR.match(n))), default=0) * 3
        now_ms = datetime_to_ms(self._clock.now())  # the replay's clock in a demo: no candles from its future
        async with self._uow() as uow:
            last = await uow.candles.last_ms(self._exchange, symbol, timeframe)
            end = now_ms if last is None else min(last + step, now_ms)
            frame = await uow.candles.load(self._exchange, symbol, timeframe,
                                           start_ms=end - (limit + warmup) * step, end_ms=end)
        if len(frame) == 0:
            raise DataError(f"no candles for {symbol} {timeframe}",
                            user_message=f"No stored {timeframe} candles for {symbol}.")
        columns = indicator_columns(frame, names)
        keep = slice(max(0, len(frame) - limit), len(frame))
        return CandleTable(
            symbol, timeframe, tuple(int(t) for t in frame.timestamp[keep].tolist()),
            tuple(frame.open[keep].tolist()), tuple(frame.high[keep].tolist()),
            tuple(frame.low[keep].tolist()), tuple(frame.close[keep].tolist()),
            tuple(frame.volume[keep].tolist()), {k: _column(v[keep]) for k, v in columns.items()})

    async def audit_log(self, limit: int = 50, actor: str | None = None,
                        action: str | None = None) -> tuple[AuditView, ...]:
        """Return the newest audit entries first, optionally for one actor and action."""
        if not 1 <= limit <= 1000:
            raise InputError(f"limit {limit}", user_message="limit must be 1..1000.")
        entries = await self._audit.recent(limit, actor, action)
        return tuple(AuditView(e.id or 0, e.ts, e.actor, e.action, e.detail, e.result) for e in entries)

    async def jobs(self) -> tuple[JobView, ...]:
        """Return the scheduled jobs, soonest first."""
        far = datetime.max.replace(tzinfo=UTC)
        return tuple(sorted(self._jobs(), key=lambda j: (j.next_run_at or far, j.id)))
