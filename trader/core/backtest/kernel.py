"""Compiled exit search: from an entry candle, find the first candle where the position's exit can happen.

This is the hot inner loop of the event-driven runner, so Python work scales with trades, not candles.
Per candle, in the order ``positions.closing.on_price`` follows (check the existing stop and
take-profit first, then raise the high-water mark, then ratchet), it calls the rules of
``trader.core.domain.price_rules``: the same functions the engine path calls, compiled here by numba
(``register_jitable``), so nothing is restated. tests/unit/core/backtest/test_kernel.py runs this loop and
the engine's position machine side by side. numba is used because the loop is inherently sequential
(the ratchet's ``min_step`` makes the stop path-dependent) and numpy cannot express it without a
Python loop per candle.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numba
import numpy as np
from numba.extending import register_jitable

from trader.core.domain import price_rules as rules
from trader.core.domain.candles import FloatArray
from trader.core.positions.trailing import TrailParams
from trader.core.strategies.base import BoolArray

logger = logging.getLogger(__name__)

NONE: Final = rules.NO_EXIT  # no exit before the end of the data
STOP: Final = rules.STOP  # stop (initial or trailed) touched; price = stop or gap open
TAKE_PROFIT: Final = rules.TAKE_PROFIT  # take-profit touched; price = take-profit
BOTH: Final = rules.BOTH  # stop and take-profit touched inside one candle: resolve with detail candles
CLOSE: Final = 4  # on this candle's close: an exit signal, or the ratcheted stop is above the close
# (long; below for a short). Either way step() decides on the close and exits at the next open.


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
def _find_exit(candles, exit_signal, start, levels, trail):  # type: ignore[no-untyped-def]
    opens, highs, lows, closes = candles
    sign, entry, stop, take_profit, high_water = levels[0], levels[1], levels[2], levels[3], levels[4]
    has_detail = levels[5] > 0.0
    enabled, progressive = trail[0] > 0.0, trail[4] > 0.0
    moves = enabled or not math.isnan(trail[7])
    settled = False  # True once ``stop`` is the ratchet's result for the level of ``high_water``
    for k in range(start, len(opens)):
        code, price = rules.protective_exit(opens[k], highs[k], lows[k], sign, stop, take_profit, has_detail)
        if code != rules.NO_EXIT:
            return k, code, price, stop, high_water
        if moves:
            hw = rules.best_price(high_water, highs[k], lows[k], sign)
            if settled and hw == high_water:
                # the same best price gives the same level, and the ratchet is idempotent (it returns
                # its stop, or the level on the tick, which then ratchets to itself): the stop stays
                if exit_signal[k]:
                    return k, CLOSE, math.nan, stop, high_water
                continue
            level = rules.trail_level(hw, entry, sign, enabled, trail[1], trail[3], progressive, trail[5],
                                      trail[6], trail[7])
            moved = rules.ratchet(stop, level, sign, trail[2], trail[8])
            if moved != stop and rules.stop_touched(moved, closes[k], closes[k], sign):
                return k, CLOSE, math.nan, stop, high_water  # positions.closing.on_price exits at market
            if exit_signal[k]:
                return k, CLOSE, math.nan, stop, high_water
            stop, high_water, settled = moved, hw, True
        elif exit_signal[k]:
            return k, CLOSE, math.nan, stop, high_water
    return len(opens), NONE, math.nan, stop, high_water


def _flush_stale_cache(dispatcher: Any, sources: tuple[str, ...] = (rules.__file__,)) -> None:
    """Drop ``dispatcher``'s on-disk numba cache when a file it inlines (``sources``) changed since built.

    numba keys its cache on the dispatcher's own file only; the rules it inlines live in other files
    (``domain.price_rules``; for ``backtest.compiled`` also ``risk.sizing``, ``risk.limits`` and this
    file), so without this an edited rule would keep running its old compiled copy while the engine
    runs the new one.
    """
    digest = hashlib.sha256(b"".join(Path(source).read_bytes() for source in sources)).hexdigest()
    cache = getattr(dispatcher, "_cache", None)
    folder = getattr(cache, "_cache_path", None)
    if cache is None or folder is None:
        return  # caching off: every process compiles from the current rules
    stamp = Path(folder) / f"{dispatcher.__name__}.rules-sha256"
    try:
        if stamp.is_file() and stamp.read_text(encoding="ascii") == digest:
            return
        cache.flush()
        stamp.write_text(digest, encoding="ascii")
    except OSError:  # a read-only cache folder: numba does not write there either
        logger.debug("numba cache folder %s not writable", folder)


for _rule in rules.RULES:
    register_jitable(_rule)
_flush_stale_cache(_find_exit)
