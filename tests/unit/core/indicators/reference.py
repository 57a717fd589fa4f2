"""Independent pandas implementations of the textbook indicator formulas (test oracle only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view


def wilder(values: pd.Series, period: int, seed_at: int, seed: float) -> pd.Series:
    """Wilder/EMA-style recursion y[i] = y[i-1] + alpha*(x[i]-y[i-1]) seeded with ``seed`` at ``seed_at``."""
    x = values.copy()
    x.iloc[:seed_at] = np.nan
    x.iloc[seed_at] = seed
    out = x.iloc[seed_at:].ewm(alpha=1.0 / period, adjust=False).mean()
    return out.reindex(values.index)


def ema(s: pd.Series, period: int) -> pd.Series:
    """EMA with alpha 2/(n+1) seeded with the SMA of the first n values."""
    x = s.copy()
    x.iloc[: period - 1] = np.nan
    x.iloc[period - 1] = s.iloc[:period].mean()
    out = x.iloc[period - 1 :].ewm(alpha=2.0 / (period + 1), adjust=False).mean()
    return out.reindex(s.index)


def exact_std(s: pd.Series, period: int) -> pd.Series:
    """Population standard deviation of each full window, two-pass (no running sums)."""
    values = np.full(len(s), np.nan)
    if len(s) >= period:
        windows = pd.DataFrame(sliding_window_view(s.to_numpy(), period))
        values[period - 1 :] = windows.std(axis=1, ddof=0).to_numpy()
    return pd.Series(values, index=s.index)


def rsi(close: pd.Series, period: int) -> pd.Series:
    """Wilder's RSI; 50 when average gain and loss are both zero."""
    delta = close.diff()
    gain, loss = delta.clip(lower=0), (-delta).clip(lower=0)
    avg_gain = wilder(gain, period, period, gain.iloc[1 : period + 1].mean())
    avg_loss = wilder(loss, period, period, loss.iloc[1 : period + 1].mean())
    total = avg_gain + avg_loss
    return (100 * avg_gain / total).where(total != 0, 50.0).where(total.notna())


def true_range(df: pd.DataFrame) -> pd.Series:
    """Wilder's true range (NaN on the first candle)."""
    prev = df["close"].shift(1)
    tr = pd.concat([df["high"] - df["low"], (df["high"] - prev).abs(), (df["low"] - prev).abs()], axis=1)
    return tr.max(axis=1).where(prev.notna())


def atr(df: pd.DataFrame, period: int) -> pd.Series:
    """Wilder's ATR seeded with the mean of the first ``period`` true ranges."""
    tr = true_range(df)
    return wilder(tr, period, period, tr.iloc[1 : period + 1].mean())


def adx(df: pd.DataFrame, period: int) -> pd.Series:
    """Wilder's ADX (TA-Lib seeding: DM/TR sums over the first period-1 moves, ADX = mean of n DX)."""
    up = df["high"].diff()
    down = -df["low"].diff()
    plus_dm = up.where((up > down) & (up > 0), 0.0).where(up.notna())
    minus_dm = down.where((down > up) & (down > 0), 0.0).where(up.notna())
    tr = true_range(df)
    seed = period - 1
    smooth = {
        name: wilder(series, period, seed, series.iloc[1:period].sum() / period)
        for name, series in (("plus", plus_dm), ("minus", minus_dm), ("tr", tr))
    }
    plus_di = 100 * smooth["plus"] / smooth["tr"]
    minus_di = 100 * smooth["minus"] / smooth["tr"]
    total = plus_di + minus_di
    dx = (100 * (plus_di - minus_di).abs() / total).where(total != 0, 0.0).where(total.notna())
    dx.iloc[:period] = np.nan
    first = 2 * period - 1
    return wilder(dx, period, first, dx.iloc[period : first + 1].mean())
