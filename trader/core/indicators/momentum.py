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
        changed = c[1:] != c[:-1]
        first_move = int(np.argmax(changed)) + 1 if changed.any() else len(c)
        flat = out[:first_move]
        flat[~np.isnan(flat)] = NEUTRAL_RSI
    return out
