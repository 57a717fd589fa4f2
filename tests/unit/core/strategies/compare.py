"""Row-by-row comparison of signals: booleans and reasons exact, prices and confidence to 1e-9."""

from __future__ import annotations

import math

from trader.core.strategies.base import Signal, SignalFrame

RTOL = 1e-9


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=0.0) or (a == b)


def signal_differences(expected: Signal, actual: Signal) -> list[str]:
    """Return the fields where ``actual`` differs from ``expected`` (empty when they agree)."""
    exact = ("timestamp", "enter_long", "exit_long", "enter_short", "exit_short", "reason")
    diffs = [f for f in exact if getattr(expected, f) != getattr(actual, f)]
    diffs += [
        f
        for f in ("confidence", "stop_loss", "take_profit")
        if not _close(getattr(expected, f), getattr(actual, f))
    ]
    return diffs


def frame_row_differences(frame: SignalFrame, other: SignalFrame, rows: range) -> list[tuple[int, list[str]]]:
    """Return (row, differing fields) for every row in ``rows`` where the two frames disagree."""
    out = []
    for i in rows:
        diffs = signal_differences(frame.row(i), other.row(i))
        if diffs:
            out.append((i, diffs))
    return out
