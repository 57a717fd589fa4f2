"""Compiled exit search: from an entry candle, find the first candle where the position's exit can happen.

This is the hot inner loop of the event-driven runner, so Python work scales with trades, not candles.
It applies, per candle and in this order, exactly the rules of ``trader.sim.matching`` (stop and
take-profit touch, gap fills, stop wins a candle touching both unless lower-timeframe detail decides)
and of ``trader.positions.trailing`` (check the existing stop first, then raise the high-water mark,
then ratchet with the tick rounding and ``min_step``). tests/unit/backtest/test_kernel.py checks it
against those modules candle by candle. numba is used because the loop is inherently sequential
(the ratchet's ``min_step`` makes the stop path-dependent) and numpy cannot express it without a
Python loop per candle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numba
import numpy as np

from trader.config.sections import TrailingConfig
from trader.domain.candles import FloatArray
from trader.strategies.base import BoolArray

NONE: Final = 0  # no exit before the end of the data
STOP: Final = 1  # stop (initial or trailed) touched; price = stop or gap open
TAKE_PROFIT: Final = 2  # take-profit touched; price = take-profit
BOTH: Final = 3  # stop and take-profit touched inside one candle: resolve with detail candles
CLOSE: Final = 4  # on this candle's close: an exit signal, or the ratcheted stop is above the close
# (long; below for a short). Either way step() decides on the close and exits at the next open.

_TICK_TOLERANCE: Final = 1e-9  # a level within 1e-9 ticks of a tick is on it (float vs Decimal maths)


@dataclass(frozen=True, slots=True)
class TrailParams:
    """Float view of a TrailingConfig plus the market's tick, as the kernel takes it."""

    enabled: bool = False
    distance: float = 0.03
    min_step: float = 0.0
    activation: float = 0.0
    progressive: bool = False
    tighten: float = 0.5
    min_distance: float = 0.005
    breakeven: float = math.nan  # NaN: no break-even move
    price_step: float = 0.0

    @classmethod
    def from_config(cls, cfg: TrailingConfig, price_step: float) -> TrailParams:
        """Return the float parameters of ``cfg`` for a market with tick ``price_step``."""
        return cls(cfg.enabled, float(cfg.distance), float(cfg.min_step), float(cfg.activation_profit),
                   cfg.progressive, float(cfg.progressive_tighten), float(cfg.min_distance),
                   math.nan if cfg.breakeven_at is None else float(cfg.breakeven_at), price_step)

    @property
    def is_active(self) -> bool:
        """Return True when the stop can move at all."""
        return self.enabled or not math.isnan(self.breakeven)

    def as_array(self) -> FloatArray:
        """Return the parameters in the kernel's fixed order."""
        return np.array([float(self.enabled), self.distance, self.min_step, self.activation,
                         float(self.progressive), self.tighten, self.min_distance, self.breakeven,
                         self.price_step])


@dataclass(frozen=True, slots=True)
class PositionLevels:
    """The position as the kernel sees it; ``stop``/``take_profit`` NaN when absent, ``high_water`` the
    best price so far (the entry fill price on the entry candle)."""

    long: bool
    entry: float
    stop: float
    take_profit: float
    high_water: float


@dataclass(frozen=True, slots=True)
class ExitSearch:
    """Where the search stopped: candle index, code, raw fill price, and the stop and high-water mark
    in force when that candle opened (before its own ratchet)."""

    index: int
    code: int
    price: float
    stop: float
    high_water: float


def find_exit(
    candles: tuple[FloatArray, FloatArray, FloatArray, FloatArray], exit_signal: BoolArray, start: int,
    position: PositionLevels, trail: TrailParams, *, has_detail: bool = False,
) -> ExitSearch:
    """Return the first exit event at or after candle ``start`` (``candles`` = open, high, low, close).

    Codes: NONE, STOP, TAKE_PROFIT, BOTH (only with ``has_detail``), CLOSE.
    """
    levels = np.array([1.0 if position.long else -1.0, position.entry, position.stop, position.take_profit,
                       position.high_water, 1.0 if has_detail else 0.0])
    out = _find_exit(candles, exit_signal, start, levels, trail.as_array())
    return ExitSearch(int(out[0]), int(out[1]), float(out[2]), float(out[3]), float(out[4]))


@numba.njit(cache=True, nogil=True)
def _level(hw: float, entry: float, sign: float, trail: FloatArray) -> float:
    enabled, distance, activation = trail[0] > 0.0, trail[1], trail[3]
    progressive, tighten, min_distance, breakeven = trail[4] > 0.0, trail[5], trail[6], trail[7]
    profit = hw / entry - 1.0 if sign > 0 else 1.0 - hw / entry
    level = math.nan
    if enabled and profit >= activation:
        dist = distance
        if progressive:
            dist = max(min_distance, distance - tighten * profit)
        level = hw * (1.0 - dist) if sign > 0 else hw * (1.0 + dist)
    if not math.isnan(breakeven) and profit >= breakeven:
        if math.isnan(level):
            level = entry
        else:
            level = max(level, entry) if sign > 0 else min(level, entry)
    return level


@numba.njit(cache=True, nogil=True)
def _tick_digits(price_step: float) -> int:
    """Return enough decimal places to hold a multiple of ``price_step`` exactly (2 beyond its own)."""
    return max(0, math.ceil(-math.log10(price_step) - _TICK_TOLERANCE)) + 2


@numba.njit(cache=True, nogil=True)
def _ratchet(stop: float, level: float, sign: float, trail: FloatArray) -> float:
    min_step, price_step = trail[2], trail[8]
    if math.isnan(level):
        return stop
    if price_step > 0.0:
        ticks = level / price_step
        ticks = math.ceil(ticks - _TICK_TOLERANCE) if sign > 0 else math.floor(ticks + _TICK_TOLERANCE)
        # ticks * step can land one ulp off the decimal tick (9957 * 0.01 = 99.57000000000001); snap to
        # the float nearest the tick, as candle prices parsed from text are, so equality means equality.
        level = round(ticks * price_step, _tick_digits(price_step))
    if sign > 0:
        return level if (math.isnan(stop) or level > stop * (1.0 + min_step)) else stop
    return level if (math.isnan(stop) or level < stop * (1.0 - min_step)) else stop


@numba.njit(cache=True, nogil=True)
def _protective_exit(o: float, h: float, lo: float, sign: float, stop: float, take_profit: float,
                     has_detail: bool) -> tuple[int, float]:
    """Return (code, raw price) of the stop/take-profit on one candle; code 0 when neither fills."""
    stop_hit = (not math.isnan(stop)) and (lo <= stop if sign > 0 else h >= stop)
    tp_hit = (not math.isnan(take_profit)) and (h >= take_profit if sign > 0 else lo <= take_profit)
    if stop_hit and tp_hit:
        if o >= take_profit if sign > 0 else o <= take_profit:
            return 2, take_profit  # opened through the target: the open came first
        if has_detail and not (o <= stop if sign > 0 else o >= stop):
            return 3, stop
    if stop_hit:
        return 1, (min(o, stop) if sign > 0 else max(o, stop))
    if tp_hit:
        return 2, take_profit
    return 0, math.nan


@numba.njit(cache=True, nogil=True)
def _find_exit(candles, exit_signal, start, levels, trail):  # type: ignore[no-untyped-def]
    opens, highs, lows, closes = candles
    sign, entry, stop, take_profit, high_water = levels[0], levels[1], levels[2], levels[3], levels[4]
    has_detail = levels[5] > 0.0
    moves = trail[0] > 0.0 or not math.isnan(trail[7])
    for k in range(start, len(opens)):
        code, price = _protective_exit(opens[k], highs[k], lows[k], sign, stop, take_profit, has_detail)
        if code != 0:
            return k, code, price, stop, high_water
        if moves:
            hw = max(high_water, highs[k]) if sign > 0 else min(high_water, lows[k])
            moved = _ratchet(stop, _level(hw, entry, sign, trail), sign, trail)
            if moved != stop and (closes[k] <= moved if sign > 0 else closes[k] >= moved):
                return k, 4, math.nan, stop, high_water  # positions.closing.on_price exits at market
            if exit_signal[k]:
                return k, 4, math.nan, stop, high_water
            stop, high_water = moved, hw
        elif exit_signal[k]:
            return k, 4, math.nan, stop, high_water
    return len(opens), 0, math.nan, stop, high_water
