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
    candles: tuple[FloatArray, FloatArray, FloatArray, FloatArray], exit_signal: BoolArray, start: int, *,
    long: bool, entry: float, stop: float, take_profit: float, high_water: float,
    trail: TrailParams, has_detail: bool = False,
) -> ExitSearch:
    """Return the first exit event at or after candle ``start`` (``candles`` = open, high, low, close).

    ``stop``/``take_profit`` are NaN when absent; ``high_water`` is the best price so far (the entry
    price on the entry candle). Codes: NONE, STOP, TAKE_PROFIT, BOTH (only with ``has_detail``), CLOSE.
    """
    opens, highs, lows, closes = candles
    out = _find_exit(opens, highs, lows, closes, exit_signal, start, 1.0 if long else -1.0, entry, stop,
                     take_profit, high_water, has_detail, trail.enabled, trail.distance, trail.min_step,
                     trail.activation, trail.progressive, trail.tighten, trail.min_distance,
                     trail.breakeven, trail.price_step)
    return ExitSearch(int(out[0]), int(out[1]), float(out[2]), float(out[3]), float(out[4]))


@numba.njit(cache=True, nogil=True)
def _level(hw: float, entry: float, sign: float, enabled: bool, distance: float, activation: float,
           progressive: bool, tighten: float, min_distance: float, breakeven: float) -> float:
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
def _ratchet(stop: float, level: float, sign: float, min_step: float, price_step: float) -> float:
    if math.isnan(level):
        return stop
    if price_step > 0.0:
        ticks = level / price_step
        ticks = math.ceil(ticks - _TICK_TOLERANCE) if sign > 0 else math.floor(ticks + _TICK_TOLERANCE)
        level = ticks * price_step
    if sign > 0:
        return level if (math.isnan(stop) or level > stop * (1.0 + min_step)) else stop
    return level if (math.isnan(stop) or level < stop * (1.0 - min_step)) else stop


@numba.njit(cache=True, nogil=True)
def _find_exit(opens, highs, lows, closes, exit_signal, start, sign, entry, stop, take_profit,  # type: ignore[no-untyped-def]
               high_water, has_detail, enabled, distance, min_step, activation, progressive, tighten,
               min_distance, breakeven, price_step):
    moves = enabled or not math.isnan(breakeven)
    n = len(opens)
    for k in range(start, n):
        o, h, lo = opens[k], highs[k], lows[k]
        stop_hit = (not math.isnan(stop)) and (lo <= stop if sign > 0 else h >= stop)
        tp_hit = (not math.isnan(take_profit)) and (h >= take_profit if sign > 0 else lo <= take_profit)
        if stop_hit and tp_hit:
            gap_tp = o >= take_profit if sign > 0 else o <= take_profit
            gap_stop = o <= stop if sign > 0 else o >= stop
            if gap_tp:
                return k, 2, take_profit, stop, high_water
            if has_detail and not gap_stop:
                return k, 3, stop, stop, high_water
        if stop_hit:
            price = min(o, stop) if sign > 0 else max(o, stop)
            return k, 1, price, stop, high_water
        if tp_hit:
            return k, 2, take_profit, stop, high_water
        if moves:
            hw = max(high_water, h) if sign > 0 else min(high_water, lo)
            level = _level(hw, entry, sign, enabled, distance, activation, progressive, tighten,
                           min_distance, breakeven)
            moved = _ratchet(stop, level, sign, min_step, price_step)
            c = closes[k]
            if moved != stop and (c <= moved if sign > 0 else c >= moved):
                return k, 4, math.nan, stop, high_water  # positions.closing.on_price exits at market
            if exit_signal[k]:
                return k, 4, math.nan, stop, high_water
            stop, high_water = moved, hw
        elif exit_signal[k]:
            return k, 4, math.nan, stop, high_water
    return n, 0, math.nan, stop, high_water
