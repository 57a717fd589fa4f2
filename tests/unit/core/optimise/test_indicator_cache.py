"""The indicator cache: a plain call outside a batch; inside, one computation per (indicator,
parameters, input arrays), read-only results, other arrays never served another array's result."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core import memo
from trader.core.backtest.lanes import Lane
from trader.core.backtest.timeline import Timeline
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.indicators import bollinger, ema, percentile_rank, percentile_rank_at, realised_volatility

RNG = np.random.default_rng(7)
CLOSE = 100 * np.exp(np.cumsum(RNG.normal(0, 0.01, 3000)))


def test_outside_a_batch_nothing_is_kept_and_results_stay_writable() -> None:
    assert memo.active() is None
    out = ema(CLOSE, 10)
    assert out.flags.writeable
    assert ema(CLOSE, 10) is not out


def test_inside_a_batch_each_distinct_call_is_computed_once() -> None:
    with memo.caching() as cache:
        first = ema(CLOSE, 10)
        assert ema(CLOSE, 10) is first
        assert ema(CLOSE, 11) is not first
        bands = bollinger(CLOSE, 20, 2.0)
        assert bollinger(CLOSE, 20, 2.0) is bands
        assert bollinger(CLOSE, 20, 2.5) is not bands
    assert (cache.hits, cache.misses) == (2, 4)
    np.testing.assert_array_equal(first, ema(CLOSE, 10))
    assert memo.active() is None


def test_cached_results_are_read_only() -> None:
    with memo.caching():
        out = ema(CLOSE, 10)
        bands = bollinger(CLOSE, 20, 2.0)
    with pytest.raises(ValueError, match="read-only"):
        out[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        bands.upper[0] = 1.0


def test_other_candles_are_another_key_even_with_equal_values() -> None:
    other = CLOSE * 1.5
    same_values = CLOSE.copy()
    with memo.caching() as cache:
        a = ema(CLOSE, 10)
        b = ema(other, 10)
        c = ema(same_values, 10)
    assert cache.misses == 3
    np.testing.assert_array_equal(b, ema(other, 10))
    assert not np.array_equal(a, b)
    assert c is not a


def test_an_argument_that_cannot_be_keyed_is_a_plain_call() -> None:
    with memo.caching() as cache:
        out = ema(list(CLOSE[:100]), 10)
    assert len(cache) == 0
    np.testing.assert_array_equal(out, ema(CLOSE[:100], 10))


def test_the_byte_budget_evicts_the_least_recently_used() -> None:
    view = CLOSE[:]  # a view: in a study the candle columns are views of the frame
    cache = memo.IndicatorCache(budget_bytes=int(CLOSE.nbytes * 2.5))
    with memo.caching(cache):
        first = ema(view, 5)
        ema(view, 6)
        assert ema(view, 5) is first  # now the most recently used
        ema(view, 7)  # over budget: drops period 6
        assert len(cache) == 2
        assert ema(view, 5) is first
        misses = cache.misses
        ema(view, 6)
        assert cache.misses == misses + 1


def test_inputs_kept_alive_only_by_the_cache_count_against_the_budget() -> None:
    with memo.caching() as cache:
        ema(CLOSE * 2, 10)  # a fresh input: the cache alone keeps it alive
        assert cache.size_bytes == 2 * CLOSE.nbytes
        ema(CLOSE[1000:], 10)  # a view of a living array: only the result counts
        assert cache.size_bytes == 2 * CLOSE.nbytes + CLOSE[1000:].nbytes


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 60), st.integers(1, 20), st.lists(st.integers(0, 2999), max_size=50))
def test_ranking_rows_from_the_cached_whole_ranking_equals_ranking_only_them(
        lookback: int, stride: int, rows: list[int]) -> None:
    if lookback < stride:
        lookback, stride = stride, lookback
    vol = realised_volatility(CLOSE, 10)
    alone = percentile_rank_at(vol, rows, lookback, stride)
    with memo.caching():
        cached = percentile_rank_at(vol, rows, lookback, stride)
    np.testing.assert_array_equal(cached, alone)
    np.testing.assert_array_equal(alone, percentile_rank(vol, lookback, stride)[rows])


def test_the_same_rows_of_the_same_candles_share_one_key_other_rows_do_not() -> None:
    frame = CandleFrame(np.arange(3000, dtype=np.int64) * 60_000, CLOSE, CLOSE * 1.01, CLOSE * 0.99, CLOSE,
                        np.ones(3000))
    # two trials' trade slices: the same rows reached through different warm-up slices
    one, other = frame.slice(100, 2900).slice(400), frame.slice(300, 2900).slice(200)
    assert one is not other
    assert memo.rows_key(one) == memo.rows_key(other)
    assert memo.rows_key(one) != memo.rows_key(frame.slice(500, 2899))
    assert memo.rows_key(one) != memo.rows_key(frame.slice(501, 2900))
    copied = CandleFrame(*(np.array(getattr(one, f)) for f in
                           ("timestamp", "open", "high", "low", "close", "volume")))
    assert memo.rows_key(copied) != memo.rows_key(one)  # equal values elsewhere in memory: another key


def test_a_timeline_is_built_once_per_rows_inside_a_batch() -> None:
    frame = CandleFrame(np.arange(3000, dtype=np.int64) * 3_600_000, CLOSE, CLOSE * 1.01, CLOSE * 0.99, CLOSE,
                        np.ones(3000))
    other = CandleFrame(frame.timestamp + 1_800_000, CLOSE, CLOSE, CLOSE, CLOSE, np.ones(3000))

    def lanes(a: CandleFrame, b: CandleFrame) -> dict[Symbol, Lane]:
        return {s: Lane(s, f, None, np.zeros(0, dtype=np.int64), 3_600_000)  # type: ignore[arg-type]
                for s, f in ((Symbol("A/USDT"), a), (Symbol("B/USDT"), b))}

    with memo.caching():
        first = Timeline.shared(lanes(frame.slice(10).slice(5), other.slice(15)), "UTC", "USDT")
        assert Timeline.shared(lanes(frame.slice(15), other.slice(12).slice(3)), "UTC", "USDT") is first
        moved = Timeline.shared(lanes(frame.slice(16), other.slice(15)), "UTC", "USDT")
    assert moved is not first
    alone = Timeline.build(lanes(frame.slice(15), other.slice(15)), "UTC", "USDT")
    np.testing.assert_array_equal(first.times, alone.times)
    for symbol in alone.closes:
        np.testing.assert_array_equal(first.closes[symbol], alone.closes[symbol])


def test_identity_key_keys_arrays_and_frames_by_identity_and_scalars_by_type_and_value() -> None:
    class Sub(np.ndarray):
        pass

    @dataclasses.dataclass(frozen=True)
    class Frame:
        close: np.ndarray

    plain, sub = np.arange(3.0), np.arange(3.0).view(Sub)
    frame = Frame(plain)
    values: tuple[object, ...] = (plain, sub, 3, 3.0, True, "x", None, np.int64(3))
    keyed = memo.identity_key(values)
    assert keyed is not None
    key, keep = keyed
    assert key == (("id", id(plain)), ("id", id(sub)), ("int", 3), ("float", 3.0), ("bool", True),
                   ("str", "x"), ("NoneType", None), ("int64", 3))
    assert keep[0] is plain and keep[1] is sub and len(keep) == 2
    assert memo.identity_key(([1.0],)) is None
    assert memo.identity_key((frame,)) == ((("id", id(frame)),), (frame,))
    assert memo.identity_key((Frame,)) is None  # a dataclass type is not a frame
