import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 40), st.integers(-50, 50), st.one_of(st.none(), st.integers(-50, 50)))
def test_a_slice_is_the_frame_the_checked_constructor_builds(n: int, start: int, stop: int | None) -> None:
    ts = np.cumsum(np.random.default_rng(n).integers(1, 5, n)).astype(np.int64)
    frame = CandleFrame(ts, ts * 1.0, ts * 1.5, ts * 0.5, ts * 1.25, np.ones(n))
    got = frame.slice(start, stop)
    s = slice(start, stop)
    expected = CandleFrame(ts[s], frame.open[s], frame.high[s], frame.low[s], frame.close[s], frame.volume[s])
    assert type(got) is CandleFrame
    for name in ("timestamp", "open", "high", "low", "close", "volume"):
        column, wanted = getattr(got, name), getattr(expected, name)
        assert column.dtype == wanted.dtype and column.tobytes() == wanted.tobytes()
        assert np.shares_memory(column, getattr(frame, name)) or not len(column)  # a view, no copy
