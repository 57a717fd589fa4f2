"""Vectorised building blocks the built-in strategies share: shifts, bounded ratios, readiness, and
a builder that scatters per-candidate results into full-length SignalFrame columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trader.core.domain.candles import FloatArray, IntArray
from trader.core.indicators import first_valid_index
from trader.core.strategies.base import BoolArray, SignalFrame
from trader.core.strategies.levels import final_levels


def previous(values: FloatArray) -> FloatArray:
    """Return values shifted one candle later (NaN first), so row i sees only row i-1."""
    out = np.empty_like(values)
    if len(values):
        out[0] = np.nan
        out[1:] = values[:-1]
    return out


def first_ready(*columns: FloatArray) -> int:
    """Return the first row where every column is defined (indicators are NaN only in warm-up)."""
    return max((first_valid_index(column) for column in columns), default=0)


def clipped_ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """Return numerator / denominator clipped to [0, 1]; a zero denominator gives 1 for a positive
    numerator and 0 otherwise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: FloatArray = np.true_divide(numerator, denominator)
    # NaN to 0 then clip in place: what nan_to_num and clip give (an infinity clips to 0 or 1 either
    # way) without their copies and wrappers, a share of every optimiser trial
    ratio[np.isnan(ratio)] = 0.0
    clipped: FloatArray = np.clip(ratio, 0.0, 1.0, out=ratio)
    return clipped


@dataclass(frozen=True, slots=True)
class EntryRows:
    """Entry candidates of one side: row indexes with their confidence, stop, target and reasons."""

    rows: IntArray
    close: FloatArray
    confidence: FloatArray
    stop: FloatArray
    take: FloatArray
    bits: IntArray

    def select(self, keep: BoolArray) -> EntryRows:
        """Return only the candidates where ``keep`` is true."""
        return EntryRows(
            self.rows[keep],
            self.close[keep],
            self.confidence[keep],
            self.stop[keep],
            self.take[keep],
            self.bits[keep],
        )


class SignalBuilder:
    """Collect entries (per side) and exits, then build the full-length SignalFrame once."""

    def __init__(self, timestamp: IntArray, reason_names: tuple[str, ...]) -> None:
        n = len(timestamp)
        self._timestamp = timestamp
        self._names = reason_names
        self._enter = {False: np.zeros(n, np.bool_), True: np.zeros(n, np.bool_)}
        self._exit = {False: np.zeros(n, np.bool_), True: np.zeros(n, np.bool_)}
        self._entries: list[tuple[bool, EntryRows]] = []
        self._reasons = np.zeros(n, np.int64)

    def add_entries(self, entries: EntryRows, *, short: bool) -> None:
        """Mark ``entries`` as long (or short) entry rows."""
        self._enter[short][entries.rows] = True
        self._entries.append((short, entries))

    def add_exits(self, exit_long: BoolArray, exit_short: BoolArray, bit: int) -> None:
        """Mark exit rows for each side and set ``bit`` in their reasons."""
        # in place: the builder owns these columns, and new ones would fault in fresh pages each call
        np.logical_or(self._exit[False], exit_long, out=self._exit[False])
        np.logical_or(self._exit[True], exit_short, out=self._exit[True])
        np.bitwise_or(self._reasons, bit, out=self._reasons, where=exit_long | exit_short)

    def build(self, stop_pct: float, take_profit_pct: float) -> SignalFrame:
        """Return the SignalFrame; non-zero fixed percentages replace the strategies' own levels.

        An entry's own exit on the same candle is dropped (the entry wins); a level on the wrong
        side of the close (a target already passed) becomes NaN: no advice rather than bad advice.
        """
        n = len(self._timestamp)
        confidence = np.zeros(n)
        stop, take = np.full(n, np.nan), np.full(n, np.nan)
        for short, e in self._entries:
            self._exit[short][e.rows] = False
            confidence[e.rows] = np.clip(e.confidence, 0.0, 1.0)
            self._reasons[e.rows] = e.bits  # an entry row is explained by its entry, not by exits
            percents = (stop_pct, take_profit_pct)
            stop[e.rows], take[e.rows] = final_levels(e.close, e.stop, e.take, short=short, percents=percents)
        return SignalFrame(
            timestamp=self._timestamp,  # shared with the candles: both are read-only by convention
            enter_long=self._enter[False],
            exit_long=self._exit[False],
            enter_short=self._enter[True],
            exit_short=self._exit[True],
            confidence=confidence,
            stop_loss=stop,
            take_profit=take,
            reasons=self._reasons,
            reason_names=self._names,
        )
