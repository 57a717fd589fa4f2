"""BacktestService: run ``backtest.api.run_backtest`` on stored candles off the event loop; report + charts.

The run happens in a worker thread (``asyncio.to_thread``): the simulation is numpy-heavy and releases
the GIL in its inner loops, and a thread avoids pickling the strategy and the candles into a process.
The strategy is built with the running parameters (the ParameterBook), candles before the period only
warm the indicators up, and every run is stored (``BacktestRunRepository``) with its KPIs.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from trader.config.sections import BacktestConfig
from trader.core.analytics.kpis import Kpis
from trader.core.backtest.api import run_backtest
from trader.core.backtest.pair_backtest import run_pair_backtest
from trader.core.backtest.result import BacktestResult
from trader.core.domain.candles import CandleFrame, check_candles, timeframe_ms
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import Symbol, split_symbol
from trader.core.errors import DataError, InputError, StrategyError
from trader.core.strategies.base import Strategy
from trader.core.strategies.pair_setup import PAIRS_NAME, PairSetup, pair_setup
from trader.live.parameters import ParameterBook
from trader.ports.charts import ChartRenderer
from trader.ports.clock import Clock
from trader.ports.store import ResearchUnitOfWorkFactory
from trader.services.backtest_chart import trade_chart
from trader.services.backtest_runs import run_record, run_settings, run_view, strategy_defaults
from trader.services.dto import (
    BacktestHalt,
    BacktestReport,
    BacktestRequest,
    BacktestRunView,
    ChartImage,
    RefusedEntries,
)

logger = logging.getLogger(__name__)

MAX_DAYS = 3650


def _dec(value: float | None) -> Decimal | None:
    if value is None or not math.isfinite(value):
        return None
    return Decimal(repr(value))


class StoredBacktestService:
    """Implements ``api.BacktestService`` over the candle store."""

    def __init__(self, uow_factory: ResearchUnitOfWorkFactory, renderer: ChartRenderer, clock: Clock, *,
                 config: BacktestConfig, book: ParameterBook, store_exchange: str,
                 theme: str = "dark") -> None:
        self._uow = uow_factory
        self._renderer = renderer
        self._clock = clock
        self._config = config
        self._book = book
        self._store_exchange = store_exchange
        self._theme = theme

    def _strategy(self, name: str) -> Strategy:
        params = next((e.params for e in self._book.strategies if e.name == name), {})
        try:
            return self._book.registry.create(name, params)
        except StrategyError as exc:
            raise DataError(str(exc), user_message=exc.user_message) from None

    def _pairs_setup(self, pair: Symbol) -> tuple[PairSetup, FuturesTerms]:
        """Return the configured pairs strategy's setup; DataError when none is configured or ``pair`` is
        not one of its legs (the legs come from the configuration: /backtest names one of them)."""
        entry = next((e for e in self._book.strategies if e.name == PAIRS_NAME), None)
        if entry is None:
            raise DataError("pairs: not configured", user_message="The pairs strategy backtests the couple "
                            "configured as [[strategies]] name = \"pairs\"; none is configured.")
        try:
            setup = pair_setup(entry.pairs, entry.params)
        except StrategyError as exc:
            raise DataError(str(exc), user_message=exc.user_message) from None
        if pair not in (setup.y, setup.x):
            raise DataError(f"pairs: {pair} is not a leg", user_message=f"The pairs strategy trades "
                            f"{setup.y} against {setup.x}; name one of them.")
        return setup, FuturesTerms(Decimal(entry.leverage), entry.margin_mode)

    async def run(self, request: BacktestRequest) -> BacktestReport:
        """Backtest the last ``request.days`` days of stored candles; DataError for unknown inputs.

        The pairs strategy runs its configured couple as pair groups (``run_pair_backtest``), whichever
        of its legs the request names.
        """
        if not 1 <= request.days <= MAX_DAYS:
            raise InputError(f"days={request.days}", user_message=f"Days must be 1..{MAX_DAYS}.")
        pair = Symbol(request.pair.upper())
        settings = run_settings(self._config, self._book.risk, request.strategy, request.timeframe,
                                split_symbol(pair)[1])
        if request.strategy == PAIRS_NAME:
            setup, terms = self._pairs_setup(pair)
            frames, trade_from = await self._candles([Symbol(setup.y), Symbol(setup.x)], request,
                                                     setup.required_history)
            settings = replace(settings, allow_short=True, futures=terms)
            result = await asyncio.to_thread(run_pair_backtest, setup, frames, settings,
                                             trade_from_ms=trade_from)
        else:
            strategy = self._strategy(request.strategy)
            frames, trade_from = await self._candles([pair], request, strategy.required_history)
            result = await asyncio.to_thread(run_backtest, strategy, frames, settings,
                                             trade_from_ms=trade_from)
        kpis = await asyncio.to_thread(result.kpis)
        report = await self._report(request, result, kpis, frames[Symbol(result.pairs[0])])
        await self._store(result, kpis)
        return report

    async def _candles(self, legs: list[Symbol], request: BacktestRequest,
                       history: int) -> tuple[dict[Symbol, CandleFrame], int]:
        """Return the stored candles of ``legs`` for the request's days plus ``history`` of warm-up, and
        the first traded candle's open time; DataError for a pair without candles."""
        tf = timeframe_ms(request.timeframe)
        frames: dict[Symbol, CandleFrame] = {}
        async with self._uow() as uow:
            lasts = [await uow.candles.last_ms(self._store_exchange, p, request.timeframe) for p in legs]
            missing = [str(p) for p, last in zip(legs, lasts, strict=True) if last is None]
            if missing:
                names = ", ".join(missing)
                raise DataError(f"no {request.timeframe} candles stored for {names}",
                                user_message=f"No {request.timeframe} candles stored for {names}; "
                                             "import or fetch them first (tradebot data).")
            end_ms = min(last for last in lasts if last is not None) + tf
            trade_from = end_ms - int(timedelta(days=request.days).total_seconds() * 1000)
            for pair in legs:
                frame = await uow.candles.load(self._store_exchange, pair, request.timeframe,
                                               trade_from - history * tf, end_ms)
                checked = check_candles(frame)  # rows stored before import validated them would crash the run
                if checked.bad:
                    logger.warning("backtest skips %d bad stored %s %s candles (first at %s); "
                                   "`tradebot data list`", checked.bad, pair, request.timeframe,
                                   checked.first_bad_ms)
                frames[pair] = checked.clean
        return frames, trade_from

    async def recent(self, limit: int = 5) -> tuple[BacktestRunView, ...]:
        """Return the newest stored runs first (CLI --save runs included), to compare them."""
        async with self._uow() as uow:
            runs = await uow.backtests.recent(limit)
        defaults = strategy_defaults(self._book.registry, {r.strategy for r in runs})
        return tuple(run_view(r, defaults.get(r.strategy, {})) for r in runs)

    async def _report(self, request: BacktestRequest, result: BacktestResult, kpis: Kpis,
                      candles: CandleFrame) -> BacktestReport:
        stats, eq = kpis.trades, kpis.equity
        render: Callable[[], bytes] = lambda: self._renderer.equity(  # noqa: E731 - one-line thunk
            result.equity, f"{request.strategy} {request.pair} {request.timeframe}", self._theme)
        png = await asyncio.to_thread(render)
        chart = trade_chart(result, candles, result.pairs[0])
        trades_png = await asyncio.to_thread(self._renderer.candles, chart, self._theme)
        return BacktestReport(
            request=request, start=result.start, end=result.end, trades=stats.trades,
            win_rate=_dec(stats.win_rate), total_return=_dec(eq.total_return) or Decimal(0),
            max_drawdown=_dec(eq.max_drawdown.depth) or Decimal(0),
            profit_factor=stats.profit_factor, sharpe=eq.sharpe,
            final_equity=Decimal(repr(result.end_equity)).quantize(Decimal("0.01"), ROUND_HALF_EVEN),
            quote=result.quote,
            chart=ChartImage(png, f"Equity: {request.strategy} on {request.pair}, {request.days} days"),
            trades_chart=ChartImage(trades_png, f"Trades: {chart.title}"),
            halts=tuple(BacktestHalt(h.at, h.reason) for h in result.stops.halts),
            daily_loss_days=result.stops.daily_loss_days,
            refusals=tuple(RefusedEntries(r.reason, r.count, r.first, r.last) for r in result.stops.refusals),
        )

    async def _store(self, result: BacktestResult, kpis: Kpis) -> None:
        run = run_record(result, kpis, self._clock.now())  # the same record as `tradebot backtest --save`
        try:
            async with self._uow() as uow:
                await uow.backtests.add(run)
                await uow.commit()
        except Exception as exc:  # the report was computed; losing its archive copy is not worth failing it
            logger.warning("backtest run not stored: %s", exc)

