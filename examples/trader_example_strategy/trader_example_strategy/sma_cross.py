"""A complete, minimal strategy plugin: go long when a fast SMA crosses above a slow SMA."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from trader.core.domain.candles import CandleFrame
from trader.core.errors import StrategyError
from trader.core.indicators import sma
from trader.core.strategies.base import Param, SignalFrame, Strategy


class SmaCrossStrategy(Strategy):
    """Enter long on a fast-over-slow SMA cross, exit on the cross back; stop a fixed % below."""

    name = "sma_cross"
    description = "Fast SMA crosses the slow SMA (long only)"
    params_spec = MappingProxyType(
        {
            "fast": Param(10, 2, 200, 1, doc="fast SMA period"),
            "slow": Param(30, 3, 500, 1, doc="slow SMA period"),
            "stop_pct": Param(0.02, 0.001, 0.5, 0.001, doc="stop distance below the close (0.02 = 2%)"),
        }
    )

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.int_param("fast") >= self.int_param("slow"):
            raise StrategyError("sma_cross: fast must be shorter than slow")

    @property
    def required_history(self) -> int:
        """SMA has no memory beyond its window: the slow window plus the previous candle."""
        return self.int_param("slow") + 1

    def compute(self, candles: CandleFrame) -> SignalFrame:
        """Return one signal row per candle; row i uses only candles up to i."""
        fast = sma(candles.close, self.int_param("fast"))
        slow = sma(candles.close, self.int_param("slow"))
        above = fast > slow  # False while either SMA is still NaN (warm-up)
        was_above = np.r_[False, above[:-1]] if len(above) else above
        was_below = np.r_[False, (fast < slow)[:-1]] if len(above) else above
        enter = above & was_below
        leave = (fast < slow) & was_above
        n = len(candles)
        stop = np.where(enter, candles.close * (1 - self.float_param("stop_pct")), np.nan)
        return SignalFrame(
            timestamp=candles.timestamp.copy(),
            enter_long=enter,
            exit_long=leave,
            enter_short=np.zeros(n, dtype=np.bool_),
            exit_short=np.zeros(n, dtype=np.bool_),
            confidence=np.where(enter, 0.5, 0.0),
            stop_loss=stop,
            take_profit=np.full(n, np.nan),
            reasons=enter.astype(np.int64) | (leave.astype(np.int64) << 1),
            reason_names=("cross_up", "cross_down"),
        )
