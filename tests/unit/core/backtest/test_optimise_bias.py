"""Bias checks on a seeded random walk: clean strategies pass, a peeking one and one with a too-short
required_history are flagged."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fakes.biased_strategies import EmaCross, PeekStrategy
from trader.core.domain.candles import CandleFrame
from trader.core.errors import InputError
from trader.core.optimise.bias import check_lookahead, check_warmup
from trader.core.optimise.compare import differing_rows
from trader.core.strategies.registry import create

H = 3_600_000


@pytest.fixture(scope="module")
def walk() -> CandleFrame:
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 4000)))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 0.004, 4000)) * close
    return CandleFrame(1_700_000_000_000 + np.arange(4000, dtype=np.int64) * H, open_,
                       np.maximum(open_, close) + spread, np.minimum(open_, close) - spread, close,
                       rng.uniform(50, 150, 4000))


def test_a_clean_recursive_strategy_passes_every_check(walk: CandleFrame) -> None:
    strategy = EmaCross(period=50)
    look = check_lookahead(strategy, walk)
    assert look.passed and look.rows_compared > 4000 and look.live_rows == 30
    warm = check_warmup(strategy, walk, target=500)
    assert warm.passed and warm.agrees_from is not None and warm.agrees_from <= strategy.required_history
    assert [s.history for s in warm.steps] == [125, 250, 500, 1000, 2000]  # 4x would exceed the data


def test_a_strategy_reading_the_next_candle_is_flagged_as_look_ahead(walk: CandleFrame) -> None:
    report = check_lookahead(PeekStrategy(), walk, cuts=5, samples=20)
    assert not report.passed
    assert report.rows_differing >= 4  # the last row of (nearly) every prefix changes
    assert report.examples[0].column in {"enter_long", "exit_long"}
    assert report.live_differing >= 10  # live sees no next candle either


def test_a_too_short_required_history_is_flagged_with_where_signals_settle(walk: CandleFrame) -> None:
    short = EmaCross(period=50, declared=5)
    warm = check_warmup(short, walk, target=500)
    assert not warm.passed
    assert warm.steps[0].history == 2 and warm.steps[0].rows_differing > 0
    assert warm.agrees_from is not None and warm.agrees_from > 5  # the ladder kept doubling to find it
    look = check_lookahead(short, walk)
    assert look.rows_differing == 0  # no future data is used ...
    assert look.live_differing > 0  # ... but live (5 candles) disagrees with the backtest


def test_builtin_strategies_pass_on_a_random_walk(walk: CandleFrame) -> None:
    cases = {"breakout": {"vol_lookback": 300}, "bollinger_reversion": {"vol_lookback": 300},
             "mtf_momentum": {"trend_factor": 4, "trend_fast": 5, "trend_slow": 12}}
    for name, params in cases.items():
        strategy = create(name, params)
        assert check_lookahead(strategy, walk, cuts=4, samples=15).passed, name
        assert check_warmup(strategy, walk, target=300).passed, name


def test_too_little_data_is_a_clear_error(walk: CandleFrame) -> None:
    with pytest.raises(InputError, match="need at least"):
        check_warmup(EmaCross(period=50), walk.slice(0, 1000), target=500)
    with pytest.raises(InputError, match="look-ahead check"):
        check_lookahead(EmaCross(period=50), walk.slice(0, 500))


def test_frames_over_different_candles_are_not_compared(walk: CandleFrame) -> None:
    strategy = EmaCross(period=10)
    with pytest.raises(ValueError, match="different candles"):
        differing_rows(strategy.compute(walk.slice(0, 100)), strategy.compute(walk.slice(1, 101)))
