"""Market regime labels per candle from ADX (trend strength) and a realised-volatility percentile."""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import numpy.typing as npt

from trader.core.indicators._validate import as_series, same_length

Int8Array = npt.NDArray[np.int8]


class Regime(IntEnum):
    """Regime code stored per candle; UNKNOWN during warm-up."""

    UNKNOWN = -1
    RANGING = 0
    TRENDING = 1
    HIGH_VOLATILITY = 2


def regime_labels(
    adx_values: npt.ArrayLike,
    vol_percentile: npt.ArrayLike,
    adx_threshold: float = 25.0,
    high_vol_percentile: float = 0.9,
) -> Int8Array:
    """Label each candle: HIGH_VOLATILITY if the vol percentile >= threshold, else TRENDING if ADX >=
    ``adx_threshold``, else RANGING; UNKNOWN where either input is still NaN."""
    a, p = as_series(adx_values, "adx"), as_series(vol_percentile, "vol_percentile")
    same_length(adx=a, vol_percentile=p)
    labels = np.full(len(a), Regime.RANGING, dtype=np.int8)
    labels[a >= adx_threshold] = Regime.TRENDING
    labels[p >= high_vol_percentile] = Regime.HIGH_VOLATILITY
    labels[np.isnan(a) | np.isnan(p)] = Regime.UNKNOWN
    return labels
