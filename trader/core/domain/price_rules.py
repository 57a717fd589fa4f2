"""The price rules, stated once: trailing level, ratchet, stop/take-profit touch, intrabar exit, fill price.

Each rule is ONE scalar function over plain floats. The engine path (``positions.trailing``,
``positions.closing``, ``sim.matching``) converts its Decimals to float, calls the rule and turns the
result back into a Decimal rounded through ``MarketSpec``; the compiled backtest kernel
(``backtest.kernel``) calls the very same functions inside its numba loop. So a rule changes here and
nowhere else, and the kernel cannot drift from the engine.

Constraints that keep the functions compilable by numba (``kernel`` registers them with
``register_jitable``): plain float/bool arguments, ``math`` only, no Decimal, no objects, no
exceptions, and a function here may call another function here. NaN stands for "no level" (no stop,
no take-profit, trailing inactive). ``sign`` is +1.0 for a long position and -1.0 for a short.

Prices are candle prices parsed from text or Decimals with at most 15 significant digits, so they
survive the float round trip exactly; derived levels are snapped to the tick before they leave here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

NO_EXIT = 0  # neither the stop nor the take-profit fills on this candle
STOP = 1  # the stop fills: at the stop, or at the open when the candle opened through it (a gap)
TAKE_PROFIT = 2  # the take-profit fills at its price
BOTH = 3  # both touched inside the candle and the open decides nothing: lower-timeframe detail decides

TICK_TOLERANCE = 1e-9  # a level within 1e-9 ticks of a tick is on it (float noise of level maths)


def trail_level(high_water: float, entry: float, sign: float, enabled: bool, distance: float,  # noqa: PLR0913, PLR0917
                activation: float, progressive: bool, tighten: float, min_distance: float,
                breakeven: float) -> float:
    """Return the trailing stop level for the best price ``high_water`` so far; NaN when inactive.

    (Ten positional floats, not a config object: numba compiles this for the kernel.)

    Long (profit ``p = high_water / entry - 1``)::

        distance = distance                                      if not progressive
                 = max(min_distance, distance - tighten * p)     if progressive
        level    = high_water * (1 - distance)   if enabled and p >= activation, else none
        level    = max(level, entry)             if breakeven is set (not NaN) and p >= breakeven

    A short mirrors it (``p = 1 - high_water / entry``, ``high_water * (1 + distance)``, ``min`` for
    break-even). The level never falls as the best price improves (the distance only shrinks).
    """
    profit = high_water / entry - 1.0 if sign > 0 else 1.0 - high_water / entry
    level = math.nan
    if enabled and profit >= activation:
        dist = distance
        if progressive:
            dist = max(min_distance, distance - tighten * profit)
        level = high_water * (1.0 - dist) if sign > 0 else high_water * (1.0 + dist)
    if not math.isnan(breakeven) and profit >= breakeven:
        if math.isnan(level):
            level = entry
        else:
            level = max(level, entry) if sign > 0 else min(level, entry)
    return level


def to_tick(level: float, sign: float, price_step: float) -> float:
    """Return ``level`` on the tick toward the position (long up, short down); as is without a tick.

    The result is the float nearest the decimal tick (``ticks * step`` can land one ulp off it:
    9957 * 0.01 = 99.57000000000001), as candle prices parsed from text are, so equality is equality.
    """
    if price_step <= 0.0 or math.isnan(level):
        return level
    ticks = level / price_step
    ticks = math.ceil(ticks - TICK_TOLERANCE) if sign > 0 else math.floor(ticks + TICK_TOLERANCE)
    digits = max(0, math.ceil(-math.log10(price_step) - TICK_TOLERANCE)) + 2
    return round(ticks * price_step, digits)


def ratchet(stop: float, level: float, sign: float, min_step: float, price_step: float) -> float:
    """Return the new stop: ``level`` on the tick when it tightens ``stop`` by more than ``min_step``.

    ``min_step`` is a fraction of the current stop. A NaN level (trailing inactive) or one that would
    loosen the stop leaves ``stop`` as it is; a NaN ``stop`` (none yet) takes any level.
    """
    if math.isnan(level):
        return stop
    level = to_tick(level, sign, price_step)
    if sign > 0:
        return level if (math.isnan(stop) or level > stop * (1.0 + min_step)) else stop
    return level if (math.isnan(stop) or level < stop * (1.0 - min_step)) else stop


def best_price(high_water: float, high: float, low: float, sign: float) -> float:
    """Return the best price so far after a candle: the highest high (long) or lowest low (short)."""
    best = high if sign > 0 else low
    if math.isnan(high_water):
        return best
    return max(high_water, best) if sign > 0 else min(high_water, best)


def stop_touched(stop: float, high: float, low: float, sign: float) -> bool:
    """Return True when a candle reaches a position's stop (long: low <= stop; short: high >= stop)."""
    if math.isnan(stop):
        return False
    return low <= stop if sign > 0 else high >= stop


def target_touched(target: float, high: float, low: float, sign: float) -> bool:
    """Return True when a candle reaches a position's take-profit (long: high >= it; short: low <= it)."""
    if math.isnan(target):
        return False
    return high >= target if sign > 0 else low <= target


def stop_fill_price(open_: float, stop: float, sign: float) -> float:
    """Return the raw fill price of a triggered stop: the stop, or the open when it gapped through."""
    return min(open_, stop) if sign > 0 else max(open_, stop)


def opens_through(level: float, open_: float, sign: float) -> bool:
    """Return True when the candle opened at or beyond a take-profit (the open came first)."""
    return open_ >= level if sign > 0 else open_ <= level


def protective_exit(open_: float, high: float, low: float, sign: float, stop: float, take_profit: float,
                    has_detail: bool) -> tuple[int, float]:
    """Return (code, raw fill price) of a position's stop and take-profit on one candle.

    The intrabar rule: a candle is known by open, high, low and close only, so it is read
    pessimistically. Stop and take-profit both touched: the take-profit when the candle opened
    through it; else BOTH when lower-timeframe detail can decide (and the open did not gap through
    the stop); else the stop. The stop fills at ``stop_fill_price``, the take-profit at its price.
    Codes: NO_EXIT (price NaN), STOP, TAKE_PROFIT, BOTH (price = the stop).
    """
    stop_hit = stop_touched(stop, high, low, sign)
    tp_hit = target_touched(take_profit, high, low, sign)
    if stop_hit and tp_hit:
        if opens_through(take_profit, open_, sign):
            return TAKE_PROFIT, take_profit
        if has_detail and not stop_touched(stop, open_, open_, sign):
            return BOTH, stop
    if stop_hit:
        return STOP, stop_fill_price(open_, stop, sign)
    if tp_hit:
        return TAKE_PROFIT, take_profit
    return NO_EXIT, math.nan


def detail_exit(opens: Sequence[float], highs: Sequence[float], lows: Sequence[float], sign: float,
                stop: float, take_profit: float) -> tuple[int, float, int]:
    """Return (code, raw fill price, index) of the first lower-timeframe candle that decides a candle where
    ``protective_exit`` found BOTH, each read on its own (one touching both is the stop's); when none
    reaches either level, (STOP, the stop, -1): the pessimistic reading.
    """
    for j in range(len(opens)):
        code, price = protective_exit(opens[j], highs[j], lows[j], sign, stop, take_profit, False)
        if code != NO_EXIT:
            return code, price, j
    return STOP, stop, -1


RULES = (trail_level, to_tick, ratchet, best_price, stop_touched, target_touched, stop_fill_price,
         opens_through, protective_exit, detail_exit)
"""Every rule, for ``backtest.kernel`` to register as numba-compilable (and to fingerprint its cache)."""
