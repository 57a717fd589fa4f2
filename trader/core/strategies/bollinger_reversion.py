"""Bollinger mean reversion: buy a close stretched below the lower band once it is confirmed (RSI
oversold and/or a close back inside the band), exit at the middle or upper band. Short side
mirrored (above the upper band, exit at the middle or lower band).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from trader.core.domain.candles import CandleFrame, FloatArray, IntArray
from trader.core.indicators import Regime, atr, bollinger, rsi, wilder_warmup
from trader.core.strategies.base import BoolArray, Param, SignalFrame, Strategy
from trader.core.strategies.levels import PERCENT_PARAMS
from trader.core.strategies.regime import REGIME_PARAMS, RegimeView, regime_history
from trader.core.strategies.scoring import EntryRows, SignalBuilder, clipped_ratio, first_ready

REASONS = ("outside_band", "rsi", "reentry", "regime", "exit_band")
_OUTSIDE, _RSI, _REENTRY, _REGIME, _EXIT = (1 << i for i in range(len(REASONS)))


@dataclass(frozen=True, slots=True)
class _Indicators:
    upper: FloatArray
    middle: FloatArray
    lower: FloatArray
    strength: FloatArray
    range_: FloatArray
    start: int  # first row where every indicator (and the previous candle's band) is defined


class BollingerReversionStrategy(Strategy):
    """Fade closes outside the Bollinger Bands back toward the middle band."""

    name = "bollinger_reversion"
    description = "Close outside a Bollinger Band with RSI or re-entry confirmation; exit at a band"
    params_spec = MappingProxyType(
        {
            "bb_period": Param(20, 2, 1000, 1, doc="Bollinger Band period"),
            "bb_std": Param(2.0, 0.5, 5.0, 0.1, doc="band width in population standard deviations"),
            "rsi_period": Param(14, 2, 100, 1, doc="RSI period"),
            "rsi_oversold": Param(30.0, 1.0, 50.0, 1.0, doc="long needs RSI below this (short: above 100-x)"),
            "confirm": Param(
                "rsi",
                choices=("rsi", "reentry", "both", "either"),
                doc="rsi: close outside + RSI; reentry: previous close outside, this one back inside; "
                "both: re-entry with RSI past the level on either candle; either: rsi or reentry",
            ),
            "exit_at": Param("middle", choices=("middle", "far"), doc="exit at the middle or the far band"),
            "atr_period": Param(14, 2, 100, 1, doc="ATR period for the stop"),
            "stop_atr_mult": Param(2.0, 0.1, 20.0, 0.1, doc="stop = close -/+ k x ATR (unless stop_pct)"),
            **PERCENT_PARAMS,
            **REGIME_PARAMS,
        }
    )

    @property
    def required_history(self) -> int:
        """Return the candles after which RSI and ATR have forgotten their seeds (< 1e-18)."""
        return 1 + max(
            self.int_param("bb_period") + 1,
            wilder_warmup(self.int_param("rsi_period")) + 1,
            wilder_warmup(self.int_param("atr_period")),
            regime_history(self),
        )

    def compute(self, candles: CandleFrame) -> SignalFrame:
        """Return entries, exits, confidence and levels for every candle in one vectorised pass."""
        c = candles.close
        ind = self._indicators(candles)
        regime = RegimeView(self, candles)
        out = SignalBuilder(candles.timestamp, REASONS)
        far = self.str_param("exit_at") == "far"
        for sign in (1.0, -1.0):
            target = (ind.upper if sign > 0 else ind.lower) if far else ind.middle
            rows = self._candidates(c, ind, sign)
            out.add_entries(self._confirm(rows, sign, c, ind, target, regime), short=sign < 0)
        exit_long = c >= (ind.upper if far else ind.middle)
        exit_short = c <= (ind.lower if far else ind.middle)
        out.add_exits(exit_long, exit_short, _EXIT)
        del ind, regime  # free the indicator columns first: the output columns then reuse that memory
        return out.build(self.float_param("stop_pct"), self.float_param("take_profit_pct"))

    def _indicators(self, candles: CandleFrame) -> _Indicators:
        c = candles.close
        bands = bollinger(c, self.int_param("bb_period"), self.float_param("bb_std"))
        strength = rsi(c, self.int_param("rsi_period"))
        range_ = atr(candles.high, candles.low, c, self.int_param("atr_period"))
        start = max(first_ready(bands.middle, strength) + 1, first_ready(range_))
        return _Indicators(bands.upper, bands.middle, bands.lower, strength, range_, start)

    def _candidates(self, c: FloatArray, ind: _Indicators, sign: float) -> IntArray:
        """Rows the confirmation mode accepts, from full-column comparisons; ``_confirm`` repeats
        the same expressions on these rows and adds the target and regime checks."""
        band = ind.lower if sign > 0 else ind.upper
        # start >= 1 (the previous candle's band must exist), so the window begins at start - 1.
        first = ind.start - 1
        outside = sign * (band[first:] - c[first:]) > 0
        strength = ind.strength[first:] if sign > 0 else 100 - ind.strength[first:]
        oversold = strength < self.float_param("rsi_oversold")
        now, before = outside[1:], outside[:-1]
        reentry = before & ~now
        mode = self.str_param("confirm")
        if mode == "rsi":
            accepted: BoolArray = now & oversold[1:]
        elif mode == "reentry":
            accepted = reentry
        elif mode == "both":
            accepted = reentry & (oversold[1:] | oversold[:-1])
        else:  # either
            accepted = (now & oversold[1:]) | reentry
        return np.flatnonzero(accepted) + ind.start

    def _confirm(
        self,
        rows: IntArray,
        sign: float,
        c: FloatArray,
        ind: _Indicators,
        target: FloatArray,
        regime: RegimeView,
    ) -> EntryRows:
        """Keep the candidate rows the confirmation mode accepts; score and price them."""
        band = ind.lower if sign > 0 else ind.upper
        close, prev_close = c[rows], c[rows - 1]
        outside = sign * (band[rows] - close) > 0
        reentry = (sign * (band[rows - 1] - prev_close) > 0) & ~outside
        level = self.float_param("rsi_oversold")
        strength = ind.strength[rows] if sign > 0 else 100 - ind.strength[rows]
        prev_strength = ind.strength[rows - 1] if sign > 0 else 100 - ind.strength[rows - 1]
        rsi_now = strength < level
        rsi_recent = rsi_now | (prev_strength < level)
        mode = self.str_param("confirm")
        keep = {
            "rsi": outside & rsi_now,
            "reentry": reentry,
            "both": reentry & rsi_recent,
            "either": (outside & rsi_now) | reentry,
        }[mode]
        keep &= sign * (target[rows] - close) > 0  # the exit target is still ahead
        keep[keep] = regime.allows(rows[keep], Regime.RANGING)
        rows, close = rows[keep], close[keep]
        outside, reentry, rsi_fired = outside[keep], reentry[keep], rsi_recent[keep]
        sigma = (ind.upper[rows] - ind.middle[rows]) / self.float_param("bb_std")
        stretch = clipped_ratio(sign * (ind.middle[rows] - close), sigma * (self.float_param("bb_std") + 1))
        depth = np.clip((level - np.minimum(strength[keep], prev_strength[keep])) / level, 0.0, 1.0)
        score = (stretch + np.where(rsi_fired, 0.5 + 0.5 * depth, 0.0) + reentry) / 3
        bits = np.full(len(rows), _REGIME if self.bool_param("regime_filter") else 0)
        bits |= np.where(outside, _OUTSIDE, 0) | np.where(rsi_fired, _RSI, 0) | np.where(reentry, _REENTRY, 0)
        stop = close - sign * self.float_param("stop_atr_mult") * ind.range_[rows]
        return EntryRows(rows, close, score, stop, target[rows], bits)
