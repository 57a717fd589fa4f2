"""``result._range_extremes`` (numpy reduceat) equals each trade's slice max/min, the MAE/MFE source."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core.backtest.result import _range_extremes


@st.composite
def series_and_spans(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 60))
    values = st.floats(1e-3, 1e6, allow_nan=False)
    high = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    low = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    spans = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=12))
    first = np.array([min(a, b) for a, b in spans], dtype=np.int64)
    last = np.array([max(a, b) for a, b in spans], dtype=np.int64)
    return high, low, first, last


@settings(max_examples=300, deadline=None)
@given(series_and_spans())
def test_equals_slice_extremes(case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> None:
    high, low, first, last = case
    highs, lows = _range_extremes(high, low, first, last)
    assert highs.tolist() == [high[f : e + 1].max() for f, e in zip(first, last, strict=True)]
    assert lows.tolist() == [low[f : e + 1].min() for f, e in zip(first, last, strict=True)]


def test_nan_propagates_like_numpy() -> None:
    high = np.array([1.0, np.nan, 3.0, 2.0])
    highs, lows = _range_extremes(high, high, np.array([0, 2]), np.array([1, 3]))
    assert np.isnan(highs[0]) and np.isnan(lows[0])
    assert (highs[1], lows[1]) == (3.0, 2.0)
