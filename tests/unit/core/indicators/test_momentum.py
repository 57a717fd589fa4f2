"""RSI's flat start: rows before the first price change read neutral, found without a full pass."""

from __future__ import annotations

import numpy as np
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core.indicators import rsi
from trader.core.indicators.momentum import NEUTRAL_RSI


def _reference_rsi(close: np.ndarray, period: int) -> np.ndarray:
    """RSI with the flat start found by comparing every close with the one before (the first version)."""
    out = talib.RSI(close, timeperiod=period)
    if len(close) > 1:
        changed = close[1:] != close[:-1]
        first_move = int(np.argmax(changed)) + 1 if changed.any() else len(close)
        flat = out[:first_move]
        flat[~np.isnan(flat)] = NEUTRAL_RSI
    return out


@settings(max_examples=150, deadline=None)
@given(
    lead_nan=st.integers(0, 3),
    flat=st.integers(0, 1500),
    tail=st.integers(0, 60),
    period=st.integers(2, 20),
    seed=st.integers(0, 2**32 - 1),
)
def test_rsi_is_bit_identical_to_the_full_pass_reference(lead_nan: int, flat: int, tail: int, period: int,
                                                         seed: int) -> None:
    moves = np.random.default_rng(seed).normal(0.0, 1.0, tail)
    close = np.r_[np.full(lead_nan, np.nan), np.full(flat, 100.0), 100.0 + np.cumsum(moves)]
    assert rsi(close, period).tobytes() == _reference_rsi(close, period).tobytes()


def test_a_market_that_moves_only_after_a_long_flat_stretch_reads_neutral_until_then() -> None:
    close = np.r_[np.full(5000, 10.0), 11.0, 12.0]
    out = rsi(close, 14)
    assert (out[14:5000] == NEUTRAL_RSI).all()
    assert out[5001] == 100.0
