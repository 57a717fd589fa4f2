"""Trailing stop: a level that follows the best price since entry and a ratchet that never loosens.

Per candle the order is fixed, and the backtest kernel must follow it exactly:

1. check the *existing* stop against the candle (long: ``low <= stop``), exit if hit;
2. only then raise the high-water mark with the candle's high (short: lower it with the low);
3. ``new_stop = ratchet(stop, high_water, entry, cfg, direction, price_step)``.

So a candle's own high never tightens the stop that candle is checked against (no same-candle
optimism). The level, for a long (profit ``p = high_water / entry - 1``)::

    distance = cfg.distance                                        if not cfg.progressive
             = max(cfg.min_distance, cfg.distance - cfg.progressive_tighten * p)   if progressive
    level    = high_water * (1 - distance)   if cfg.enabled and p >= cfg.activation_profit, else -inf
    level    = max(level, entry)             if cfg.breakeven_at is set and p >= cfg.breakeven_at

``level`` is non-decreasing in ``high_water`` (the distance only shrinks as profit grows). A short
mirrors it: ``p = 1 - high_water / entry``, ``level = high_water * (1 + distance)``, ``min(level,
entry)`` for break-even, +inf when inactive; it is also non-decreasing in ``high_water``, whose
improvement is downward (a lower low gives a lower, tighter stop). ``ratchet`` rounds the
level to the tick toward the position (long up, short down) and moves the stop only when that
improves it by more than ``cfg.min_step`` (a fraction of the current stop); otherwise, and whenever
the level would loosen it, the stop stays put.
"""

from __future__ import annotations

import math
from decimal import Decimal

from trader.config.sections import TrailingConfig
from trader.domain.enums import Direction
from trader.domain.money import ONE, quantize_down, quantize_up


def trail_level(high_water: float, entry: float, cfg: TrailingConfig, direction: Direction) -> float:
    """Return the float64 trailing level (the formula above); -inf / +inf when inactive. Vectorisable."""
    long = direction is Direction.LONG
    profit = high_water / entry - 1.0 if long else 1.0 - high_water / entry
    level = -math.inf if long else math.inf
    if cfg.enabled and profit >= float(cfg.activation_profit):
        distance = float(cfg.distance)
        if cfg.progressive:
            distance = max(float(cfg.min_distance), distance - float(cfg.progressive_tighten) * profit)
        level = high_water * (1.0 - distance) if long else high_water * (1.0 + distance)
    if cfg.breakeven_at is not None and profit >= float(cfg.breakeven_at):
        level = max(level, entry) if long else min(level, entry)
    return level


def trail_level_exact(high_water: Decimal, entry: Decimal, cfg: TrailingConfig,
                      direction: Direction) -> Decimal | None:
    """Return the Decimal trailing level (same formula as ``trail_level``), None when inactive."""
    long = direction is Direction.LONG
    profit = high_water / entry - ONE if long else ONE - high_water / entry
    level: Decimal | None = None
    if cfg.enabled and profit >= cfg.activation_profit:
        distance = cfg.distance
        if cfg.progressive:
            distance = max(cfg.min_distance, distance - cfg.progressive_tighten * profit)
        level = high_water * (ONE - distance) if long else high_water * (ONE + distance)
    if cfg.breakeven_at is not None and profit >= cfg.breakeven_at:
        if level is None:
            level = entry
        else:
            level = max(level, entry) if long else min(level, entry)
    return level


def ratchet(stop: Decimal | None, high_water: Decimal, entry: Decimal, cfg: TrailingConfig,
            direction: Direction, price_step: Decimal) -> Decimal | None:
    """Return the ratcheted stop: tighter by more than ``cfg.min_step``, else ``stop``; never looser."""
    if not cfg.enabled and cfg.breakeven_at is None:
        return stop
    level = trail_level_exact(high_water, entry, cfg, direction)
    if level is None:
        return stop
    if direction is Direction.LONG:
        level = quantize_up(level, price_step)
        if stop is None or level > stop * (ONE + cfg.min_step):
            return level
        return stop
    level = quantize_down(level, price_step)
    if stop is None or level < stop * (ONE - cfg.min_step):
        return level
    return stop


def raise_high_water(high_water: Decimal | None, high: Decimal, low: Decimal,
                     direction: Direction) -> Decimal:
    """Return the best price so far after a candle: the highest high (long) or lowest low (short)."""
    best = high if direction is Direction.LONG else low
    if high_water is None:
        return best
    return max(high_water, best) if direction is Direction.LONG else min(high_water, best)


def is_stop_hit(stop: Decimal | None, high: Decimal, low: Decimal, direction: Direction) -> bool:
    """Return True when a candle touched the stop (long: low <= stop; short: high >= stop)."""
    if stop is None:
        return False
    return low <= stop if direction is Direction.LONG else high >= stop


def is_target_hit(target: Decimal | None, high: Decimal, low: Decimal, direction: Direction) -> bool:
    """Return True when a candle touched the take-profit (long: high >= target; short: low <= target)."""
    if target is None:
        return False
    return high >= target if direction is Direction.LONG else low <= target

