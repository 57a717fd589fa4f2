"""Search spaces from a strategy's declared ``params_spec``: each Param becomes one dimension.

An int Param with bounds becomes an integer range (its ``step``, else 1), a float Param a float
range (stepped when it declares a step), a bool Param the choice {True, False}, and a Param with
``choices`` a categorical choice. A Param without bounds or choices cannot be searched. Ranges may
be narrowed on the command line (``lookback=10:60:2``) but never widened past the declared bounds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from trader.core.errors import InputError
from trader.core.strategies.base import Param, ParamValue


@dataclass(frozen=True, slots=True)
class IntRange:
    """Integers low..high (inclusive) in steps of ``step``."""

    name: str
    low: int
    high: int
    step: int = 1


@dataclass(frozen=True, slots=True)
class FloatRange:
    """Floats in [low, high]; on a grid of ``step`` when set."""

    name: str
    low: float
    high: float
    step: float | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One of ``choices``."""

    name: str
    choices: tuple[ParamValue, ...]


Dimension = IntRange | FloatRange | Choice


def dimension(name: str, spec: Param) -> Dimension:
    """Return the declared search dimension of one parameter; InputError if it is not searchable."""
    if spec.choices is not None:
        return Choice(name, tuple(spec.choices))
    if isinstance(spec.default, bool):
        return Choice(name, (True, False))
    if spec.low is None or spec.high is None or isinstance(spec.default, str):
        raise InputError(f"parameter {name} declares no range or choices, so it cannot be searched")
    if isinstance(spec.default, int):
        step = max(1, int(spec.step or 1))
        low, high = int(spec.low), int(spec.high)
        return IntRange(name, low, low + (high - low) // step * step, step)
    grid = None if spec.step is None else float(spec.step)
    return _float_range(name, float(spec.low), float(spec.high), grid)


def search_space(spec: Mapping[str, Param], names: Sequence[str] = (),
                 overrides: Mapping[str, str] | None = None) -> tuple[Dimension, ...]:
    """Return the dimensions of ``names`` (every searchable parameter when empty), narrowed by
    ``overrides`` (name -> "low:high[:step]" or "a,b,c")."""
    overrides = dict(overrides or {})
    wanted = list(dict.fromkeys([*names, *overrides]))
    unknown = [n for n in wanted if n not in spec]
    if unknown:
        raise InputError(f"unknown parameter(s) {unknown}; known: {', '.join(sorted(spec))}")
    if not wanted:
        wanted = [n for n, p in spec.items() if _searchable(p)]
    dims = [dimension(n, spec[n]) for n in wanted]
    dims = [narrow(d, spec[d.name], overrides[d.name]) if d.name in overrides else d for d in dims]
    if not dims:
        raise InputError("the strategy declares no searchable parameters")
    return tuple(dims)


def narrow(dim: Dimension, spec: Param, text: str) -> Dimension:
    """Return ``dim`` restricted to ``text``; InputError if it leaves the declared range."""
    if isinstance(dim, Choice):
        picked = tuple(spec.validate(dim.name, raw.strip()) for raw in text.split(",") if raw.strip())
        outside = [v for v in picked if v not in dim.choices]
        if not picked or outside:
            raise InputError(f"{dim.name}: choose from {list(dim.choices)}")
        return Choice(dim.name, tuple(dict.fromkeys(picked)))
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise InputError(f"{dim.name}={text!r}: expected LOW:HIGH or LOW:HIGH:STEP")
    try:
        low, high = (float(p) for p in parts[:2])
        step = float(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise InputError(f"{dim.name}={text!r}: bounds must be numbers") from None
    if not (dim.low <= low < high <= dim.high) or (step is not None and step <= 0):
        raise InputError(f"{dim.name}: need {dim.low} <= low < high <= {dim.high} and a positive step")
    if isinstance(dim, IntRange):
        if not (low.is_integer() and high.is_integer() and (step is None or step.is_integer())):
            raise InputError(f"{dim.name} is an integer parameter: bounds and step must be integers")
        first, last, int_step = int(low), int(high), int(step or dim.step)
        return IntRange(dim.name, first, first + (last - first) // int_step * int_step, int_step)
    return _float_range(dim.name, low, high, step if step is not None else dim.step)


def size(dims: Sequence[Dimension]) -> float:
    """Return how many distinct points the space has (inf with a continuous float range)."""
    total = 1.0
    for d in dims:
        if isinstance(d, Choice):
            total *= len(d.choices)
        elif isinstance(d, IntRange):
            total *= (d.high - d.low) // d.step + 1
        elif d.step is None:
            return float("inf")
        else:
            total *= round((d.high - d.low) / d.step) + 1
    return total


def _float_range(name: str, low: float, high: float, step: float | None) -> FloatRange:
    # A stepped range ends on the grid, as the sampler requires (high - low a multiple of step). The
    # end is computed in decimal: 0.1 + 199 * 0.1 in floats is 20.000000000000004, which Optuna
    # rejects with a warning on every trial.
    if step is not None:
        count = math.floor((high - low) / step + 1e-9)
        high = float(Decimal(repr(low)) + count * Decimal(repr(step)))
    return FloatRange(name, low, high, step)


def _searchable(spec: Param) -> bool:
    return spec.choices is not None or isinstance(spec.default, bool) or (
        spec.low is not None and spec.high is not None and not isinstance(spec.default, str))
