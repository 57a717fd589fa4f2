"""Multi-timeframe momentum: the higher-timeframe candle is used only once it has closed (the look-ahead
checks pass for it and flag a variant that reads the still-open bucket), signals on bundled data."""

from __future__ import annotations

import numpy as np
import pytest

from trader.core.domain.candles import CandleFrame
from trader.core.errors import StrategyError
from trader.core.optimise.bias import check_lookahead, check_warmup
from trader.core.strategies.momentum import MomentumStrategy
from trader.core.strategies.registry import create
from trader.core.strategies.timeframes import HigherTimeframe, candle_length_ms, higher_timeframe

H = 3_600_000
DAY0 = 1_700_006_400_000  # 2023-11-15 00:00 UTC: a multiple of 4h and of 1d
FAST = {"trend_factor": 4, "trend_fast": 5, "trend_slow": 20}  # short warm-up for the random walk


def walk(n: int, seed: int = 3, start: int = DAY0) -> CandleFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0, 0.003, n)) * close
    return CandleFrame(start + np.arange(n, dtype=np.int64) * H, open_, np.maximum(open_, close) + wick,
                       np.minimum(open_, close) - wick, close, rng.uniform(1, 2, n))


class PeekingMomentum(MomentumStrategy):
    """Reads the bucket that contains each row as if it had closed: look-ahead by construction."""

    name = "peeking_momentum"

    def higher(self, candles: CandleFrame) -> HigherTimeframe:
        proper = super().higher(candles)
        current = np.searchsorted(proper.candles.timestamp, candles.timestamp, side="right") - 1
        return HigherTimeframe(proper.candles, current.astype(np.int64))


def test_a_row_sees_the_higher_candle_only_from_the_row_that_closes_it() -> None:
    candles = walk(12, start=DAY0 + 2 * H)  # starts inside a 4h bucket: the first bucket is partial
    upper = higher_timeframe(candles, 4)
    assert candle_length_ms(candles.timestamp) == H
    assert list(upper.candles.timestamp - DAY0) == [0, 4 * H, 8 * H, 12 * H]
    # rows open at 02:00..13:00; the 00-04 bucket closes with the 03:00 row, 04-08 with the 07:00 row
    assert list(upper.closed) == [-1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
    # the partial first bucket's close is the close of its last row (index 1), as in the full history
    assert upper.candles.close[0] == candles.close[1]
    spread = upper.at_rows(np.array([10.0, 20.0, 30.0, 40.0]))
    assert np.isnan(spread[0]) and list(spread[1:]) == [10.0] * 4 + [20.0] * 4 + [30.0] * 3


def test_gaps_keep_the_candle_length_and_close_the_bucket_at_its_end() -> None:
    candles = walk(10)
    kept = np.r_[0:3, 6:10]  # 03:00-05:00 missing: the 00-04 bucket has no row closing it at 04:00
    gappy = CandleFrame(*(getattr(candles, c)[kept] for c in ("timestamp", "open", "high", "low", "close",
                                                               "volume")))
    upper = higher_timeframe(gappy, 4)
    assert candle_length_ms(gappy.timestamp) == H
    # rows at 00,01,02 then 06,07,08,09: bucket 0 is closed for the 06:00 row, bucket 1 at 07:00
    assert list(upper.closed) == [-1, -1, -1, 0, 1, 1, 1]
    assert list(higher_timeframe(candles.slice(0, 1), 4).closed) == [-1]
    assert len(higher_timeframe(candles.slice(0, 0), 4).closed) == 0


def test_the_look_ahead_checks_pass_for_the_strategy_and_flag_a_peeking_variant() -> None:
    candles = walk(3000)
    clean = MomentumStrategy(**FAST)
    report = check_lookahead(clean, candles, cuts=8, samples=40)
    assert report.passed, report
    assert check_warmup(clean, candles, target=400).passed
    # a peeking trend differs only near a sign change, so compare many prefixes
    peeking = check_lookahead(PeekingMomentum(**FAST), candles, cuts=300, samples=40)
    assert not peeking.passed
    assert peeking.rows_differing > 0 and peeking.live_differing > 0


def test_the_look_ahead_checks_pass_with_the_defaults_on_bundled_candles(btc_1h: CandleFrame) -> None:
    strategy = create("mtf_momentum")
    assert check_lookahead(strategy, btc_1h, cuts=4, samples=12).passed
    assert check_warmup(strategy, btc_1h, target=300, factors=(0.5, 1.0)).passed


def test_entries_follow_the_closed_higher_trend_on_bundled_candles(btc_1h: CandleFrame) -> None:
    strategy = MomentumStrategy()
    frame = strategy.compute(btc_1h)
    trend = strategy.trend(btc_1h)
    longs, shorts = np.flatnonzero(frame.enter_long), np.flatnonzero(frame.enter_short)
    assert len(longs) >= 20 and len(shorts) >= 20
    assert np.all(trend[longs] == 1) and np.all(trend[shorts] == -1)
    assert np.all(frame.stop_loss[longs] < btc_1h.close[longs])
    assert np.all(frame.take_profit[shorts] < btc_1h.close[shorts])
    assert frame.reason(int(longs[0])) == "higher_trend, rsi_cross"
    # a daily trend changes at most once per day: only rows closing a day may see a new value
    changed = np.flatnonzero(np.diff(np.nan_to_num(trend, nan=9.0)) != 0) + 1
    assert np.all((btc_1h.timestamp[changed] + H) % (24 * H) == 0)


def test_parameters_are_validated() -> None:
    with pytest.raises(StrategyError, match="trend_fast must be shorter"):
        MomentumStrategy(trend_fast=30, trend_slow=30)
    with pytest.raises(StrategyError, match="trend_factor"):
        MomentumStrategy(trend_factor=1)
