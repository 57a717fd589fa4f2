"""Pairs statistics: rolling OLS hedge ratio, the spread it defines, and its EWMA z-score.

All functions follow the indicator conventions: output as long as the input, NaN during warm-up, value
i depends only on inputs 0..i. The regression runs on whatever the caller passes (the pairs strategy
passes log prices, so beta is the elasticity of one leg to the other and the hedge is in notional).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from trader.core.indicators._validate import FloatArray, as_series, check_period, same_length


@dataclass(frozen=True, slots=True)
class Regression:
    """Per-row OLS fit of y on x over the last ``window`` rows: y ~ alpha + beta * x."""

    alpha: FloatArray
    beta: FloatArray


def rolling_ols(y: npt.ArrayLike, x: npt.ArrayLike, window: int) -> Regression:
    """Return the OLS intercept and slope of y on x over each trailing ``window`` (NaN before; NaN where x
    is constant in the window).

    Each window is demeaned on its own (no running sums), so a value depends only on its window's inputs:
    the live tail and the whole history give bit-identical fits.
    """
    ys, xs = as_series(y, "y"), as_series(x, "x")
    n = same_length(y=ys, x=xs)
    check_period(window, "window", minimum=2)
    alpha, beta = np.full(n, np.nan), np.full(n, np.nan)
    if n < window:
        return Regression(alpha, beta)
    wy, wx = sliding_window_view(ys, window), sliding_window_view(xs, window)
    my, mx = wy.mean(axis=1), wx.mean(axis=1)
    dx = wx - mx[:, None]
    sxx = np.einsum("ij,ij->i", dx, dx)
    sxy = np.einsum("ij,ij->i", dx, wy - my[:, None])
    # x flat to within float noise (a standard deviation below 1e-10 of its level) has no slope
    flat = sxx <= window * (1e-10 * np.maximum(np.abs(mx), 1.0)) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(flat, np.nan, sxy / sxx)
    beta[window - 1:] = slope
    alpha[window - 1:] = my - slope * mx
    return Regression(alpha, beta)


def spread(y: npt.ArrayLike, x: npt.ArrayLike, fit: Regression) -> FloatArray:
    """Return y - alpha - beta * x with each row's own fit (the residual the hedge leaves)."""
    ys, xs = as_series(y, "y"), as_series(x, "x")
    out: FloatArray = ys - fit.alpha - fit.beta * xs
    return out


@dataclass(frozen=True, slots=True)
class EwmaStats:
    """Exponentially weighted mean, variance and the z-score (value - mean) / sqrt(variance)."""

    mean: FloatArray
    variance: FloatArray
    zscore: FloatArray


def ewma_zscore(values: npt.ArrayLike, halflife: float, min_periods: int = 2) -> EwmaStats:
    """Return EWMA mean and variance (alpha = 1 - 2 ** (-1 / halflife)) and the z-score of each value.

    Recursions from the first defined value v0 (mean v0, variance 0), with d = v - previous mean:
    mean = prev + alpha * d; variance = (1 - alpha) * (prev variance + alpha * d**2), the exponentially
    weighted variance about the current mean. z is NaN for the first ``min_periods`` values and where
    the variance is 0. Leading NaNs (a warm-up upstream) are skipped; a NaN later raises ValueError.
    """
    series = as_series(values)
    if not halflife > 0:
        raise ValueError(f"halflife must be positive, got {halflife}")
    n = len(series)
    mean, variance, z = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    valid = np.flatnonzero(~np.isnan(series))
    if len(valid) == 0:
        return EwmaStats(mean, variance, z)
    start = int(valid[0])
    s = series[start:]
    alpha = ewma_alpha(halflife)
    # pandas' ewm(adjust=False) is exactly m_t = (1 - alpha) m_{t-1} + alpha v_t, computed in C
    m = pd.Series(s).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    d = np.empty_like(s)
    d[0] = 0.0
    d[1:] = s[1:] - m[:-1]
    # variance: v_t = (1 - alpha) v_{t-1} + alpha * ((1 - alpha) d_t^2), the same recursion, v_0 = 0
    v = pd.Series((1 - alpha) * d * d).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    mean[start:], variance[start:] = m, v
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(v > 0, (s - m) / np.sqrt(v), np.nan)
    score[: min(min_periods, len(score))] = np.nan
    z[start:] = score
    return EwmaStats(mean, variance, z)


def ewma_alpha(halflife: float) -> float:
    """Return the EWMA weight of the newest value for a half-life in rows."""
    return float(1 - 2 ** (-1 / halflife))
