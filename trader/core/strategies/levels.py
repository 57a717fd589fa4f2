"""Stop-loss and take-profit prices for entry rows, shared by the built-in strategies.

Prices are absolute, computed from the signal candle's close (the engine may re-anchor them to the
actual fill). Fixed-percentage parameters, when non-zero, replace the strategy's own levels.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from trader.core.domain.candles import FloatArray
from trader.core.strategies.base import Param

PERCENT_PARAMS: Mapping[str, Param] = MappingProxyType(
    {
        "stop_pct": Param(0.0, 0.0, 0.5, 0.005, doc="fixed stop distance as a fraction (0.02 = 2%); 0 = off"),
        "take_profit_pct": Param(
            0.0, 0.0, 5.0, 0.005, doc="fixed take-profit distance as a fraction (0.03 = 3%); 0 = off"
        ),
    }
)


def final_levels(
    close: FloatArray, stop: FloatArray, take: FloatArray, *, short: bool, percents: tuple[float, float]
) -> tuple[FloatArray, FloatArray]:
    """Return (stop, take) for entries at ``close``: fixed (stop_pct, take_profit_pct) where non-zero,
    else the strategy's own; a level on the wrong side of the close becomes NaN (no advice)."""
    sign = -1.0 if short else 1.0
    stop_pct, take_pct = percents
    stop = close * (1 - sign * stop_pct) if stop_pct > 0 else stop.copy()
    take = close * (1 + sign * take_pct) if take_pct > 0 else take.copy()
    stop[~(sign * (close - stop) > 0)] = np.nan
    take[~(sign * (take - close) > 0)] = np.nan
    return stop, take
