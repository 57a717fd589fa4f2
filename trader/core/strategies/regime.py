"""Regime filter: veto entries on candles whose market regime does not suit the strategy.

Breakout trades only TRENDING candles, mean reversion only RANGING ones; HIGH_VOLATILITY and the
warm-up (UNKNOWN) veto both. Strategies merge ``REGIME_PARAMS`` into their own parameter spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from trader.core import memo
from trader.core.domain.candles import CandleFrame, FloatArray, IntArray
from trader.core.indicators import (
    Regime,
    adx,
    adx_warmup,
    percentile_rank,
    percentile_rank_at,
    realised_volatility,
    regime_labels,
)
from trader.core.indicators.regime import Int8Array
from trader.core.strategies.base import BoolArray, Param, Strategy

REGIME_PARAMS: Mapping[str, Param] = MappingProxyType(
    {
        "regime_filter": Param(True, doc="only enter in the strategy's regime (off: ignore regimes)"),
        "adx_period": Param(14, 2, 100, 1, doc="ADX period for trend strength"),
        "adx_threshold": Param(25.0, 5.0, 60.0, 1.0, doc="ADX at or above this is trending"),
        "vol_window": Param(30, 2, 500, 1, doc="candles of log returns in the realised volatility"),
        "vol_lookback": Param(1000, 20, 20_000, 10, doc="candles of history the volatility is ranked in"),
        "vol_stride": Param(20, 1, 1000, 1, doc="rank against every n-th past candle (speed)"),
        "high_vol_percentile": Param(
            0.9, 0.5, 1.0, 0.01, doc="volatility rank at or above this is high-volatility"
        ),
    }
)


class RegimeView:
    """Regime labels of one candle frame under a strategy's parameters, computed on demand.

    Strategies ask only about their candidate rows (``allows``), so the volatility rank is computed
    for those few candles; ``labels`` gives every candle (charts, reports, tests).
    """

    def __init__(self, strategy: Strategy, candles: CandleFrame) -> None:
        self._strategy = strategy
        self._candles = candles
        self._adx: FloatArray | None = None
        self._vol: FloatArray | None = None

    @property
    def inputs(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return the candle columns the labels are computed from (high, low, close)."""
        return self._candles.high, self._candles.low, self._candles.close

    def labels(self, rows: IntArray | None = None) -> Int8Array:
        """Return the Regime code of ``rows`` (default: every candle)."""
        s = self._strategy
        at = np.arange(len(self._candles)) if rows is None else rows
        if self._adx is None or self._vol is None:
            c = self._candles
            self._adx = adx(c.high, c.low, c.close, s.int_param("adx_period"))
            self._vol = realised_volatility(c.close, s.int_param("vol_window"))
        if memo.active() is not None:  # an optimiser batch: every candle's labels once, then indexed
            every = _every_label(self._adx, self._vol, s.int_param("vol_lookback"), s.int_param("vol_stride"),
                                 s.float_param("adx_threshold"), s.float_param("high_vol_percentile"))
            picked: Int8Array = every[at]
            return picked
        rank = percentile_rank_at(self._vol, at, s.int_param("vol_lookback"), s.int_param("vol_stride"))
        return regime_labels(
            self._adx[at], rank, s.float_param("adx_threshold"), s.float_param("high_vol_percentile")
        )

    def allows(self, rows: IntArray, wanted: Regime) -> BoolArray:
        """Return True for rows in the ``wanted`` regime, or for every row if the filter is off."""
        if not self._strategy.bool_param("regime_filter"):
            return np.ones(len(rows), dtype=np.bool_)
        allowed: BoolArray = np.equal(self.labels(rows), int(wanted))
        return allowed


@memo.memoised
def _every_label(adx_values: FloatArray, volatility: FloatArray, lookback: int, stride: int,
                 threshold: float, high: float) -> Int8Array:
    """Return ``regime_labels`` of every candle: labels are elementwise, so indexing this gives the
    labels of any rows (the rank of a row is ``percentile_rank_at``'s for it under a cache)."""
    return regime_labels(adx_values, percentile_rank(volatility, lookback, stride), threshold, high)


def regime_history(strategy: Strategy) -> int:
    """Return candles the regime filter needs before its labels stop depending on the start."""
    if not strategy.bool_param("regime_filter"):
        return 0
    ranked = strategy.int_param("vol_window") + 1 + strategy.int_param("vol_lookback")
    return max(adx_warmup(strategy.int_param("adx_period")), ranked)
