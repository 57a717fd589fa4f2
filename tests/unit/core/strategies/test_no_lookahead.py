"""Appending future candles never changes past signals, for every registered strategy."""

from __future__ import annotations

import numpy as np
import pytest

from trader.core.domain.candles import CandleFrame
from trader.core.strategies import registry
from trader.core.strategies.base import SignalFrame

COLUMNS = ("enter_long", "exit_long", "enter_short", "exit_short", "confidence", "stop_loss", "take_profit",
           "reasons", "timestamp")  # fmt: skip


def _assert_prefix_equal(prefix: SignalFrame, full: SignalFrame) -> None:
    n = len(prefix)
    for column in COLUMNS:
        np.testing.assert_array_equal(getattr(prefix, column), getattr(full, column)[:n], err_msg=column)


@pytest.mark.parametrize("name", registry.default_registry().names())
def test_appending_future_candles_never_changes_past_signals(name: str, btc_1h: CandleFrame) -> None:
    strategy = registry.create(name, {})
    full = strategy.compute(btc_1h)
    for cut in (0, 1, 37, strategy.required_history - 1, strategy.required_history + 1, 5_000, 12_345):
        _assert_prefix_equal(strategy.compute(btc_1h.slice(0, cut)), full)


@pytest.mark.parametrize("name", registry.default_registry().names())
def test_changing_a_future_candle_never_changes_past_signals(name: str, btc_1h: CandleFrame) -> None:
    strategy = registry.create(name, {})
    candles = btc_1h.slice(0, 6_000)
    full = strategy.compute(candles)
    cut = 4_000
    spiked = candles.to_dataframe()
    spiked.loc[cut:, ["high", "close"]] *= 1.5  # a huge future move
    spiked.loc[cut:, "volume"] *= 10
    altered = strategy.compute(CandleFrame.from_dataframe(spiked))
    _assert_prefix_equal(strategy.compute(candles.slice(0, cut)), altered)
    assert not np.array_equal(altered.confidence[cut:], full.confidence[cut:]) or name == "sma_cross"
