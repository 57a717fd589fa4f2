"""Row-by-row comparison of two signal frames over the same candles (flags exactly, prices and
confidence to a relative 1e-9, NaN equal to NaN), used by the bias checks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trader.core.strategies.base import BoolArray, Signal, SignalFrame

EXACT = ("enter_long", "exit_long", "enter_short", "exit_short", "reasons")
CLOSE = ("confidence", "stop_loss", "take_profit")
RTOL = 1e-9
ATOL = 1e-12


@dataclass(frozen=True, slots=True)
class Difference:
    """The first column in which a row differs, with both values."""

    timestamp: int
    column: str
    reference: object
    other: object


def differing_rows(reference: SignalFrame, other: SignalFrame) -> BoolArray:
    """Return a mask of rows where two equal-length frames disagree in any signal column."""
    if not np.array_equal(reference.timestamp, other.timestamp):
        raise ValueError("frames cover different candles")
    mask = np.zeros(len(reference), dtype=np.bool_)
    for column in EXACT:
        mask |= getattr(reference, column) != getattr(other, column)
    for column in CLOSE:
        mask |= ~np.isclose(getattr(reference, column), getattr(other, column), rtol=RTOL, atol=ATOL,
                            equal_nan=True)
    return mask


def first_difference(reference: SignalFrame, other: SignalFrame, row: int) -> Difference:
    """Return the first differing column of ``row`` (call only on a row the mask flagged)."""
    ts = int(reference.timestamp[row])
    for column in (*EXACT, *CLOSE):
        a, b = getattr(reference, column)[row], getattr(other, column)[row]
        if column in EXACT and a != b:
            return Difference(ts, column, a.item(), b.item())
        if column in CLOSE and not np.isclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True):
            return Difference(ts, column, float(a), float(b))
    raise ValueError(f"row {row} does not differ")


def signal_difference(reference: Signal, other: Signal) -> Difference | None:
    """Return how two single-candle signals differ (None when they agree)."""
    for column in ("enter_long", "exit_long", "enter_short", "exit_short", "reason"):
        if getattr(reference, column) != getattr(other, column):
            return Difference(reference.timestamp, column, getattr(reference, column), getattr(other, column))
    for column in CLOSE:
        a, b = getattr(reference, column), getattr(other, column)
        a, b = np.nan if a is None else a, np.nan if b is None else b
        if not np.isclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True):
            return Difference(reference.timestamp, column, a, b)
    return None
