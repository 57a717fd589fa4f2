"""Property tests of the pure pairs statistics: rolling OLS beta, EWMA mean/variance/z-score, z signals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.lib.stride_tricks import sliding_window_view

from trader.core.errors import StrategyError
from trader.core.indicators.pairs import ewma_alpha, ewma_zscore, rolling_ols, spread
from trader.core.strategies.pairs import PairParams, pair_signals

walks = arrays(np.float64, st.integers(30, 200), elements=st.floats(-0.05, 0.05)).map(
    lambda steps: 3.0 + np.cumsum(steps))


@settings(max_examples=150, deadline=None)
@given(x=walks, alpha=st.floats(-5, 5), beta=st.floats(-3, 3), window=st.integers(5, 25))
def test_ols_recovers_an_exact_linear_relation(x: np.ndarray, alpha: float, beta: float, window: int) -> None:
    fit = rolling_ols(alpha + beta * x, x, window)
    assert np.isnan(fit.beta[: window - 1]).all()
    # a nearly flat window has no well-conditioned slope: compare where x moved
    moved = np.r_[np.zeros(window - 1, bool), np.ptp(sliding_window_view(x, window), axis=1) > 1e-3]
    defined = ~np.isnan(fit.beta) & moved
    assert np.allclose(fit.beta[defined], beta, atol=1e-6 * (1 + abs(beta)))
    assert np.allclose(fit.alpha[defined], alpha, atol=1e-5 * (1 + abs(alpha) + abs(beta)))
    residual = spread(alpha + beta * x, x, fit)[defined]
    assert np.allclose(residual, 0.0, atol=1e-6 * (1 + abs(alpha) + abs(beta)))


@settings(max_examples=100, deadline=None)
@given(x=walks, noise=walks, shift=st.floats(-10, 10), scale=st.floats(0.1, 10), window=st.integers(5, 25))
def test_ols_is_local_to_its_window_and_equivariant(x: np.ndarray, noise: np.ndarray, shift: float,
                                                    scale: float, window: int) -> None:
    n = min(len(x), len(noise))
    x, y = x[:n], 0.7 * x[:n] + noise[:n]
    fit = rolling_ols(y, x, window)
    # a value depends only on its own window: the tail alone gives bit-identical fits
    tail = rolling_ols(y[-window:], x[-window:], window)
    np.testing.assert_array_equal([fit.beta[-1], fit.alpha[-1]], [tail.beta[-1], tail.alpha[-1]])
    # y -> shift + scale * y scales the slope and leaves the fit's shape
    moved = rolling_ols(shift + scale * y, x, window)
    moved_x = np.r_[np.zeros(window - 1, bool), np.ptp(sliding_window_view(x, window), axis=1) > 1e-3]
    ok = ~np.isnan(fit.beta) & moved_x
    assert np.allclose(moved.beta[ok], scale * fit.beta[ok], rtol=1e-7, atol=1e-7)


@settings(max_examples=150, deadline=None)
@given(values=arrays(np.float64, st.integers(3, 300), elements=st.floats(-1e3, 1e3)),
       halflife=st.floats(0.5, 200), shift=st.floats(-100, 100), scale=st.floats(0.01, 100))
def test_ewma_mean_stays_inside_the_data_variance_is_non_negative_and_z_is_affine_invariant(
        values: np.ndarray, halflife: float, shift: float, scale: float) -> None:
    stats = ewma_zscore(values, halflife)
    running_min, running_max = np.minimum.accumulate(values), np.maximum.accumulate(values)
    tol = 1e-9 * (1 + np.abs(values).max())
    assert np.all(stats.mean >= running_min - tol) and np.all(stats.mean <= running_max + tol)
    assert np.all(stats.variance >= -tol)
    moved = ewma_zscore(shift + scale * values, halflife)
    both = ~np.isnan(stats.zscore) & ~np.isnan(moved.zscore) & (stats.variance > 1e-6 * (1 + values.var()))
    assert np.allclose(moved.zscore[both], stats.zscore[both], rtol=1e-5, atol=1e-5)


def test_ewma_recursions_match_their_definition_and_skip_a_leading_warm_up() -> None:
    values = np.array([np.nan, np.nan, 1.0, 3.0, 2.0, 6.0])
    stats = ewma_zscore(values, halflife=2.0, min_periods=0)
    a = ewma_alpha(2.0)
    mean, var = 1.0, 0.0
    for i, v in enumerate(values[2:], start=2):
        if i > 2:
            d = v - mean
            mean, var = mean + a * d, (1 - a) * (var + a * d * d)
        assert math.isclose(stats.mean[i], mean) and math.isclose(stats.variance[i], var, abs_tol=1e-15)
    assert np.isnan(stats.mean[:2]).all() and np.isnan(stats.zscore[2])  # variance 0: no score
    assert math.isclose(stats.zscore[5], (6.0 - stats.mean[5]) / math.sqrt(stats.variance[5]))
    assert np.isnan(ewma_zscore(np.full(10, 4.0), 3.0).zscore).all()  # a constant has no z


@settings(max_examples=200, deadline=None)
@given(z=arrays(np.float64, st.integers(2, 200), elements=st.floats(-8, 8)),
       entry=st.floats(0.5, 3), gap=st.floats(0.1, 3))
def test_signals_respect_the_bands(z: np.ndarray, entry: float, gap: float) -> None:
    params = PairParams(window=10, halflife=5, entry_z=entry, exit_z=entry / 4, stop_z=entry + gap)
    enter_long, enter_short, exit_long, exit_short, stop_long, stop_short = pair_signals(z, params)
    assert not (enter_long & enter_short).any()
    assert np.all(z[enter_long] <= -entry) and np.all(z[enter_long] > -params.stop_z)
    assert np.all(z[enter_short] >= entry) and np.all(z[enter_short] < params.stop_z)
    assert not (enter_long & (exit_long | stop_long)).any()
    assert not (enter_short & (exit_short | stop_short)).any()
    crossed = np.flatnonzero(enter_long)
    assert np.all(crossed > 0) and np.all(z[crossed - 1] > -entry)  # a cross, not every row past it
    assert np.array_equal(stop_long, z <= -params.stop_z) and np.array_equal(exit_short, z <= params.exit_z)


def test_thresholds_are_validated() -> None:
    with pytest.raises(StrategyError, match="exit_z < entry_z < stop_z"):
        PairParams(entry_z=2.0, exit_z=2.5)
    with pytest.raises(StrategyError, match="window"):
        PairParams(window=3)
    assert PairParams().required_history > PairParams().window
