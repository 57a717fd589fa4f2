"""The compiled loops' per-position kernel: the Kelly history it keeps (``remember``)."""

from __future__ import annotations

from collections import deque

import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core.backtest import compiled_position as cp


@numba.njit(cache=False)
def _kept(pnls: np.ndarray, length: int) -> tuple[np.ndarray, int]:
    history = np.zeros(length)
    kept = 0
    for pnl in pnls:
        kept = cp.remember(history, kept, pnl)
    return history, kept


@settings(deadline=None)  # the first example compiles
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), max_size=40), st.integers(min_value=1, max_value=8))
def test_remember_keeps_the_newest_trades_oldest_first(pnls: list[float], length: int) -> None:
    expected = list(deque(pnls, maxlen=length))  # EngineState's history: the newest ``length`` in order
    history, kept = _kept(np.array(pnls, dtype=np.float64), length)
    assert kept == len(expected)
    assert history[:kept].tolist() == expected
