"""Property checks of the vectorised maths against brute force on random inputs."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.core.analytics.builders import T0, trade
from trader.core.analytics.curve import max_drawdown
from trader.core.analytics.kpis import exposure_time
from trader.core.analytics.records import equity_curve, trade_arrays

positive = st.floats(min_value=1.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=80, deadline=None)
@given(st.lists(positive, min_size=2, max_size=60))
def test_max_drawdown_equals_brute_force_worst_fall(values: list[float]) -> None:
    eq = equity_curve([T0 + timedelta(hours=i) for i in range(len(values))], values)
    n = len(values)
    worst = max((values[i] - values[j]) / values[i] for i in range(n) for j in range(i, n))
    dd = max_drawdown(eq)
    assert dd.depth == pytest.approx(worst, abs=1e-12)
    if dd.depth > 0:
        assert dd.peak_time is not None and dd.trough_time is not None and dd.peak_time < dd.trough_time


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 60)), min_size=1, max_size=25))
def test_exposure_time_equals_minute_grid_count(spans: list[tuple[int, int]]) -> None:
    trades = [trade("1", hours=start / 60, held=length / 60) for start, length in spans]
    grid = np.zeros(240, dtype=bool)  # minutes of the period [0, 240)
    for start, length in spans:
        grid[start:min(start + length, 240)] = True
    start_ns = int(pd.Timestamp(T0).value)
    end_ns = int(pd.Timestamp(T0 + timedelta(minutes=240)).value)
    assert exposure_time(trade_arrays(trades), start_ns, end_ns) == pytest.approx(grid.sum() / 240)
