"""Properties over random price paths: causality, bounds, and the warm-up convention."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trader.core import indicators as ind

moves = arrays(np.float64, st.integers(0, 120), elements=st.floats(-0.05, 0.05))


def _path(steps: np.ndarray) -> np.ndarray:
    path: np.ndarray = 100.0 * np.exp(np.cumsum(steps))
    return path


@settings(max_examples=60, deadline=None)
@given(moves, st.integers(0, 120))
def test_appending_values_never_changes_earlier_outputs(steps: np.ndarray, cut: int) -> None:
    close = _path(steps)
    cut = min(cut, len(close))
    high, low = close * 1.01, close * 0.99
    pairs = [
        (ind.ema(close, 7), ind.ema(close[:cut], 7)),
        (ind.rsi(close, 5), ind.rsi(close[:cut], 5)),
        (ind.adx(high, low, close, 4), ind.adx(high[:cut], low[:cut], close[:cut], 4)),
        (ind.bollinger(close, 6).lower, ind.bollinger(close[:cut], 6).lower),
        (ind.realised_volatility(close, 5), ind.realised_volatility(close[:cut], 5)),
        (ind.rolling_zscore(close, 6), ind.rolling_zscore(close[:cut], 6)),
    ]
    for full, prefix in pairs:
        np.testing.assert_array_equal(full[:cut], prefix)


@settings(max_examples=60, deadline=None)
@given(moves)
def test_bounded_indicators_stay_in_range(steps: np.ndarray) -> None:
    close = _path(steps)
    rsi = ind.rsi(close, 5)
    adx = ind.adx(close * 1.01, close * 0.99, close, 4)
    rank = ind.percentile_rank(ind.realised_volatility(close, 5), 20, 4)
    for values, low, high in ((rsi, 0, 100), (adx, 0, 100), (rank, 0, 1)):
        defined = values[~np.isnan(values)]
        assert ((defined >= low) & (defined <= high)).all()
    bands = ind.bollinger(close, 6, 2.0)
    defined = ~np.isnan(bands.middle)
    assert (bands.lower[defined] <= bands.middle[defined]).all()
    assert (bands.middle[defined] <= bands.upper[defined]).all()
