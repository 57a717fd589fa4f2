"""Higher-timeframe candles inside a lower-timeframe strategy, used only once they have closed.

A strategy receives one candle frame (its own timeframe). To read a higher timeframe it groups its
candles into buckets of ``factor`` candle lengths aligned to UTC epoch multiples (as exchanges
align 4h or 1d candles) and, for each row, points at the last bucket that had CLOSED when that
row's candle closed. The bucket containing the row is never used while later candles of it are
still to come: that would read the future (its close would be a later candle's close).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trader.core.domain.candles import CandleFrame, FloatArray, IntArray
from trader.core.memo import memoised


def candle_length_ms(timestamp: IntArray) -> int:
    """Return the candle timeframe in ms: the smallest gap between consecutive open times (0 if < 2).

    Gaps in the data only make some differences larger, so the smallest one is the timeframe as
    soon as two consecutive candles are present (in a backtest history and in a live tail alike).
    """
    if len(timestamp) < 2:
        return 0
    return int(np.min(np.diff(timestamp)))


@dataclass(frozen=True, slots=True)
class HigherTimeframe:
    """The higher-timeframe candles of a frame and, per lower row, the last closed one (-1: none)."""

    candles: CandleFrame
    closed: IntArray  # per lower row: index into ``candles`` of the last bucket closed by then

    def at_rows(self, values: FloatArray) -> FloatArray:
        """Return ``values`` (one per higher candle) spread over the lower rows, NaN before the first."""
        out = np.full(len(self.closed), np.nan)
        ready = self.closed >= 0
        out[ready] = values[self.closed[ready]]
        return out


@memoised
def higher_timeframe(candles: CandleFrame, factor: int) -> HigherTimeframe:
    """Return the ``factor``x timeframe of ``candles`` and the last bucket closed at each row's close.

    Row i (open ``t``, close ``t + tf``) may use a bucket ending at or before ``t + tf``: the row that
    completes a bucket sees it (its close is that row's close), the earlier rows see the one before.
    A partial bucket (a gap, or the first one of a live tail) still closes at its end time.
    """
    n = len(candles)
    tf = candle_length_ms(candles.timestamp)
    if tf == 0:
        empty = np.empty(0, dtype=np.int64)
        return HigherTimeframe(candles.slice(0, 0), np.full(n, -1, dtype=np.int64) if n else empty)
    bucket_ms = tf * factor
    upper = candles.resample_ms(bucket_ms)
    ends = upper.timestamp + bucket_ms
    closed = np.searchsorted(ends, candles.timestamp + tf, side="right").astype(np.int64) - 1
    return HigherTimeframe(upper, closed)
