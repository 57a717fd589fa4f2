"""One pair's arrays for the event-driven runner: candles, the vectorised signals, entry candidates.

Conversions to Decimal happen only here and only at event candles (a handful per trade).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from trader.core.domain.candles import CandleFrame, FloatArray, IntArray, ms_to_datetime
from trader.core.domain.ids import Symbol
from trader.core.domain.money import D
from trader.core.positions.position_events import PriceUpdated
from trader.core.sim.matching import Bar
from trader.core.strategies.base import BoolArray, Signal, SignalFrame


@dataclass(frozen=True, slots=True)
class Lane:
    """A pair in the backtest: its candles, its signal rows, and where entries may happen."""

    symbol: Symbol
    candles: CandleFrame
    signals: SignalFrame
    candidates: IntArray  # candle indexes whose close carries an entry signal
    timeframe_ms: int
    detail: CandleFrame | None = None  # lower-timeframe candles for ambiguous exits

    @classmethod
    def build(cls, symbol: Symbol, candles: CandleFrame, signals: SignalFrame, timeframe_ms: int, *,
              allow_short: bool = False, detail: CandleFrame | None = None) -> Lane:
        """Return a lane; entry candidates are rows with an entry flag and no exit flag on that side."""
        if len(signals) != len(candles):
            raise ValueError(f"{symbol}: {len(signals)} signal rows for {len(candles)} candles")
        wanted = signals.enter_long & ~signals.exit_long
        if allow_short:
            wanted = wanted | (signals.enter_short & ~signals.exit_short)
        return cls(symbol, candles, signals, np.flatnonzero(wanted).astype(np.int64), timeframe_ms, detail)

    def __len__(self) -> int:
        return len(self.candles)

    @property
    def ohlc(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Return the open, high, low and close arrays."""
        c = self.candles
        return c.open, c.high, c.low, c.close

    def exit_flags(self, long: bool) -> BoolArray:
        """Return the exit-signal column for a long or a short position."""
        return self.signals.exit_long if long else self.signals.exit_short

    def next_candidate(self, start: int) -> int | None:
        """Return the first entry candidate at or after candle ``start``, or None."""
        at = int(self.candidates.searchsorted(start, side="left"))
        return int(self.candidates[at]) if at < len(self.candidates) else None

    def open_time(self, k: int) -> int:
        """Return candle ``k``'s open time, ms."""
        return int(self.candles.timestamp[k])

    def first_closing_at(self, at_ms: int) -> int:
        """Return the index of the first candle whose close is at or after ``at_ms`` (len when none)."""
        return int(self.candles.timestamp.searchsorted(at_ms - self.timeframe_ms, side="left"))

    def close_time(self, k: int) -> int:
        """Return candle ``k``'s close time (open + timeframe), ms."""
        return int(self.candles.timestamp[k]) + self.timeframe_ms

    def bar(self, k: int) -> Bar:
        """Return candle ``k`` in Decimal."""
        c = self.candles
        return Bar(c.timestamp.item(k), _dec(c.open, k), _dec(c.high, k), _dec(c.low, k), _dec(c.close, k))

    def price_update(self, k: int) -> PriceUpdated:
        """Return candle ``k`` as the PriceUpdated the engine sees on its close."""
        c = self.candles
        return PriceUpdated(_dec(c.high, k), _dec(c.low, k), _dec(c.close, k),
                            ms_to_datetime(self.close_time(k)))

    def signal(self, k: int) -> Signal:
        """Return signal row ``k``."""
        return self.signals.row(k)

    def last_close(self, at_ms: int) -> Decimal | None:
        """Return the close of the last candle closed at or before ``at_ms``, or None."""
        k = int(self.candles.timestamp.searchsorted(at_ms - self.timeframe_ms, side="right")) - 1
        return None if k < 0 else _dec(self.candles.close, k)

    def detail_bars(self, k: int) -> list[Bar]:
        """Return the lower-timeframe candles inside candle ``k`` (empty without detail data)."""
        if self.detail is None:
            return []
        ts = self.detail.timestamp
        lo = int(np.searchsorted(ts, self.open_time(k), side="left"))
        hi = int(np.searchsorted(ts, self.close_time(k), side="left"))
        d = self.detail
        return [Bar(int(ts[i]), D(float(d.open[i])), D(float(d.high[i])), D(float(d.low[i])),
                    D(float(d.close[i]))) for i in range(lo, hi)]


def _dec(values: FloatArray, k: int) -> Decimal:
    """Return ``values[k]`` as ``money.D`` would (through repr), without its type dispatch: per event."""
    return Decimal(repr(values.item(k)))
