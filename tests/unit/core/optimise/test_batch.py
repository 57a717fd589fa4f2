"""Batch evaluation scores every parameter set exactly as evaluating it alone: same folds, same
segments, same objective, on one pair (compiled loop) and two pairs sharing cash."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.core import memo
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.errors import StrategyError
from trader.core.optimise.batch import evaluate_batch
from trader.core.optimise.evaluate import evaluate
from trader.core.optimise.folds import Window, walk_forward
from trader.core.optimise.objectives import Objective, ObjectiveName, Score
from trader.core.strategies.registry import create

BTC, ETH = Symbol("BTC/USDT"), Symbol("ETH/USDT")
HOUR = 3_600_000

# Several sets per strategy: repeated values (shared indicators), a repeated set (shared score),
# and values that move the warm-up (so the windows' candle slices differ between sets).
CANDIDATES: dict[str, list[dict[str, Any]]] = {
    "breakout": [{"lookback": 20}, {"lookback": 35, "ema_fast": 10}, {"lookback": 20, "stop_mode": "atr"},
                 {"lookback": 35, "ema_fast": 10}, {"lookback": 20, "ema_slow": 120, "regime_filter": False}],
    "bollinger_reversion": [{}, {"bb_period": 30}, {"bb_period": 30, "bb_std": 2.5}, {},
                            {"confirm": "either"}],
    "mtf_momentum": [{}, {"rsi_period": 10}, {"rsi_period": 10, "rsi_entry": 60.0}],
}


@pytest.fixture(scope="module")
def candles() -> dict[Symbol, CandleFrame]:
    return {p: load_candles(SAMPLE_DIR, p, "1h", None, None) for p in (BTC, ETH)}


def folds(frame: CandleFrame) -> list[Window]:
    period = Window(int(frame.timestamp[3000]), int(frame.timestamp[3000 + 4000]))
    out = []
    for fold in walk_forward(period, 2, 0.3, HOUR):
        out += [fold.train, fold.test]
    return out


def alone(strategy: str, params: dict[str, Any], candles: dict[Symbol, CandleFrame], windows: list[Window],
          settings: BacktestSettings, objective: Objective, parts: int) -> list[Score]:
    assert memo.active() is None  # the reference runs without any cache
    instance = create(strategy, params)
    return [evaluate(instance, candles, w, settings, objective, parts=parts) for w in windows]


@pytest.mark.parametrize("strategy", sorted(CANDIDATES))
@pytest.mark.parametrize(("pairs", "objective", "parts"), [
    ((BTC,), Objective(ObjectiveName.SHARPE, min_trades=1), 1),
    ((BTC,), Objective(ObjectiveName.PROFIT_DD, max_drawdown=0.05, min_trades=2), 2),
    ((BTC, ETH), Objective(ObjectiveName.CALMAR, min_trades=1), 1),
])
def test_batch_scores_equal_one_by_one_scores(strategy: str, pairs: tuple[Symbol, ...], objective: Objective,
                                              parts: int, candles: dict[Symbol, CandleFrame]) -> None:
    chosen = {p: candles[p] for p in pairs}
    settings = BacktestSettings(strategy, "1h")
    windows = folds(candles[BTC])
    cache = memo.IndicatorCache()
    batch = evaluate_batch(strategy, CANDIDATES[strategy], chosen, windows, settings, objective, parts=parts,
                           cache=cache)
    expected = [alone(strategy, params, chosen, windows, settings, objective, parts)
                for params in CANDIDATES[strategy]]
    assert batch == expected
    assert any(s.trades for scores in expected for s in scores), "the comparison should include trades"
    assert cache.hits > 0, "the batch should have shared work between its sets"


def test_a_refused_parameter_set_is_infeasible_and_the_others_still_score(
        candles: dict[Symbol, CandleFrame]) -> None:
    settings = BacktestSettings("breakout", "1h")
    windows = folds(candles[BTC])[:1]
    objective = Objective(min_trades=0)
    bad = {"ema_fast": 60, "ema_slow": 50}
    with pytest.raises(StrategyError) as refused:
        create("breakout", bad)
    out = evaluate_batch("breakout", [bad, {}], {BTC: candles[BTC]}, windows, settings, objective)
    assert out[0][0].violation == str(refused.value)
    assert out[1] == alone("breakout", {}, {BTC: candles[BTC]}, windows, settings, objective, 1)


def test_a_kept_cache_never_serves_results_of_other_candles(candles: dict[Symbol, CandleFrame]) -> None:
    settings = BacktestSettings("breakout", "1h")
    objective = Objective(ObjectiveName.RETURN, min_trades=0)
    windows = folds(candles[BTC])[:2]
    original = candles[BTC]
    # Same timestamps, other prices: only the candles' identity and content tell them apart.
    scaled = replace(original, open=original.open * 1.7, high=original.high * 1.9, low=original.low * 1.5,
                     close=original.close[::-1].copy() * 1.6)
    scaled = replace(scaled, high=scaled.open.clip(min=scaled.close) * 1.01,
                     low=scaled.open.clip(max=scaled.close) * 0.99)
    cache = memo.IndicatorCache()
    params = [{"lookback": 25}]
    first = evaluate_batch("breakout", params, {BTC: original}, windows, settings, objective, cache=cache)
    second = evaluate_batch("breakout", params, {BTC: scaled}, windows, settings, objective, cache=cache)
    assert first[0] == alone("breakout", params[0], {BTC: original}, windows, settings, objective, 1)
    assert second[0] == alone("breakout", params[0], {BTC: scaled}, windows, settings, objective, 1)
    assert first != second
