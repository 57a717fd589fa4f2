"""Trailing stop: a level that follows the best price since entry and a ratchet that never loosens.

Per candle the order is fixed (``positions.closing.on_price``; the backtest kernel follows it too):

1. check the *existing* stop against the candle (long: ``low <= stop``), exit if hit;
2. only then raise the high-water mark with the candle's high (short: lower it with the low);
3. ``new_stop = ratchet(stop, high_water, entry, trail, direction, market)``.

So a candle's own high never tightens the stop that candle is checked against (no same-candle
optimism). The level formula and the ratchet (tick rounding toward the position, ``min_step``) are
stated once, as float rules in ``trader.core.domain.price_rules``, which the compiled backtest kernel
calls too; this module is the engine's Decimal face of them: it converts, calls the rule and rounds
the result through ``MarketSpec``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from trader.config.sections import TrailingConfig
from trader.core.domain import price_rules as rules
from trader.core.domain.candles import FloatArray
from trader.core.domain.enums import Direction
from trader.core.domain.market import MarketSpec


@dataclass(frozen=True, slots=True)
class TrailParams:
    """Float view of a TrailingConfig plus the market's tick: the arguments of the price rules."""

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

    def level(self, high_water: float, entry: float, sign: float) -> float:
        """Return ``price_rules.trail_level`` with these parameters (NaN when inactive)."""
        return rules.trail_level(high_water, entry, sign, self.enabled, self.distance, self.activation,
                                 self.progressive, self.tighten, self.min_distance, self.breakeven)

    def as_array(self) -> FloatArray:
        """Return the parameters in the kernel's fixed order."""
        return np.array([float(self.enabled), self.distance, self.min_step, self.activation,
                         float(self.progressive), self.tighten, self.min_distance, self.breakeven,
                         self.price_step])


def sign_of(direction: Direction) -> float:
    """Return the rules' direction sign: +1.0 for a long, -1.0 for a short."""
    return 1.0 if direction is Direction.LONG else -1.0


def as_float(value: Decimal | None) -> float:
    """Return ``value`` as the rules' float, NaN for None (no level)."""
    return math.nan if value is None else float(value)


def ratchet(stop: Decimal | None, high_water: Decimal, entry: Decimal, trail: TrailParams,
            direction: Direction, market: MarketSpec) -> Decimal | None:
    """Return the ratcheted stop: tighter by more than the minimum step, else ``stop``; never looser."""
    if not trail.is_active:
        return stop
    sign = sign_of(direction)
    old = as_float(stop)
    new = rules.ratchet(old, trail.level(float(high_water), float(entry), sign), sign, trail.min_step,
                        trail.price_step)
    if math.isnan(new) or new == old:
        return stop
    return market.round_stop(Decimal(repr(new)), direction)


def raise_high_water(high_water: Decimal | None, high: Decimal, low: Decimal,
                     direction: Direction) -> Decimal:
    """Return the best price so far after a candle: the highest high (long) or lowest low (short)."""
    best = rules.best_price(as_float(high_water), float(high), float(low), sign_of(direction))
    for exact in (high, low, high_water):  # the Decimal the rule picked (no float noise leaks out)
        if exact is not None and float(exact) == best:
            return exact
    return Decimal(repr(best))


def is_stop_hit(stop: Decimal | None, high: Decimal, low: Decimal, direction: Direction) -> bool:
    """Return True when a candle touched the stop (long: low <= stop; short: high >= stop)."""
    return rules.stop_touched(as_float(stop), float(high), float(low), sign_of(direction))


def is_target_hit(target: Decimal | None, high: Decimal, low: Decimal, direction: Direction) -> bool:
    """Return True when a candle touched the take-profit (long: high >= target; short: low <= target)."""
    return rules.target_touched(as_float(target), float(high), float(low), sign_of(direction))
