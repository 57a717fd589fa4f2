"""The guard copies inputs, turns plugin exceptions into StrategyError, and rejects bad output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from trader.core.domain.candles import CandleFrame
from trader.core.errors import StrategyError
from trader.core.strategies import registry
from trader.core.strategies.base import SignalFrame, SignalSource, Strategy
from trader.core.strategies.guard import GuardedStrategy

Mutation = Callable[[SignalFrame], SignalFrame]


class Scripted(Strategy):
    """A plugin whose output is a valid SignalFrame passed through ``mutate`` (to break it)."""

    name = "scripted"

    def __init__(self, mutate: Mutation = lambda f: f, history: object = 10) -> None:
        super().__init__()
        self.mutate = mutate
        self.history = history

    @property
    def required_history(self) -> int:
        return self.history  # type: ignore[return-value]

    def compute(self, candles: CandleFrame) -> SignalFrame:
        candles.close[:] = -1.0  # a careless plugin writes into its input
        n = len(candles)
        frame = SignalFrame(
            timestamp=candles.timestamp.copy(),
            enter_long=np.zeros(n, np.bool_),
            exit_long=np.zeros(n, np.bool_),
            enter_short=np.zeros(n, np.bool_),
            exit_short=np.zeros(n, np.bool_),
            confidence=np.zeros(n),
            stop_loss=np.full(n, np.nan),
            take_profit=np.full(n, np.nan),
            reasons=np.zeros(n, np.int64),
            reason_names=("a",),
        )
        return self.mutate(frame)


def test_valid_output_passes_and_the_callers_candles_are_untouched(btc_1h: CandleFrame) -> None:
    candles = btc_1h.slice(0, 50)
    before = candles.close.copy()
    frame = GuardedStrategy(Scripted()).compute(candles)
    assert len(frame) == 50
    np.testing.assert_array_equal(candles.close, before)


def test_plugin_exception_becomes_strategy_error_with_the_cause(btc_1h: CandleFrame) -> None:
    def explode(_: SignalFrame) -> SignalFrame:
        raise KeyError("missing column")

    with pytest.raises(StrategyError, match="compute raised KeyError") as info:
        GuardedStrategy(Scripted(explode)).compute(btc_1h.slice(0, 20))
    assert isinstance(info.value.__cause__, KeyError)
    assert "skipped" in info.value.user_message


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: replace(f, confidence=np.full(len(f), 1.5)), r"confidence outside \[0, 1\]"),
        (lambda f: replace(f, confidence=np.full(len(f), np.nan)), "confidence outside"),
        (lambda f: replace(f, enter_long=np.zeros(len(f), np.int64)), "enter_long has dtype int64"),
        (lambda f: replace(f, confidence=np.zeros(len(f), np.float32)), "confidence has dtype float32"),
        (lambda f: replace(f, exit_short=np.zeros(len(f) - 1, np.bool_)), "exit_short is not a 1-D array"),
        (lambda f: replace(f, stop_loss=np.full(len(f), -5.0)), "stop_loss must be NaN or a positive"),
        (lambda f: replace(f, take_profit=np.full(len(f), np.inf)), "take_profit must be NaN or a positive"),
        (lambda f: replace(f, timestamp=f.timestamp + 1), "timestamps do not match"),
        (lambda f: replace(f, reasons=np.full(len(f), 2, np.int64)), "bitmasks over the 1 reason_names"),
        (
            lambda f: replace(f, enter_long=np.ones(len(f), np.bool_), enter_short=np.ones(len(f), np.bool_)),
            "both set",
        ),
        (lambda f: "not a frame", "returned str, not a SignalFrame"),
    ],
)
def test_malformed_output_is_rejected(mutate: Mutation, message: str, btc_1h: CandleFrame) -> None:
    with pytest.raises(StrategyError, match=message):
        GuardedStrategy(Scripted(mutate)).compute(btc_1h.slice(0, 20))


@pytest.mark.parametrize("history", [0, -5, 2.5, True, "10"])
def test_nonsense_required_history_is_rejected(history: object, btc_1h: CandleFrame) -> None:
    with pytest.raises(StrategyError, match="required_history"):
        GuardedStrategy(Scripted(history=history)).latest(btc_1h.slice(0, 20))


def test_latest_without_candles_is_a_clear_error() -> None:
    empty = CandleFrame.from_arrays(np.empty((0, 6)))
    with pytest.raises(StrategyError, match="no candles"):
        GuardedStrategy(Scripted()).latest(empty)


def test_nan_candle_from_the_feed_surfaces_as_strategy_error(btc_1h: CandleFrame) -> None:
    frame = btc_1h.slice(0, 200).to_dataframe()
    frame.loc[150, "close"] = np.nan
    with pytest.raises(StrategyError, match="NaN at index 150"):
        GuardedStrategy(registry.create("breakout", {})).compute(CandleFrame.from_dataframe(frame))


def test_guarded_and_plain_strategies_both_satisfy_the_signal_source_protocol() -> None:
    plain = registry.create("breakout", {})
    assert isinstance(plain, SignalSource)
    assert isinstance(GuardedStrategy(plain), SignalSource)
    assert GuardedStrategy(plain).required_history == plain.required_history
