"""Bollinger mean-reversion scenarios: confirmation modes, band exits, levels, short mirrored."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.core.strategies.reference_signals import (
    bollinger_signals,
    random_candles,
    same_bits,
    signal_columns,
)
from tests.unit.core.strategies.synthetic import frame, mirrored
from trader.core import indicators as ind
from trader.core.domain.candles import CandleFrame
from trader.core.strategies import registry

NO_REGIME = {"regime_filter": False}
N = 200


def _plunge_then_recover() -> CandleFrame:
    """Quiet oscillation around 100, a plunge far below the lower band, then a close back inside."""
    base = 100 + 0.5 * np.sin(np.arange(N) * 0.7)
    return frame(np.r_[base, 96.0, 99.5, 100.5, 101.0], wick=0.2)


def test_close_below_lower_band_with_oversold_rsi_enters_long() -> None:
    candles = _plunge_then_recover()
    signals = registry.create("bollinger_reversion", NO_REGIME).compute(candles)
    plunge = N
    assert np.flatnonzero(signals.enter_long).tolist() == [plunge]
    assert not signals.enter_short[plunge:].any()
    bands = ind.bollinger(candles.close, 20, 2.0)
    atr = ind.atr(candles.high, candles.low, candles.close, 14)
    assert candles.close[plunge] < bands.lower[plunge]
    assert signals.take_profit[plunge] == pytest.approx(bands.middle[plunge], rel=1e-12)
    assert signals.stop_loss[plunge] == pytest.approx(candles.close[plunge] - 2.0 * atr[plunge], rel=1e-12)
    assert signals.row(plunge).reason == "outside_band, rsi"
    assert 0.0 < signals.confidence[plunge] <= 1.0


def test_reentry_mode_waits_for_the_close_back_inside_the_band() -> None:
    candles = _plunge_then_recover()
    signals = registry.create("bollinger_reversion", {**NO_REGIME, "confirm": "reentry"}).compute(candles)
    bands = ind.bollinger(candles.close, 20, 2.0)
    assert candles.close[N + 1] >= bands.lower[N + 1]
    assert np.flatnonzero(signals.enter_long).tolist() == [N + 1]
    assert "reentry" in signals.row(N + 1).reason


def test_both_mode_needs_reentry_and_recent_oversold_rsi() -> None:
    candles = _plunge_then_recover()
    both = registry.create("bollinger_reversion", {**NO_REGIME, "confirm": "both"}).compute(candles)
    assert np.flatnonzero(both.enter_long).tolist() == [N + 1]
    strict = registry.create(
        "bollinger_reversion", {**NO_REGIME, "confirm": "both", "rsi_oversold": 5.0}
    ).compute(candles)
    assert not strict.enter_long.any()


def test_either_mode_accepts_both_kinds_of_confirmation() -> None:
    signals = registry.create("bollinger_reversion", {**NO_REGIME, "confirm": "either"}).compute(
        _plunge_then_recover()
    )
    assert np.flatnonzero(signals.enter_long).tolist() == [N, N + 1]


def test_exit_at_middle_or_far_band() -> None:
    candles = _plunge_then_recover()
    bands = ind.bollinger(candles.close, 20, 2.0)
    middle = registry.create("bollinger_reversion", NO_REGIME).compute(candles)
    warm = 20
    np.testing.assert_array_equal(
        middle.exit_long[warm:], (candles.close >= bands.middle)[warm:] & ~middle.enter_long[warm:]
    )
    far = registry.create("bollinger_reversion", {**NO_REGIME, "exit_at": "far"}).compute(candles)
    np.testing.assert_array_equal(far.exit_long[warm:], (candles.close >= bands.upper)[warm:])
    assert far.take_profit[N] == pytest.approx(bands.upper[N], rel=1e-12)


def test_benchmark_levels_two_percent_stop_four_percent_target() -> None:
    candles = _plunge_then_recover()
    params = {**NO_REGIME, "stop_pct": 0.02, "take_profit_pct": 0.04}
    signals = registry.create("bollinger_reversion", params).compute(candles)
    assert signals.stop_loss[N] == pytest.approx(96.0 * 0.98, rel=1e-12)
    assert signals.take_profit[N] == pytest.approx(96.0 * 1.04, rel=1e-12)


def test_short_side_mirrors_the_long_side() -> None:
    candles = _plunge_then_recover()
    long = registry.create("bollinger_reversion", NO_REGIME).compute(candles)
    short = registry.create("bollinger_reversion", NO_REGIME).compute(mirrored(candles, 100.0))
    np.testing.assert_array_equal(short.enter_short, long.enter_long)
    assert short.stop_loss[N] == pytest.approx(200.0 - long.stop_loss[N], rel=1e-9)
    assert short.take_profit[N] == pytest.approx(200.0 - long.take_profit[N], rel=1e-9)
    assert short.confidence[N] == pytest.approx(long.confidence[N], rel=1e-9)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 700),
    flat_head=st.integers(0, 40),
    jumpy=st.booleans(),
    bb_period=st.integers(2, 30),
    bb_std=st.sampled_from([0.5, 1.0, 2.0]),
    rsi_oversold=st.sampled_from([20.0, 30.0, 50.0]),
    confirm=st.sampled_from(["rsi", "reentry", "both", "either"]),
    exit_at=st.sampled_from(["middle", "far"]),
    regime_filter=st.booleans(),
    percents=st.sampled_from([(0.0, 0.0), (0.02, 0.04)]),
)
def test_signals_are_bit_identical_to_the_straightforward_reference(  # noqa: PLR0917
    seed: int, n: int, flat_head: int, jumpy: bool, bb_period: int, bb_std: float, rsi_oversold: float,
    confirm: str, exit_at: str, regime_filter: bool, percents: tuple[float, float],
) -> None:
    candles = random_candles(seed, n, flat_head, jumpy)
    strategy = registry.create("bollinger_reversion", {
        "bb_period": bb_period, "bb_std": bb_std, "rsi_period": 7, "rsi_oversold": rsi_oversold,
        "confirm": confirm, "exit_at": exit_at, "atr_period": 7, "regime_filter": regime_filter,
        "adx_period": 5, "vol_window": 5, "vol_lookback": 40, "vol_stride": 4, "stop_pct": percents[0],
        "take_profit_pct": percents[1],
    })
    expected = bollinger_signals(strategy, candles)  # type: ignore[arg-type]
    assert same_bits(expected, signal_columns(strategy.compute(candles)))
