"""Call strategy code safely: inputs are copied, exceptions become StrategyError, and the output is
checked (length, timestamps, dtypes, confidence in [0, 1], positive levels) before the engine sees it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from trader.core.domain.candles import CandleFrame
from trader.core.errors import StrategyError
from trader.core.strategies.base import ParamValue, Signal, SignalFrame, Strategy

_FLAGS = ("enter_long", "exit_long", "enter_short", "exit_short")
_FLOATS = ("confidence", "stop_loss", "take_profit")
_MAX_HISTORY = 1_000_000


class GuardedStrategy:
    """A Strategy wrapped so that plugin code cannot crash or corrupt the engine."""

    def __init__(self, strategy: Strategy) -> None:
        self.inner = strategy
        self.name: str = strategy.name
        self.params: Mapping[str, ParamValue] = strategy.params

    @property
    def required_history(self) -> int:
        """Return the plugin's warm-up length after checking it is a sane positive int."""
        try:
            history = self.inner.required_history
        except Exception as exc:
            raise _failure(self.name, "required_history", exc) from exc
        if isinstance(history, bool) or not isinstance(history, int) or not 1 <= history <= _MAX_HISTORY:
            raise StrategyError(f"strategy {self.name}: required_history must be an int in 1..{_MAX_HISTORY}")
        return history

    def compute(self, candles: CandleFrame) -> SignalFrame:
        """Return the plugin's signals for a private copy of ``candles``, validated."""
        private = CandleFrame(*(np.array(getattr(candles, f), copy=True) for f in _COLUMNS))
        try:
            frame = self.inner.compute(private)
        except Exception as exc:
            raise _failure(self.name, "compute", exc) from exc
        check_frame(self.name, frame, candles)
        return frame

    def latest(self, candles: CandleFrame) -> Signal:
        """Return the validated signal of the last candle (computed on the last required_history)."""
        if len(candles) == 0:
            raise StrategyError(f"strategy {self.name}: no candles to evaluate")
        return self.compute(candles.tail(self.required_history)).row(-1)


_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


def _failure(name: str, where: str, exc: Exception) -> StrategyError:
    return StrategyError(
        f"strategy {name}: {where} raised {type(exc).__name__}: {exc}",
        user_message=f"Strategy {name} failed ({type(exc).__name__}); it is skipped for this candle.",
    )


def check_frame(name: str, frame: object, candles: CandleFrame) -> None:
    """Raise StrategyError unless ``frame`` is a well-formed SignalFrame for ``candles``."""
    if not isinstance(frame, SignalFrame):
        raise StrategyError(f"strategy {name}: compute returned {type(frame).__name__}, not a SignalFrame")
    expected = {**dict.fromkeys(_FLAGS, np.dtype(np.bool_)), **dict.fromkeys(_FLOATS, np.dtype(np.float64))}
    expected.update(timestamp=np.dtype(np.int64), reasons=np.dtype(np.int64))
    problems = []
    for column, dtype in expected.items():
        values = getattr(frame, column)
        if not isinstance(values, np.ndarray) or values.shape != (len(candles),):
            problems.append(f"{column} is not a 1-D array of {len(candles)} rows")
        elif values.dtype != dtype:
            problems.append(f"{column} has dtype {values.dtype}, expected {dtype}")
    if not all(isinstance(n, str) for n in frame.reason_names):
        problems.append("reason_names must be strings")
    if problems:
        raise StrategyError(f"strategy {name}: malformed SignalFrame: " + "; ".join(problems))
    _check_values(name, frame, candles)


def _check_values(name: str, frame: SignalFrame, candles: CandleFrame) -> None:
    problems = []
    if not np.array_equal(frame.timestamp, candles.timestamp):
        problems.append("timestamps do not match the candles")
    bad = ~((frame.confidence >= 0.0) & (frame.confidence <= 1.0))  # also catches NaN
    if bad.any():
        problems.append(f"confidence outside [0, 1] at row {int(np.flatnonzero(bad)[0])}")
    for col in ("stop_loss", "take_profit"):
        values = getattr(frame, col)
        wrong = ~np.isnan(values) & ~(np.isfinite(values) & (values > 0))
        if wrong.any():
            problems.append(f"{col} must be NaN or a positive price (row {int(np.flatnonzero(wrong)[0])})")
    both = frame.enter_long & frame.enter_short
    if both.any():
        problems.append(f"enter_long and enter_short both set at row {int(np.flatnonzero(both)[0])}")
    limit = 1 << len(frame.reason_names)
    if ((frame.reasons < 0) | (frame.reasons >= limit)).any():
        problems.append(f"reasons must be bitmasks over the {len(frame.reason_names)} reason_names")
    if problems:
        raise StrategyError(f"strategy {name}: invalid signals: " + "; ".join(problems))
