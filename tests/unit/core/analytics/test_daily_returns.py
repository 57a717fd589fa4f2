"""curve.daily_returns (plain numpy) equals the pandas resample it replaced, on random curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core import memo
from trader.core.analytics import curve


def _resampled(equity: pd.Series) -> pd.Series:
    """The former implementation: each UTC day's last point, empty days carried forward."""
    days = equity.resample("1D")
    closes = days.last().ffill()
    values = np.concatenate(([float(equity.iloc[0])], closes.to_numpy(dtype=np.float64)))
    returns = pd.Series(values[1:] / values[:-1] - 1.0, index=closes.index, name="return")
    return returns.iloc[1:] if int(days.count().iloc[0]) == 1 else returns


@settings(max_examples=200, deadline=None)
@given(start=st.integers(1_500_000_000, 1_800_000_000),
       step=st.sampled_from([60, 3600, 7 * 3600, 86_400, 3 * 86_400]),
       gaps=st.lists(st.integers(0, 3), min_size=2, max_size=300), seed=st.integers(0, 2**16),
       zone=st.sampled_from(["UTC", "Australia/Sydney"]))
def test_daily_returns_equal_the_pandas_resample(start: int, step: int, gaps: list[int], seed: int,
                                                 zone: str) -> None:
    times = pd.to_datetime(start + np.cumsum(gaps) * step, unit="s", utc=True)
    values = 100.0 + np.abs(np.cumsum(np.random.default_rng(seed).normal(0, 1, len(gaps))))
    equity = pd.Series(values, index=times)  # gaps of 0: several points at one time
    expected = _resampled(equity)
    pd.testing.assert_series_equal(curve.daily_returns(equity), expected)
    # a curve in another zone still closes its days in UTC
    pd.testing.assert_series_equal(curve.daily_returns(equity.tz_convert(zone)), expected)


def test_a_curve_of_daily_closes_has_no_return_for_its_first_day() -> None:
    times = pd.date_range("2024-01-01 23:59", periods=3, freq="D", tz="UTC")
    returns = curve.daily_returns(pd.Series([100.0, 110.0, 99.0], index=times))
    assert list(returns.index.strftime("%Y-%m-%d")) == ["2024-01-02", "2024-01-03"]
    assert returns.to_list() == [110.0 / 100.0 - 1.0, 99.0 / 110.0 - 1.0]


@settings(max_examples=100, deadline=None)
@given(start=st.integers(1_500_000_000, 1_800_000_000), step=st.sampled_from([3600, 7 * 3600, 86_400]),
       gaps=st.lists(st.integers(0, 3), min_size=2, max_size=200),
       seeds=st.lists(st.integers(0, 99), min_size=2, max_size=4))
def test_curves_on_one_index_in_an_optimiser_cache_return_what_each_does_alone(
        start: int, step: int, gaps: list[int], seeds: list[int]) -> None:
    index = pd.to_datetime(start + np.cumsum(gaps) * step, unit="s", utc=True)
    walks = [np.cumsum(np.random.default_rng(s).normal(0, 1, len(gaps))) for s in seeds]
    curves = [pd.Series(100.0 + np.abs(walk), index=index) for walk in walks]
    alone = [curve.daily_returns(equity) for equity in curves]
    with memo.caching() as cache:  # the day closes of the index computed once, then shared
        shared = [curve.daily_returns(equity) for equity in curves]
        assert cache.misses == 1 and cache.hits == len(curves) - 1
    for got, expected in zip(shared, alone, strict=True):
        pd.testing.assert_series_equal(got, expected)
