"""Momentum: Wilder's RSI from TA-Lib, with the textbook value for a market that never moved."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import talib

from trader.core.indicators._validate import FloatArray, as_series, check_period
from trader.core.memo import memoised

NEUTRAL_RSI = 50.0


@memoised
def rsi(close: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Return Wilder's RSI in [0, 100]; NaN for the first ``period`` values.

    Where no close has changed since the start, average gain and loss are both zero: TA-Lib
    returns 0 there (which reads as "oversold"); we return the neutral 50 instead.
    """
    c = as_series(close, "close")
    out: FloatArray = talib.RSI(c, timeperiod=check_period(period, minimum=2))
    if len(c) > 1:
        # Rows up to and including the first change of close have seen no movement at all.
        flat = out[: _first_move(c)]
        flat[~np.isnan(flat)] = NEUTRAL_RSI
    return out


def _first_move(c: FloatArray) -> int:
    """Return the row of the first close that differs from the one before (len(c) if none)."""
    # growing windows: the first change is almost always within the first few rows, and comparing
    # the whole history (a year of minutes) for it was a full pass and a fresh mask per call
    start, size = 0, 64
    while start < len(c) - 1:
        stop = min(len(c) - 1, start + size)
        changed = c[start + 1 : stop + 1] != c[start:stop]
        if changed.any():
            return start + int(np.argmax(changed)) + 1
        start, size = stop, size * 4
    return len(c)
