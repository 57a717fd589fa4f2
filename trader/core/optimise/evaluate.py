"""Score one parameter set on one window: backtest it (indicators warmed on the candles before the
window) and apply the objective, optionally per consecutive segment so that a search can stop a
poor candidate after its first segments (pruning).

Each segment is an independent run that starts flat; the window's score is the mean of the segment
scores, and the trade minimum applies to their total.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.optimise.candidate import Candidate, backtest
from trader.core.optimise.folds import Window, segments
from trader.core.optimise.objectives import Objective, Score

SegmentHook = Callable[[int, float], None]  # (segment index, running mean) -> may raise to stop


def run_window(strategy: Candidate, candles: Mapping[Symbol, CandleFrame], window: Window,
               settings: BacktestSettings) -> BacktestResult:
    """Backtest ``strategy`` trading only in ``window``; up to required_history earlier candles warm it up."""
    warmup = strategy.required_history * timeframe_ms(settings.timeframe)
    sliced = {}
    for symbol, frame in candles.items():
        lo = int(np.searchsorted(frame.timestamp, window.start_ms - warmup, side="left"))
        hi = int(np.searchsorted(frame.timestamp, window.end_ms, side="left"))
        sliced[symbol] = frame.slice(lo, hi)
    return backtest(strategy, sliced, settings, trade_from_ms=window.start_ms)


def evaluate(strategy: Candidate, candles: Mapping[Symbol, CandleFrame], window: Window,
             settings: BacktestSettings, objective: Objective, *, parts: int = 1,
             on_segment: SegmentHook | None = None) -> Score:
    """Return the objective of ``strategy`` over ``window`` split into ``parts`` segments."""
    scores: list[Score] = []
    for k, segment in enumerate(segments(window, parts, timeframe_ms(settings.timeframe))):
        result = run_window(strategy, candles, segment, settings)
        scores.append(objective.score(result.equity, len(result.trades)))
        if on_segment is not None and k + 1 < parts:
            on_segment(k, sum(s.value for s in scores) / len(scores))
    return objective.combine(scores)
