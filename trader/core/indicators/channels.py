"""Rolling extremes (TA-Lib MAX/MIN) and Bollinger Bands (TA-Lib BBANDS, population sigma)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy.typing as npt
import talib

from trader.core.indicators._validate import FloatArray, as_series, check_period
from trader.core.memo import memoised


@memoised
def rolling_max(values: npt.ArrayLike, period: int) -> FloatArray:
    """Return the highest value of the last ``period`` values, including the current one."""
    return talib.MAX(as_series(values), timeperiod=check_period(period))


@memoised
def rolling_min(values: npt.ArrayLike, period: int) -> FloatArray:
    """Return the lowest value of the last ``period`` values, including the current one."""
    return talib.MIN(as_series(values), timeperiod=check_period(period))


@dataclass(frozen=True, slots=True)
class Bands:
    """Bollinger Bands: middle SMA and middle ± k population standard deviations."""

    upper: FloatArray
    middle: FloatArray
    lower: FloatArray


@memoised
def bollinger(close: npt.ArrayLike, period: int = 20, k: float = 2.0) -> Bands:
    """Return Bollinger Bands over ``period`` closes with width ``k`` sigma (ddof=0)."""
    if not k > 0:
        raise ValueError(f"k must be > 0, got {k!r}")
    upper, middle, lower = talib.BBANDS(
        as_series(close, "close"), timeperiod=check_period(period, minimum=2), nbdevup=k, nbdevdn=k
    )
    return Bands(upper=upper, middle=middle, lower=lower)
