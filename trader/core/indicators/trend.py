"""Trend indicators: SMA, EMA, MACD and ADX from TA-Lib, typed and with our NaN policy.

TA-Lib seeds EMA with the SMA of the first ``period`` values and ADX with Wilder's sums, so every
output is NaN before the first full window and depends only on data up to its own index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy.typing as npt
import talib

from trader.core.indicators._validate import FloatArray, as_series, check_period, same_length
from trader.core.memo import memoised


@memoised
def sma(values: npt.ArrayLike, period: int) -> FloatArray:
    """Return the simple moving average over ``period`` values (NaN for the first period-1)."""
    return talib.SMA(as_series(values), timeperiod=check_period(period))


@memoised
def ema(values: npt.ArrayLike, period: int) -> FloatArray:
    """Return the exponential moving average (alpha 2/(period+1), seeded with the first SMA)."""
    return talib.EMA(as_series(values), timeperiod=check_period(period))


@dataclass(frozen=True, slots=True)
class Macd:
    """MACD line (fast EMA - slow EMA), its signal EMA, and the histogram (line - signal)."""

    line: FloatArray
    signal: FloatArray
    histogram: FloatArray


@memoised
def macd(values: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> Macd:
    """Return MACD; all three columns are NaN until the signal EMA is warm (slow+signal-2 values)."""
    check_period(fast, "fast")
    check_period(slow, "slow", minimum=2)
    check_period(signal, "signal")
    if fast >= slow:
        raise ValueError(f"fast ({fast}) must be shorter than slow ({slow})")
    line, sig, hist = talib.MACD(as_series(values), fastperiod=fast, slowperiod=slow, signalperiod=signal)
    return Macd(line=line, signal=sig, histogram=hist)


@memoised
def adx(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Return Wilder's average directional index in [0, 100] (NaN for the first 2*period-1)."""
    h, lo, c = as_series(high, "high"), as_series(low, "low"), as_series(close, "close")
    same_length(high=h, low=lo, close=c)
    return talib.ADX(h, lo, c, timeperiod=check_period(period, minimum=2))
