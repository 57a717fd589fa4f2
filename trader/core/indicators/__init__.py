"""Technical indicators over float64 arrays (TA-Lib where it has them, numpy for the rest).

Every function returns an array as long as its input, NaN before the first full window, and each
value depends only on inputs up to its own index. Leading NaNs in the input extend the warm-up; a
NaN after valid data raises ValueError.
"""

from trader.core.indicators._validate import first_valid_index
from trader.core.indicators.channels import Bands, bollinger, rolling_max, rolling_min
from trader.core.indicators.momentum import rsi
from trader.core.indicators.regime import Regime, regime_labels
from trader.core.indicators.trend import Macd, adx, ema, macd, sma
from trader.core.indicators.volatility import (
    atr,
    log_returns,
    percentile_rank,
    percentile_rank_at,
    realised_volatility,
    rolling_zscore,
)
from trader.core.indicators.volume import ratio_to_average, volume_average, volume_ratio
from trader.core.indicators.warmup import adx_warmup, ema_warmup, wilder_warmup

__all__ = [
    "Bands",
    "Macd",
    "Regime",
    "adx",
    "adx_warmup",
    "atr",
    "bollinger",
    "ema",
    "ema_warmup",
    "first_valid_index",
    "log_returns",
    "macd",
    "percentile_rank",
    "percentile_rank_at",
    "ratio_to_average",
    "realised_volatility",
    "regime_labels",
    "rolling_max",
    "rolling_min",
    "rolling_zscore",
    "rsi",
    "sma",
    "volume_average",
    "volume_ratio",
    "wilder_warmup",
]
