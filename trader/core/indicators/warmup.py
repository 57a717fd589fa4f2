"""How many candles a recursive smoother needs before a truncated history gives the same value.

An EMA or Wilder average started ``k`` candles late differs from the full-history one by a factor
of (1 - alpha)^k of the start-up error. We ask for that factor to fall below 1e-18, i.e. below one
unit in the last place of a float64, so live evaluation on a tail equals the backtest's value.
"""

from __future__ import annotations

import math

_TOLERANCE = 1e-18


def _decay_steps(alpha: float) -> int:
    return math.ceil(math.log(_TOLERANCE) / math.log1p(-alpha))


def ema_warmup(period: int) -> int:
    """Return candles needed for an EMA(period) (alpha 2/(period+1)) to forget its seed."""
    return period + _decay_steps(2.0 / (period + 1))


def wilder_warmup(period: int) -> int:
    """Return candles needed for a Wilder average (alpha 1/period; RSI, ATR) to forget its seed."""
    return period + 1 + _decay_steps(1.0 / period)


def adx_warmup(period: int) -> int:
    """Return candles needed for ADX: Wilder-smoothed DX of Wilder-smoothed DM/TR (two stages)."""
    # The second smoothing convolves two geometric decays: the error is ~k*(1-1/n)^k, so add the
    # extra log(k) steps on top of a single stage's count.
    single = _decay_steps(1.0 / period)
    return 2 * period + single + math.ceil(math.log(single) * period)
