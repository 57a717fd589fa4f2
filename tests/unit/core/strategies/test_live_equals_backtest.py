"""Candle-by-candle evaluation (``latest`` on growing prefixes) equals the vectorised signals.

This is the proof that the live path (last ``required_history`` candles, last row) and the backtest
(whole history at once) make the same decisions, for every registered strategy.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.core.strategies.compare import signal_differences
from trader.core.domain.candles import CandleFrame
from trader.core.strategies import registry
from trader.core.strategies.breakout import BreakoutStrategy
from trader.core.strategies.guard import GuardedStrategy

# Parameter sets that fire often on the sample data, so that the comparison covers real entries.
CASES = {
    "breakout": [{}, {"regime_filter": False, "require_volume": False, "stop_mode": "atr"}],
    "bollinger_reversion": [{}, {"regime_filter": False, "confirm": "either", "exit_at": "far"}],
    "mtf_momentum": [{}, {"trend_factor": 4, "rsi_entry": 55.0, "rsi_exit": 40.0}],
}
STEPS = 2500


def _cases() -> list[tuple[str, dict[str, object]]]:
    return [
        (name, params) for name in registry.default_registry().names() for params in CASES.get(name, [{}])
    ]


@pytest.mark.parametrize(("name", "params"), _cases(), ids=lambda v: v if isinstance(v, str) else repr(v))
def test_latest_on_every_prefix_equals_vectorised_row(
    name: str, params: dict[str, object], btc_1h: CandleFrame
) -> None:
    strategy = GuardedStrategy(registry.create(name, params))
    history = strategy.required_history
    candles = btc_1h.slice(0, history + STEPS)
    vectorised = strategy.compute(candles)
    # Start before the warm-up ends (latest sees the whole short prefix) and run well past it
    # (latest sees only the last required_history candles).
    start = max(1, history - 300)
    mismatches = []
    for end in range(start, len(candles) + 1):
        live = strategy.latest(candles.slice(0, end))
        diffs = signal_differences(vectorised.row(end - 1), live)
        if diffs:
            mismatches.append((end - 1, diffs))
    assert mismatches == []
    entries = vectorised.enter_long[start:] | vectorised.enter_short[start:]
    assert entries.sum() >= 3, "the compared range must contain entries, or the test proves little"


@pytest.mark.parametrize("name", ["breakout", "bollinger_reversion"])
def test_latest_on_one_minute_candles_equals_vectorised_row(name: str, btc_1m: CandleFrame) -> None:
    strategy = registry.create(name, CASES[name][1])
    history = strategy.required_history
    candles = btc_1m.slice(0, history + 1500)
    vectorised = strategy.compute(candles)
    for end in range(history, len(candles) + 1):
        assert signal_differences(vectorised.row(end - 1), strategy.latest(candles.slice(0, end))) == []
    assert (vectorised.enter_long[history:] | vectorised.enter_short[history:]).sum() >= 3


def test_required_history_covers_indicator_convergence() -> None:
    breakout = registry.create("breakout", {})
    # Slow EMA 50 needs ~1,087 candles to forget its SMA seed below 1e-18.
    assert breakout.required_history >= 1087
    longer = registry.create("breakout", {"ema_slow": 200, "ema_fast": 50})
    assert longer.required_history > breakout.required_history
    no_regime = registry.create("bollinger_reversion", {"regime_filter": False})
    assert no_regime.required_history < registry.create("bollinger_reversion", {}).required_history


def test_signals_have_one_row_per_candle_with_aligned_timestamps(btc_1h: CandleFrame) -> None:
    for name in registry.default_registry().names():
        frame = registry.create(name, {}).compute(btc_1h)
        assert len(frame) == len(btc_1h)
        np.testing.assert_array_equal(frame.timestamp, btc_1h.timestamp)


def test_a_too_short_history_is_caught_by_this_comparison(btc_1h: CandleFrame) -> None:
    # Guards the guard: with only 3x the slow EMA period the seed is not forgotten and rows differ.
    class ShortMemoryBreakout(BreakoutStrategy):
        @property
        def required_history(self) -> int:
            return 150

    strategy = ShortMemoryBreakout(regime_filter=False, require_volume=False)
    candles = btc_1h.slice(0, 1500)
    vectorised = strategy.compute(candles)
    differing = [
        end for end in range(200, 1500, 7)
        if signal_differences(vectorised.row(end - 1), strategy.latest(candles.slice(0, end)))
    ]  # fmt: skip
    assert differing
