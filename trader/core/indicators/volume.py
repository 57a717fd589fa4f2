"""Volume: ratio of each candle's volume to its moving average (hand-written: TA-Lib has none)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import talib

from trader.core.indicators._validate import FloatArray, as_series, check_period
from trader.core.memo import memoised


@memoised
def volume_ratio(volume: npt.ArrayLike, period: int = 20) -> FloatArray:
    """Return volume / SMA(volume, period), the window including the current candle.

    A window with no volume at all has ratio 0 (nothing traded, so no spike); NaN during warm-up.
    """
    v = as_series(volume, "volume")
    return ratio_to_average(v, volume_average(v, period))


@memoised
def volume_average(volume: npt.ArrayLike, period: int = 20) -> FloatArray:
    """Return SMA(volume, period) after checking that no volume is negative."""
    v = as_series(volume, "volume")
    if len(v) and not v.min() >= 0:  # one reduce; the exact scan only when something is wrong
        negative = np.flatnonzero(v < 0)
        if len(negative):
            raise ValueError(f"volume: negative value at index {int(negative[0])}")
    return talib.SMA(v, timeperiod=check_period(period))


def ratio_to_average(volume: FloatArray, average: FloatArray) -> FloatArray:
    """Return volume / average elementwise (0 where the average is 0); works on any subset of rows,
    so a strategy can compute the ratio only on its candidate candles."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = volume / average
    out[average <= 0] = 0.0  # NaN (warm-up) compares False and stays NaN
    return out
