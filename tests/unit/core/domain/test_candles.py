import numpy as np
import pytest

from trader.core.domain.candles import CandleFrame, timeframe_ms


def _frame(n: int, step: int = 60_000) -> CandleFrame:
    ts = np.arange(n, dtype=np.int64) * step
    px = np.arange(n, dtype=np.float64) + 100
    return CandleFrame(ts, px, px + 1, px - 1, px + 0.5, np.ones(n))


def test_resample_aggregates_ohlcv() -> None:
    r = _frame(120).resample("1h")
    assert len(r) == 2
    assert r.open[0] == 100 and r.close[0] == 159.5 and r.high[0] == 160 and r.low[0] == 99
    assert r.volume.tolist() == [60.0, 60.0]


def test_rejects_unsorted_and_bad_timeframe() -> None:
    f = _frame(3)
    with pytest.raises(ValueError):
        CandleFrame(f.timestamp[::-1].copy(), f.open, f.high, f.low, f.close, f.volume)
    with pytest.raises(ValueError):
        timeframe_ms("1x")


def test_closed_before_drops_open_candle() -> None:
    f = _frame(10)
    assert len(f.closed_before(10 * 60_000 - 1, "1m")) == 9
