"""The scoring blocks strategies share: bounded ratios equal to their plain numpy definition."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from trader.core.strategies.scoring import clipped_ratio

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 3.0, -2.5, 1e-300, 1e300, np.inf, -np.inf, np.nan]
VALUES = st.lists(st.sampled_from(SPECIAL) | st.floats(-10, 10), min_size=1, max_size=30)


@given(VALUES, st.data())
def test_clipped_ratio_is_nan_to_zero_then_clipped_to_the_unit_interval(
        top: list[float], data: st.DataObject) -> None:
    bottom = data.draw(st.lists(st.sampled_from([0.0, -0.0, 2.0, -3.0, np.inf, np.nan]) | st.floats(-10, 10),
                                min_size=len(top), max_size=len(top)))
    n, d = np.array(top), np.array(bottom)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        expected = np.clip(np.nan_to_num(n / d, nan=0.0), 0.0, 1.0)
        got = clipped_ratio(n, d)
    assert got.tobytes() == expected.tobytes()  # bit for bit, signed zeros included
