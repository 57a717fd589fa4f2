"""Score one parameter set on one window: backtest it (indicators warmed on the candles before the
window) and apply the objective, optionally per consecutive segment so that a search can stop a
poor candidate after its first segments (pruning).

Each segment is an independent run that starts flat; the window's score is the mean of the segment
scores, and the trade minimum applies to their total.

Inside an indicator cache (``memo.caching``, as an optimiser batch runs) the window's
candle slices are shared between trials, so indicators of a parameter value already seen on the
same slice are reused, and a parameter set already scored on a segment reuses its Score: the same
calls on the same inputs, hence the same values as evaluating the set alone.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping

import numpy as np

from trader.core import memo
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.optimise.candidate import Candidate, backtest
from trader.core.optimise.folds import Window, segments
from trader.core.optimise.objectives import Objective, Score
from trader.core.strategies.pair_setup import PairSetup

SegmentHook = Callable[[int, float], None]  # (segment index, running mean) -> may raise to stop


def run_window(strategy: Candidate, candles: Mapping[Symbol, CandleFrame], window: Window,
               settings: BacktestSettings) -> BacktestResult:
    """Backtest ``strategy`` trading only in ``window``; up to required_history earlier candles warm it up."""
    warmup = strategy.required_history * timeframe_ms(settings.timeframe)
    sliced = {}
    for symbol, frame in candles.items():
        lo = int(np.searchsorted(frame.timestamp, window.start_ms - warmup, side="left"))
        hi = int(np.searchsorted(frame.timestamp, window.end_ms, side="left"))
        sliced[symbol] = window_slice(frame, lo, hi)
    return backtest(strategy, sliced, settings, trade_from_ms=window.start_ms)


def window_slice(frame: CandleFrame, lo: int, hi: int) -> CandleFrame:
    """Return rows [lo, hi) of ``frame``: the same object for the same rows while a cache is active."""
    cache = memo.active()
    if cache is None:
        return frame.slice(lo, hi)
    return cache.shared(("slice", id(frame), lo, hi), (frame,), lambda: frame.slice(lo, hi), freeze=False)


def score_window(strategy: Candidate, candles: Mapping[Symbol, CandleFrame], window: Window,
                 settings: BacktestSettings, objective: Objective) -> Score:
    """Return the objective of one run on ``window`` (shared per parameter set while a cache is active)."""
    cache = memo.active()
    if cache is None:
        return _score(strategy, candles, window, settings, objective)
    frames = tuple((symbol, id(frame)) for symbol, frame in candles.items())
    key = ("score", _identity(strategy), frames, window, id(settings), objective)
    return cache.shared(key, (*candles.values(), settings),
                        lambda: _score(strategy, candles, window, settings, objective))


def _identity(candidate: Candidate) -> Hashable:
    """Return what makes two candidates score alike: the strategy class and its parameters."""
    if isinstance(candidate, PairSetup):
        return candidate  # a frozen dataclass of its legs and parameters
    return type(candidate), tuple(sorted(candidate.params.items()))


def _score(strategy: Candidate, candles: Mapping[Symbol, CandleFrame], window: Window,
           settings: BacktestSettings, objective: Objective) -> Score:
    result = run_window(strategy, candles, window, settings)
    return objective.score(result.equity, len(result.trades))


def evaluate(strategy: Candidate, candles: Mapping[Symbol, CandleFrame], window: Window,
             settings: BacktestSettings, objective: Objective, *, parts: int = 1,
             on_segment: SegmentHook | None = None) -> Score:
    """Return the objective of ``strategy`` over ``window`` split into ``parts`` segments."""
    scores: list[Score] = []
    for k, segment in enumerate(segments(window, parts, timeframe_ms(settings.timeframe))):
        scores.append(score_window(strategy, candles, segment, settings, objective))
        if on_segment is not None and k + 1 < parts:
            on_segment(k, sum(s.value for s in scores) / len(scores))
    return objective.combine(scores)
