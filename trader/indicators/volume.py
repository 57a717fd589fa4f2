"""Volume: ratio of each candle's volume to its moving average (hand-written: TA-Lib has none)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import talib

from trader.indicators._validate import FloatArray, as_series, check_period, nan_array


def volume_ratio(volume: npt.ArrayLike, period: int = 20) -> FloatArray:
    """Return volume / SMA(volume, period), the window including the current candle.

    A window with no volume at all has ratio 0 (nothing traded, so no spike); NaN during warm-up.
    """
    v = as_series(volume, "volume")
    if (v < 0).any():
        raise ValueError(f"volume: negative value at index {int(np.flatnonzero(v < 0)[0])}")
    average = talib.SMA(v, timeperiod=check_period(period))
    out = nan_array(len(v))
    valid = ~np.isnan(average)
    out[valid] = 0.0
    np.divide(v, average, out=out, where=valid & (average > 0))
    return out
