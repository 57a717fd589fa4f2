"""Pairs statistical arbitrage: trade the spread between two co-moving pairs back to its mean.

On log closes: a rolling OLS of the first leg (y) on the second (x) gives the hedge ratio beta; the
spread y - alpha - beta * x is scored against its EWMA mean and variance. The spread is bought (long
y, short beta x in notional) when z falls to ``-entry_z``, sold (short y, long beta x) at ``+entry_z``;
closed when |z| comes back to ``exit_z`` and stopped out when |z| reaches ``stop_z``.

This takes two candle frames, so it is not a registry (single-pair) strategy: ``backtest.pairs`` runs
it. Signals are stateless per row (like every strategy here); which one applies depends on the held
side, which the backtest (or a future engine) keeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trader.core.domain.candles import CandleFrame, FloatArray, IntArray
from trader.core.errors import StrategyError
from trader.core.indicators.pairs import Regression, ewma_alpha, ewma_zscore, rolling_ols, spread
from trader.core.strategies.base import BoolArray

_TOLERANCE = 1e-18


@dataclass(frozen=True, slots=True)
class PairParams:
    """Regression window, EWMA half-life and the z thresholds (0 < exit_z < entry_z < stop_z)."""

    window: int = 720  # 30 days of 1h candles
    halflife: float = 168.0  # a week of 1h candles
    entry_z: float = 3.0  # 2.5 entered on deviations the four taker fills of a round trip ate (docs)
    exit_z: float = 0.5
    stop_z: float = 5.0

    def __post_init__(self) -> None:
        if self.window < 10:
            raise StrategyError(f"pairs: window must be at least 10 candles, got {self.window}")
        if not self.halflife > 0:
            raise StrategyError(f"pairs: halflife must be positive, got {self.halflife}")
        if not 0 <= self.exit_z < self.entry_z < self.stop_z:
            raise StrategyError(f"pairs: need 0 <= exit_z < entry_z < stop_z, got {self.exit_z}, "
                                f"{self.entry_z}, {self.stop_z}")

    @property
    def required_history(self) -> int:
        """Return candles for the window plus the EWMA to forget its start below 1e-18."""
        decay = math.ceil(math.log(_TOLERANCE) / math.log1p(-ewma_alpha(self.halflife)))
        return self.window + decay


@dataclass(frozen=True, slots=True)
class PairSignals:
    """Per-row statistics and signals; ``enter_long`` buys the spread (y up, x down), ``enter_short``
    sells it; ``exit_long``/``exit_short`` close that side at the target, ``stop_*`` at the stop."""

    timestamp: IntArray
    beta: FloatArray
    spread: FloatArray
    zscore: FloatArray
    enter_long: BoolArray
    enter_short: BoolArray
    exit_long: BoolArray
    exit_short: BoolArray
    stop_long: BoolArray
    stop_short: BoolArray


def pair_signals(z: FloatArray, params: PairParams) -> tuple[BoolArray, ...]:
    """Return (enter_long, enter_short, exit_long, exit_short, stop_long, stop_short) for a z series.

    Entries fire when z crosses the entry band from inside (not on every row beyond it), and only while
    z is still short of the stop: a spread already past the stop is not entered.
    """
    before = np.r_[np.nan, z[:-1]]
    with np.errstate(invalid="ignore"):  # NaN (warm-up) compares False: no signal
        enter_long = (z <= -params.entry_z) & (before > -params.entry_z) & (z > -params.stop_z)
        enter_short = (z >= params.entry_z) & (before < params.entry_z) & (z < params.stop_z)
        exit_long, exit_short = z >= -params.exit_z, z <= params.exit_z
        stop_long, stop_short = z <= -params.stop_z, z >= params.stop_z
    return enter_long, enter_short, exit_long, exit_short, stop_long, stop_short


def aligned(y: CandleFrame, x: CandleFrame) -> tuple[CandleFrame, CandleFrame]:
    """Return both frames restricted to the open times they share (a pair trades only when both do)."""
    common = np.intersect1d(y.timestamp, x.timestamp, assume_unique=True)
    pick_y = np.searchsorted(y.timestamp, common)
    pick_x = np.searchsorted(x.timestamp, common)

    def take(frame: CandleFrame, rows: IntArray) -> CandleFrame:
        return CandleFrame(frame.timestamp[rows], frame.open[rows], frame.high[rows], frame.low[rows],
                           frame.close[rows], frame.volume[rows])

    return take(y, pick_y), take(x, pick_x)


def compute_pair(y: CandleFrame, x: CandleFrame, params: PairParams) -> PairSignals:
    """Return beta, spread, z and signals for two frames with the same open times (see ``aligned``)."""
    if not np.array_equal(y.timestamp, x.timestamp):
        raise StrategyError("pairs: the two legs must have the same candle times (use aligned())")
    log_y, log_x = np.log(y.close), np.log(x.close)
    fit: Regression = rolling_ols(log_y, log_x, params.window)
    gap = spread(log_y, log_x, fit)
    if np.isnan(gap[params.window - 1:]).any():  # a window where x never moved: no hedge ratio
        raise StrategyError("pairs: the second leg's price is constant over a whole window")
    z = ewma_zscore(gap, params.halflife).zscore
    return PairSignals(y.timestamp, fit.beta, gap, z, *pair_signals(z, params))
