"""Hand-built candle series for scenario tests (real CandleFrames, deterministic)."""

from __future__ import annotations

import numpy as np

from trader.core.domain.candles import CandleFrame

HOUR_MS = 3_600_000


def frame(close: np.ndarray, volume: np.ndarray | None = None, wick: float = 0.5) -> CandleFrame:
    """Return candles with the given closes, open = previous close, high/low = body +/- ``wick``."""
    close = np.asarray(close, dtype=np.float64)
    open_ = np.r_[close[0], close[:-1]]
    n = len(close)
    return CandleFrame(
        timestamp=1_700_000_000_000 + np.arange(n, dtype=np.int64) * HOUR_MS,
        open=open_,
        high=np.maximum(open_, close) + wick,
        low=np.minimum(open_, close) - wick,
        close=close,
        volume=np.full(n, 100.0) if volume is None else np.asarray(volume, dtype=np.float64),
    )


def zigzag_uptrend(n: int, start: float = 1000.0) -> np.ndarray:
    """Return closes alternating +1.0 / -0.8: a steady uptrend with RSI near 55."""
    steps = np.where(np.arange(n) % 2 == 0, 1.0, -0.8)
    return start + np.cumsum(steps)


def mirrored(candles: CandleFrame, pivot: float) -> CandleFrame:
    """Return the candles reflected around ``pivot`` (a rally becomes a sell-off)."""
    return CandleFrame(
        timestamp=candles.timestamp,
        open=2 * pivot - candles.open,
        high=2 * pivot - candles.low,
        low=2 * pivot - candles.high,
        close=2 * pivot - candles.close,
        volume=candles.volume,
    )
