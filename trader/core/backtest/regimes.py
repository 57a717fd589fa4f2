"""Strategy parameters that changed over a run: each candle's signal row from the parameters then in force.

A live engine rebuilds its strategy when a parameter changes and uses it from the next candle close
on; the strategy sees only the closed candles, so its row for a candle is the row the vectorised
``Strategy.compute`` gives over the whole history. Stitching the rows of one compute per parameter
set by close time therefore gives exactly the signals the live engine saw (used by the drift report).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.strategies.base import IntArray, SignalFrame, Strategy

Regime = tuple[int, Strategy]  # (in force from this time, epoch ms; the strategy built with its parameters)


def _names(frames: Sequence[SignalFrame]) -> tuple[str, ...]:
    names: list[str] = []
    for frame in frames:
        names += [n for n in frame.reason_names if n not in names]
    return tuple(names)


def _remap(frame: SignalFrame, names: tuple[str, ...]) -> IntArray:
    """Return ``frame.reasons`` as a bitmask over ``names`` (a superset of the frame's own names)."""
    if frame.reason_names == names[:len(frame.reason_names)]:
        return frame.reasons
    out: IntArray = np.zeros_like(frame.reasons)
    for bit, name in enumerate(frame.reason_names):
        out |= ((frame.reasons >> bit) & 1) << names.index(name)
    return out


def stitch(frames: Sequence[SignalFrame], owners: IntArray) -> SignalFrame:
    """Return one frame whose row i is row i of ``frames[owners[i]]`` (all frames over the same candles)."""
    first = frames[0]
    names = _names(frames)
    reasons = [_remap(f, names) for f in frames]

    rows = np.arange(len(owners))

    def pick(column: str) -> Any:  # one column of every frame, row by row from its owner
        return np.stack([getattr(f, column) for f in frames])[owners, rows]

    return SignalFrame(first.timestamp, pick("enter_long"), pick("exit_long"), pick("enter_short"),
                       pick("exit_short"), pick("confidence"), pick("stop_loss"), pick("take_profit"),
                       np.stack(reasons)[owners, rows], names)


def regime_signals(regimes: Sequence[Regime], candles: Mapping[Symbol, CandleFrame],
                   timeframe_ms: int) -> dict[Symbol, SignalFrame]:
    """Return each pair's signals, row i from the regime in force at candle i's close.

    ``regimes`` are in time order; the first applies from the start of the data whatever its time.
    """
    if not regimes:
        raise ValueError("at least one regime is needed")
    starts = np.array([at for at, _ in regimes[1:]], dtype=np.int64)
    out: dict[Symbol, SignalFrame] = {}
    for symbol, frame in candles.items():
        computed = [strategy.compute(frame) for _, strategy in regimes]
        if len(computed) == 1:
            out[symbol] = computed[0]
            continue
        closes = frame.timestamp + timeframe_ms
        owners = np.searchsorted(starts, closes, side="right")  # regimes started at or before the close
        out[symbol] = stitch(computed, owners)
    return out
