"""Deliberately biased strategies for the bias checks: one peeks at the next candle, one declares a
required_history far shorter than its slow EMA needs. Plus a clean twin of the EMA strategy."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from trader.core.domain.candles import CandleFrame
from trader.core.indicators import ema
from trader.core.strategies.base import Param, SignalFrame, Strategy


def signals(candles: CandleFrame, enter: np.ndarray, leave: np.ndarray) -> SignalFrame:
    """Return a long-only SignalFrame with the given entry and exit flags."""
    n = len(candles)
    none = np.zeros(n, np.bool_)
    return SignalFrame(candles.timestamp, enter.astype(np.bool_), leave.astype(np.bool_), none, none.copy(),
                       np.where(enter, 1.0, 0.0), np.full(n, np.nan), np.full(n, np.nan),
                       enter.astype(np.int64), ("test",))


class PeekStrategy(Strategy):
    """Enter when the NEXT candle closes higher: look-ahead bias by construction."""

    name = "peek_next_candle"
    description = "biased: reads close[i + 1]"

    @property
    def required_history(self) -> int:
        return 2

    def compute(self, candles: CandleFrame) -> SignalFrame:
        close = candles.close
        nxt = np.r_[close[1:], close[-1:]]  # the last row sees itself: differs once the future arrives
        return signals(candles, nxt > close, nxt < close)


class EmaCross(Strategy):
    """Long while the close is above a slow EMA; ``declared`` sets required_history."""

    name = "ema_cross"
    params_spec = MappingProxyType({"period": Param(100, 2, 500, 1), "declared": Param(0, 0, 100_000, 1)})

    @property
    def required_history(self) -> int:
        declared = self.int_param("declared")
        return declared or 20 * self.int_param("period")  # seed weight (1-2/(p+1))^(20p) ~ 4e-18

    def compute(self, candles: CandleFrame) -> SignalFrame:
        above = candles.close > ema(candles.close, self.int_param("period"))
        crossed = above & ~np.r_[False, above[:-1]]
        return signals(candles, crossed, ~above)
