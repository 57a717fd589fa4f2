"""Breakout scenarios: entry on a confirmed break, levels, required vs scored confirmations, exits,
and the short side mirrored."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.core.strategies.reference_signals import (
    breakout_signals,
    random_candles,
    same_bits,
    signal_columns,
)
from tests.unit.core.strategies.synthetic import frame, mirrored, zigzag_uptrend
from trader.core import indicators as ind
from trader.core import memo
from trader.core.domain.candles import CandleFrame
from trader.core.strategies import registry

N = 300
NO_REGIME = {"regime_filter": False}


def _breakout_candles(spike: float = 300.0) -> CandleFrame:
    """A steady zigzag uptrend whose last candle closes 3 above the previous 20-candle high."""
    close = zigzag_uptrend(N)
    candles = frame(close)
    level = candles.high[-21:-1].max()
    close = np.r_[close[:-1], level + 3.0]
    volume = np.r_[np.full(N - 1, 100.0), spike]
    return frame(close, volume)


def test_confirmed_break_above_the_previous_high_enters_long_with_level_stop() -> None:
    candles = _breakout_candles()
    signals = registry.create("breakout", NO_REGIME).compute(candles)
    assert signals.enter_long[-1]
    assert not signals.enter_long[:-1].any()
    assert not signals.enter_short.any()
    level = candles.high[-21:-1].max()
    atr = ind.atr(candles.high, candles.low, candles.close, 14)[-1]
    close = candles.close[-1]
    stop = level - 0.5 * atr
    assert signals.stop_loss[-1] == pytest.approx(stop, rel=1e-12)
    assert signals.take_profit[-1] == pytest.approx(close + 2.0 * (close - stop), rel=1e-12)
    assert signals.row(-1).reason == "breakout, trend, rsi, volume"
    assert 0.5 < signals.confidence[-1] <= 1.0
    assert (signals.confidence[:-1] == 0).all()
    assert np.isnan(signals.stop_loss[:-1]).all()


def test_atr_stop_mode_places_the_stop_k_atr_below_the_close() -> None:
    candles = _breakout_candles()
    signals = registry.create("breakout", {**NO_REGIME, "stop_mode": "atr", "stop_atr_mult": 3.0}).compute(
        candles
    )
    atr = ind.atr(candles.high, candles.low, candles.close, 14)[-1]
    assert signals.stop_loss[-1] == pytest.approx(candles.close[-1] - 3.0 * atr, rel=1e-12)


def test_fixed_percentages_replace_the_own_levels() -> None:
    params = {**NO_REGIME, "stop_pct": 0.02, "take_profit_pct": 0.03}
    signals = registry.create("breakout", params).compute(_breakout_candles())
    close = _breakout_candles().close[-1]
    assert signals.stop_loss[-1] == pytest.approx(close * 0.98, rel=1e-12)
    assert signals.take_profit[-1] == pytest.approx(close * 1.03, rel=1e-12)


def test_missing_volume_spike_blocks_entry_when_required_and_only_lowers_confidence_when_scored() -> None:
    quiet = _breakout_candles(spike=100.0)
    assert not registry.create("breakout", NO_REGIME).compute(quiet).enter_long[-1]
    scored = registry.create("breakout", {**NO_REGIME, "require_volume": False}).compute(quiet)
    assert scored.enter_long[-1]
    assert "volume" not in scored.row(-1).reason
    loud = registry.create("breakout", NO_REGIME).compute(_breakout_candles())
    assert scored.confidence[-1] < loud.confidence[-1]


def test_overbought_rsi_blocks_the_entry() -> None:
    signals = registry.create("breakout", {**NO_REGIME, "rsi_high": 55.0, "rsi_low": 40.0}).compute(
        _breakout_candles()
    )
    assert not signals.enter_long[-1]


def test_a_bigger_volume_spike_raises_confidence() -> None:
    strategy = registry.create("breakout", NO_REGIME)
    assert (
        strategy.compute(_breakout_candles(400.0)).confidence[-1]
        > strategy.compute(_breakout_candles(200.0)).confidence[-1]
    )


def test_short_side_mirrors_the_long_side() -> None:
    candles = _breakout_candles()
    pivot = 1000.0
    long = registry.create("breakout", NO_REGIME).compute(candles)
    short = registry.create("breakout", NO_REGIME).compute(mirrored(candles, pivot))
    np.testing.assert_array_equal(short.enter_short, long.enter_long)
    np.testing.assert_array_equal(short.enter_long, long.enter_short)
    np.testing.assert_array_equal(short.exit_short, long.exit_long)
    assert short.confidence[-1] == pytest.approx(long.confidence[-1], rel=1e-9)
    assert short.stop_loss[-1] == pytest.approx(2 * pivot - long.stop_loss[-1], rel=1e-9)
    assert short.take_profit[-1] == pytest.approx(2 * pivot - long.take_profit[-1], rel=1e-9)


def test_exit_fires_when_close_drops_below_slow_ema_and_can_be_turned_off() -> None:
    close = np.r_[zigzag_uptrend(N), zigzag_uptrend(N)[-1] - np.arange(1, 31) * 2.0]
    candles = frame(close)
    slow = ind.ema(candles.close, 50)
    signals = registry.create("breakout", NO_REGIME).compute(candles)
    np.testing.assert_array_equal(
        signals.exit_long & ~signals.enter_long, (close < slow) & ~signals.enter_long
    )
    assert signals.exit_long[-1]
    assert "exit_slow_ema" in signals.row(-1).reason
    silent = registry.create("breakout", {**NO_REGIME, "exit_on_slow_ema": False}).compute(candles)
    assert not silent.exit_long.any() and not silent.exit_short.any()


def test_no_entry_before_every_indicator_is_warm() -> None:
    candles = _breakout_candles()
    short = candles.slice(N - 40)  # only 40 candles: the slow EMA (50) is not defined yet
    signals = registry.create("breakout", NO_REGIME).compute(short)
    assert not signals.enter_long.any()
    assert len(signals) == 40


def test_empty_candles_give_an_empty_signal_frame() -> None:
    empty = CandleFrame.from_arrays(np.empty((0, 6)))
    for name in ("breakout", "bollinger_reversion"):
        assert len(registry.create(name, {}).compute(empty)) == 0


def test_on_real_candles_a_mirrored_market_gives_mirrored_entries(btc_1h: CandleFrame) -> None:
    candles = btc_1h.slice(0, 8000)
    strategy = registry.create("breakout", NO_REGIME)
    long = strategy.compute(candles)
    short = strategy.compute(mirrored(candles, 100_000.0))
    # Reflection rounds prices, so a rare near-tie may flip; the decisions must agree almost everywhere.
    agree = (long.enter_long == short.enter_short).mean()
    assert agree > 0.999
    assert long.enter_long.sum() > 20


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 700),
    flat_head=st.integers(0, 40),
    jumpy=st.booleans(),
    lookback=st.integers(2, 30),
    requires=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    volume_mult=st.sampled_from([0.5, 1.0, 1.5, 3.0]),
    stop_mode=st.sampled_from(["level", "atr"]),
    regime_filter=st.booleans(),
    exit_on_slow_ema=st.booleans(),
    percents=st.sampled_from([(0.0, 0.0), (0.02, 0.0), (0.02, 5.0)]),
)
def test_signals_are_bit_identical_to_the_straightforward_reference(  # noqa: PLR0917
    seed: int, n: int, flat_head: int, jumpy: bool, lookback: int, requires: tuple[bool, bool, bool],
    volume_mult: float, stop_mode: str, regime_filter: bool, exit_on_slow_ema: bool,
    percents: tuple[float, float],
) -> None:
    candles = random_candles(seed, n, flat_head, jumpy)
    strategy = registry.create("breakout", {
        "lookback": lookback, "ema_fast": 5, "ema_slow": 12, "rsi_period": 7, "volume_period": 10,
        "atr_period": 7, "require_trend": requires[0], "require_rsi": requires[1],
        "require_volume": requires[2], "volume_mult": volume_mult, "stop_mode": stop_mode,
        "regime_filter": regime_filter, "adx_period": 5, "vol_window": 5, "vol_lookback": 40,
        "vol_stride": 4, "exit_on_slow_ema": exit_on_slow_ema, "stop_pct": percents[0],
        "take_profit_pct": percents[1],
    })
    expected = breakout_signals(strategy, candles)  # type: ignore[arg-type]
    assert same_bits(expected, signal_columns(strategy.compute(candles)))


def test_signals_in_an_optimiser_cache_equal_the_signals_alone() -> None:
    rng = np.random.default_rng(11)
    candles = frame(1000.0 + np.cumsum(rng.normal(0, 2, 2000)), rng.uniform(50, 300, 2000))
    params = [{"lookback": 20, "ema_fast": 10}, {"lookback": 20, "ema_fast": 12, "reward_risk": 3.0},
              {"lookback": 35, "ema_fast": 10, "stop_mode": "atr", "require_volume": False},
              {"lookback": 20, "ema_fast": 10, "regime_filter": False}]
    alone = [registry.create("breakout", p).compute(candles) for p in params]
    with memo.caching() as cache:
        shared = [registry.create("breakout", p).compute(candles) for p in params]
        assert cache.hits  # the breaks of lookback 20 and the slow-EMA crossings computed once
    assert any(s.enter_long.any() or s.enter_short.any() for s in alone)
    for got, expected in zip(shared, alone, strict=True):
        for name in ("enter_long", "exit_long", "enter_short", "exit_short", "confidence", "stop_loss",
                     "take_profit", "reasons"):
            assert getattr(got, name).tobytes() == getattr(expected, name).tobytes(), name


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    lookback=st.integers(2, 30),
    variants=st.lists(
        st.tuples(st.integers(2, 11), st.sampled_from([0.5, 1.0, 2.5]), st.sampled_from(["level", "atr"]),
                  st.booleans(), st.booleans()),
        min_size=2, max_size=5,
    ),
)
def test_trials_sharing_the_volume_rsi_and_regime_candidates_equal_the_reference(
    seed: int, lookback: int, variants: list[tuple[int, float, str, bool, bool]]
) -> None:
    # trials of one lookback differing in the fast EMA, the pricing and the trend requirement share
    # the candidates kept by volume, RSI and regime under a cache (regime_filter is part of their key)
    candles = random_candles(seed, 400, 0, False)
    strategies = [registry.create("breakout", {
        "lookback": lookback, "ema_fast": fast, "ema_slow": 12, "rsi_period": 7, "volume_period": 10,
        "atr_period": 7, "volume_mult": 1.0, "reward_risk": reward_risk, "stop_mode": stop_mode,
        "require_trend": require_trend, "regime_filter": regime_filter, "adx_period": 5, "vol_window": 5,
        "vol_lookback": 40, "vol_stride": 4,
    }) for fast, reward_risk, stop_mode, require_trend, regime_filter in variants]
    with memo.caching() as cache:
        computed = [signal_columns(s.compute(candles)) for s in strategies]
        calls = sum(1 for key in cache._entries if key[0] == "breakout._candidates")
    assert calls == 2 * len({v[4] for v in variants})  # once per side and regime_filter (a bit it sets)
    for s, got in zip(strategies, computed, strict=True):
        assert same_bits(breakout_signals(s, candles), got)  # type: ignore[arg-type]
        assert same_bits(signal_columns(s.compute(candles)), got)  # uncached
