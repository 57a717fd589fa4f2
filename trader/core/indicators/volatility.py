"""Volatility: ATR (TA-Lib), realised volatility of log returns, and a strided percentile rank.

``percentile_rank`` is hand-written in numpy because neither TA-Lib nor a fast pandas routine has
it: pandas ``rolling().rank()`` takes ~150 ms on a year of 1-minute candles (measured), over the
strategy budget. Ranking against samples taken every ``stride`` candles keeps it exact, causal and
independent of where the input starts, at ``lookback/stride`` vectorised passes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import talib

from trader.core.indicators._validate import (
    FloatArray,
    as_series,
    check_period,
    first_valid_index,
    nan_array,
    same_length,
)
from trader.core.memo import active, memoised

_RESIDUE = 1e-9


@memoised
def atr(high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Return Wilder's average true range (NaN for the first ``period`` values)."""
    h, lo, c = as_series(high, "high"), as_series(low, "low"), as_series(close, "close")
    same_length(high=h, low=lo, close=c)
    return talib.ATR(h, lo, c, timeperiod=check_period(period))


@memoised
def log_returns(close: npt.ArrayLike) -> FloatArray:
    """Return log(close[i] / close[i-1]) with NaN at index 0; prices must be > 0."""
    c = as_series(close, "close")
    if len(c) and not c.min() > 0:  # one reduce; the exact scan only when something is wrong
        bad = np.flatnonzero(c <= 0)
        if len(bad):
            raise ValueError(f"close: non-positive price at index {int(bad[0])}")
    out = np.empty(len(c))
    if len(c):
        out[0] = np.nan
        np.divide(c[1:], c[:-1], out=out[1:])
        np.log(out[1:], out=out[1:])
    return out


@memoised
def realised_volatility(close: npt.ArrayLike, window: int = 30) -> FloatArray:
    """Return the population standard deviation of the last ``window`` log returns (per candle)."""
    returns = log_returns(close)
    out: FloatArray = talib.STDDEV(returns, timeperiod=check_period(window, "window", minimum=2), nbdev=1.0)
    # TA-Lib's running sums leave a rounding residue (sqrt of ~1e-21) on windows with no price
    # change; a per-candle sigma under 1e-9 is that residue, so it is snapped to an exact 0. This
    # keeps flat stretches tied exactly, whatever history came before them.
    out[out < _RESIDUE] = 0.0
    return out


@memoised
def percentile_rank(values: npt.ArrayLike, lookback: int = 1000, stride: int = 20) -> FloatArray:
    """Return the mid-rank of each value among values[i - k*stride] for k = 1..lookback//stride.

    Result in [0, 1]: 0 = below every sample, 1 = above every sample, ties count one half (so a
    constant series ranks 0.5). NaN until all samples exist.
    """
    x = as_series(values)
    samples = _samples(lookback, stride)
    out = nan_array(len(x))
    start = first_valid_index(x) + samples * stride
    if start >= len(x):
        return out
    current = x[start:]
    below = np.zeros(len(current), dtype=np.int64)  # count(past < current) + count(past <= current)
    for k in range(1, samples + 1):  # loop over lags, not candles: each pass is vectorised
        past = x[start - k * stride : len(x) - k * stride]
        below += past < current
        below += past <= current
    out[start:] = below / (2.0 * samples)
    return out


def percentile_rank_at(
    values: npt.ArrayLike, rows: npt.ArrayLike, lookback: int = 1000, stride: int = 20
) -> FloatArray:
    """Return ``percentile_rank(values, lookback, stride)[rows]`` computing only those rows.

    Strategies rank volatility only on their few candidate candles, which is what keeps the regime
    filter inside the per-strategy time budget. Under an indicator cache (an optimiser batch) the
    whole ranking is computed once and indexed: the same integer counts, so the same values.
    """
    x = as_series(values)
    at = np.asarray(rows, dtype=np.int64)
    samples = _samples(lookback, stride)
    if len(at) and (at.min() < 0 or at.max() >= len(x)):
        raise ValueError(f"rows out of range for {len(x)} values")
    if active() is not None and isinstance(values, np.ndarray):
        ranked: FloatArray = percentile_rank(values, lookback, stride)[at]
        return ranked
    out = nan_array(len(at))
    ok = at >= first_valid_index(x) + samples * stride
    picked = at[ok]
    below = np.zeros(len(picked), dtype=np.int64)  # count(past < current) + count(past <= current)
    current = x[picked]
    for k in range(1, samples + 1):  # loop over lags, not candles: each pass is vectorised
        past = x[picked - k * stride]
        below += past < current
        below += past <= current
    out[ok] = below / (2.0 * samples)
    return out


def _samples(lookback: int, stride: int) -> int:
    check_period(stride, "stride")
    samples = check_period(lookback, "lookback") // stride
    if samples < 1:
        raise ValueError(f"lookback ({lookback}) must be >= stride ({stride})")
    return samples


@memoised
def rolling_zscore(values: npt.ArrayLike, period: int = 20) -> FloatArray:
    """Return (x - mean) / sigma over the last ``period`` values (ddof=0); 0 where sigma is 0."""
    x = as_series(values)
    p = check_period(period, minimum=2)
    mean = talib.SMA(x, timeperiod=p)
    sigma = talib.STDDEV(x, timeperiod=p, nbdev=1.0)
    out = nan_array(len(x))
    valid = ~np.isnan(sigma)
    # A flat window has sigma 0 (up to TA-Lib rounding): the value equals the mean, so its score is 0.
    flat = valid & (sigma <= 1e-12 * np.maximum(np.abs(mean), 1.0))
    np.divide(x - mean, sigma, out=out, where=valid & ~flat)
    out[flat] = 0.0
    return out
