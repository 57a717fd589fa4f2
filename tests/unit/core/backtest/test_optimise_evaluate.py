"""Scoring a parameter set on a window of the bundled candles: warm-up before the window, trades
inside it only, segments and the pruning hook."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame, datetime_to_ms
from trader.core.domain.ids import Symbol
from trader.core.optimise.evaluate import evaluate, run_window
from trader.core.optimise.folds import Window, segments
from trader.core.optimise.objectives import Objective, ObjectiveName
from trader.core.strategies.registry import create

BTC = Symbol("BTC/USDT")
WINDOW = Window(datetime_to_ms(datetime(2023, 1, 1, tzinfo=UTC)),
                datetime_to_ms(datetime(2023, 7, 1, tzinfo=UTC)))
SETTINGS = BacktestSettings(strategy="breakout", timeframe="1h")


@pytest.fixture(scope="module")
def candles() -> dict[Symbol, CandleFrame]:
    return {BTC: load_candles(SAMPLE_DIR, BTC, "1h", None, None)}


def test_run_window_trades_only_inside_the_window(candles: dict[Symbol, CandleFrame]) -> None:
    result = run_window(create("breakout"), candles, WINDOW, SETTINGS)
    assert result.trades, "the half year should trade"
    assert all(WINDOW.start_ms <= datetime_to_ms(t.entry_time) < WINDOW.end_ms for t in result.trades)
    assert datetime_to_ms(result.start) >= WINDOW.start_ms
    assert datetime_to_ms(result.end) <= WINDOW.end_ms  # equity is marked at candle closes


def test_one_segment_scores_the_window_run_and_is_deterministic(candles: dict[Symbol, CandleFrame]) -> None:
    objective = Objective(ObjectiveName.SHARPE, min_trades=1)
    strategy = create("breakout", {"lookback": 30})
    result = run_window(strategy, candles, WINDOW, SETTINGS)
    expected = objective.score(result.equity, len(result.trades))
    assert evaluate(strategy, candles, WINDOW, SETTINGS, objective) == expected
    assert evaluate(create("breakout", {"lookback": 30}), candles, WINDOW, SETTINGS, objective) == expected


def test_segments_report_running_means_and_the_hook_can_stop_the_run(
        candles: dict[Symbol, CandleFrame]) -> None:
    objective = Objective(ObjectiveName.RETURN, min_trades=0)
    seen: list[tuple[int, float]] = []
    evaluate(create("breakout"), candles, WINDOW, SETTINGS, objective, parts=3,
                     on_segment=lambda k, v: seen.append((k, v)))
    assert [k for k, _ in seen] == [0, 1]  # no report after the last segment: the score is final
    first = segments(WINDOW, 3, 3_600_000)[0]
    assert seen[0][1] == evaluate(create("breakout"), candles, first, SETTINGS, objective).value

    class Stop(Exception):
        pass

    def stop(k: int, v: float) -> None:
        raise Stop

    with pytest.raises(Stop):
        evaluate(create("breakout"), candles, WINDOW, SETTINGS, objective, parts=3, on_segment=stop)


def test_too_few_trades_makes_the_score_infeasible(candles: dict[Symbol, CandleFrame]) -> None:
    score = evaluate(create("breakout"), candles, WINDOW, SETTINGS, Objective(min_trades=10_000))
    assert not score.feasible and "< minimum 10000" in score.violation
