"""Strategy plugin API: declared parameters, warm-up length, and one vectorised ``compute``.

``compute`` maps a CandleFrame to a SignalFrame with one row per candle, using only data up to and
including that candle (no look-ahead). The backtest calls it once on the whole history; live calls
``latest`` on the last ``required_history`` candles. Both are the same function.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from trader.core.domain.candles import CandleFrame, FloatArray
from trader.core.errors import StrategyError

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
ParamValue = int | float | bool | str


# How an error names the type a parameter needs ("is not an integer", not "is not a int").
_KIND_WORDS: dict[type, str] = {int: "an integer", float: "a number", bool: "true or false", str: "text"}


@dataclass(frozen=True, slots=True)
class Param:
    """A declared strategy parameter: default, bounds for validation and optimisation, doc line."""

    default: ParamValue
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[ParamValue, ...] | None = None
    doc: str = ""

    def validate(self, name: str, value: Any) -> ParamValue:
        """Return ``value`` coerced to the default's type, or raise StrategyError naming the problem."""
        kind = type(self.default)
        try:
            coerced = _coerce(kind, value)
        except (TypeError, ValueError):
            what = _KIND_WORDS.get(kind, f"a {kind.__name__}")
            raise StrategyError(f"parameter {name}: {value!r} is not {what}") from None
        if self.choices is not None and coerced not in self.choices:
            raise StrategyError(f"parameter {name}: {coerced!r} not one of {list(self.choices)}")
        if isinstance(coerced, int | float) and not isinstance(coerced, bool):
            if self.low is not None and coerced < self.low:
                raise StrategyError(f"parameter {name}: {coerced} is below the minimum {self.low}")
            if self.high is not None and coerced > self.high:
                raise StrategyError(f"parameter {name}: {coerced} is above the maximum {self.high}")
        return coerced


def _coerce(kind: type, value: Any) -> ParamValue:
    if kind is bool:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in {"true", "1", "yes", "on"}:
                return True
            if lowered in {"false", "0", "no", "off"}:
                return False
            raise ValueError(value)
        return bool(value)
    if kind is int:
        as_float = float(value)
        if not as_float.is_integer():
            raise ValueError(value)
        return int(as_float)
    if kind is float:
        result = float(value)
        if not np.isfinite(result):
            raise ValueError(value)
        return result
    return str(value)


@dataclass(frozen=True, slots=True)
class Signal:
    """One candle's decision: entries/exits, confidence in [0, 1], suggested stop/take-profit prices."""

    timestamp: int
    enter_long: bool
    exit_long: bool
    enter_short: bool
    exit_short: bool
    confidence: float
    stop_loss: float | None
    take_profit: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class SignalFrame:
    """Per-candle signal columns aligned with the input candles.

    ``stop_loss``/``take_profit`` are absolute prices (NaN when the strategy suggests none);
    ``reasons`` is a bitmask over ``reason_names`` (bit i set = confirmation i fired).
    """

    timestamp: IntArray
    enter_long: BoolArray
    exit_long: BoolArray
    enter_short: BoolArray
    exit_short: BoolArray
    confidence: FloatArray
    stop_loss: FloatArray
    take_profit: FloatArray
    reasons: IntArray
    reason_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.timestamp)

    def reason(self, i: int) -> str:
        """Return the confirmations that fired on row ``i`` as a readable string."""
        return _reason_text(int(self.reasons.item(i)), self.reason_names)

    def row(self, i: int) -> Signal:
        """Return row ``i`` (negative indexes allowed) as a Signal."""
        # ndarray.item returns Python scalars directly: the backtest asks for a row at every event
        stop, take = self.stop_loss.item(i), self.take_profit.item(i)
        return Signal(
            timestamp=int(self.timestamp.item(i)),
            enter_long=bool(self.enter_long.item(i)),
            exit_long=bool(self.exit_long.item(i)),
            enter_short=bool(self.enter_short.item(i)),
            exit_short=bool(self.exit_short.item(i)),
            confidence=float(self.confidence.item(i)),
            stop_loss=None if math.isnan(stop) else float(stop),
            take_profit=None if math.isnan(take) else float(take),
            reason=self.reason(i),
        )


@lru_cache(maxsize=1024)
def _reason_text(mask: int, names: tuple[str, ...]) -> str:
    return ", ".join(n for bit, n in enumerate(names) if mask >> bit & 1)


class Strategy(ABC):
    """Base class of every strategy plugin; parameters are validated at construction."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    params_spec: ClassVar[Mapping[str, Param]] = MappingProxyType({})

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.params_spec)
        if unknown:
            known = ", ".join(sorted(self.params_spec)) or "none"
            raise StrategyError(f"{self.name}: unknown parameter(s) {sorted(unknown)}; known: {known}")
        values = {k: spec.default for k, spec in self.params_spec.items()}
        values.update({k: self.params_spec[k].validate(k, v) for k, v in params.items()})
        self.params: Mapping[str, ParamValue] = MappingProxyType(values)

    @property
    @abstractmethod
    def required_history(self) -> int:
        """Return how many candles ``compute`` needs before its last row is fully warmed up."""

    @abstractmethod
    def compute(self, candles: CandleFrame) -> SignalFrame:
        """Return one signal row per candle, using no data after each row's candle."""

    def latest(self, candles: CandleFrame) -> Signal:
        """Return the signal of the last candle, computed exactly as the vectorised pass would."""
        return self.compute(candles.tail(self.required_history)).row(-1)

    def int_param(self, name: str) -> int:
        """Return parameter ``name`` as an int (validated at construction)."""
        return int(self.params[name])

    def float_param(self, name: str) -> float:
        """Return parameter ``name`` as a float (validated at construction)."""
        return float(self.params[name])

    def bool_param(self, name: str) -> bool:
        """Return parameter ``name`` as a bool (validated at construction)."""
        return bool(self.params[name])

    def str_param(self, name: str) -> str:
        """Return parameter ``name`` as a str (validated at construction)."""
        return str(self.params[name])


@runtime_checkable
class SignalSource(Protocol):
    """What the engine needs from a strategy: a Strategy or a GuardedStrategy wrapping one."""

    @property
    def name(self) -> str:
        """Return the registered strategy name."""
        ...

    @property
    def params(self) -> Mapping[str, ParamValue]:
        """Return the validated parameter values."""
        ...

    @property
    def required_history(self) -> int:
        """Return how many candles ``latest`` needs."""
        ...

    def compute(self, candles: CandleFrame) -> SignalFrame:
        """Return one signal row per candle."""
        ...

    def latest(self, candles: CandleFrame) -> Signal:
        """Return the signal of the last candle."""
        ...
