"""Batch evaluation: many parameter sets of one strategy scored in one pass over shared inputs.

Every set still runs its own signals and its own simulation (``candidate.backtest``: the pair
groups, or ``run_backtest`` and whichever path it dispatches to), on the walk-forward window and with
the objective exactly as ``evaluate`` alone; what the batch shares is the work that does not depend
on the set: the candle slices of each window and every indicator already computed for the same
parameter value on them (``memo``), and the Score of a set already scored on the same window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from trader.core import memo
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.errors import StrategyError
from trader.core.optimise.candidate import build
from trader.core.optimise.evaluate import evaluate
from trader.core.optimise.folds import Window
from trader.core.optimise.objectives import Objective, Score
from trader.core.strategies.base import ParamValue


def evaluate_batch(strategy: str, candidates: Sequence[Mapping[str, ParamValue]],  # noqa: PLR0913
                   candles: Mapping[Symbol, CandleFrame], windows: Sequence[Window],
                   settings: BacktestSettings, objective: Objective, *, parts: int = 1,
                   cache: memo.IndicatorCache | None = None) -> list[list[Score]]:
    """Return, per candidate, its Score on each window (a refused parameter set: NaN with the reason).

    ``cache`` (a new one by default) may be kept across batches of the same study.
    """
    out: list[list[Score]] = []
    with memo.caching(cache):
        for params in candidates:
            try:
                instance = build(strategy, params, tuple(candles))
            except StrategyError as exc:
                out.append([Score(math.nan, 0, 0.0, str(exc))] * len(windows))
                continue
            out.append([evaluate(instance, candles, w, settings, objective, parts=parts) for w in windows])
    return out
