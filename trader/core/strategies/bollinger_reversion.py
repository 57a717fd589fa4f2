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
        # per candle and side: close past the band, RSI past the oversold level (one pair of masks
        # serves both sides: fresh full-length masks cost page faults)
        outside, oversold = np.empty(len(c), dtype=np.bool_), np.empty(len(c), dtype=np.bool_)
        for sign in (1.0, -1.0):
            target = (ind.upper if sign > 0 else ind.lower) if far else ind.middle
            _beyond(ind.lower if sign > 0 else ind.upper, c, sign, out=outside)
            _oversold(ind.strength, sign, self.float_param("rsi_oversold"), out=oversold)
            start = ind.start  # >= 1: the previous candle's band and RSI exist
            every = _Checks.of(outside, oversold, slice(start, None), slice(start - 1, -1))
            rows = np.flatnonzero(self._accepts(every)) + start
            checks = _Checks.of(outside, oversold, rows, rows - 1)
            out.add_entries(self._confirm(rows, sign, c, ind, checks, target, regime), short=sign < 0)
        del outside, oversold
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

    def _confirm(
        self,
        rows: IntArray,
        sign: float,
        c: FloatArray,
        ind: _Indicators,
        checks: _Checks,
        target: FloatArray,
        regime: RegimeView,
    ) -> EntryRows:
        """Keep the accepted rows (their ``checks``) whose exit target is still ahead and whose regime
        allows; score and price them."""
        keep = _beyond(target[rows], c[rows], sign)  # the exit target is still ahead
        rows, checks = rows[keep], checks.select(keep)
        keep = regime.allows(rows, Regime.RANGING)
        rows, checks = rows[keep], checks.select(keep)
        close, level = c[rows], self.float_param("rsi_oversold")
        reentry, rsi_fired = checks.reentry, checks.rsi_recent
        sigma = (ind.upper[rows] - ind.middle[rows]) / self.float_param("bb_std")
        stretch = clipped_ratio(sign * (ind.middle[rows] - close), sigma * (self.float_param("bb_std") + 1))
        lowest = np.minimum(_mirrored(ind.strength[rows], sign), _mirrored(ind.strength[rows - 1], sign))
        depth = np.clip((level - lowest) / level, 0.0, 1.0)
        score = (stretch + np.where(rsi_fired, 0.5 + 0.5 * depth, 0.0) + reentry) / 3
        bits = np.full(len(rows), _REGIME if self.bool_param("regime_filter") else 0)
        bits |= np.where(checks.outside, _OUTSIDE, 0) | np.where(rsi_fired, _RSI, 0)
        bits |= np.where(reentry, _REENTRY, 0)
        stop = close - sign * self.float_param("stop_atr_mult") * ind.range_[rows]
        return EntryRows(rows, close, score, stop, target[rows], bits)

    def _accepts(self, checks: _Checks) -> BoolArray:
        """Return where the confirmation mode accepts the rows ``checks`` describe."""
        mode = self.str_param("confirm")
        if mode == "rsi":
            return checks.outside & checks.rsi_now
        if mode == "reentry":
            return checks.reentry
        if mode == "both":
            return checks.reentry & checks.rsi_recent
        return (checks.outside & checks.rsi_now) | checks.reentry  # either


_Index = slice | IntArray  # the rows of a _Checks: a run of candles (a slice) or picked rows


@dataclass(frozen=True, slots=True)
class _Checks:
    """The confirmations of some rows, one entry per row."""

    outside: BoolArray  # the close is past the band (below the lower one for a long)
    reentry: BoolArray  # the previous close was past the band, this one is back inside
    rsi_now: BoolArray  # RSI (mirrored for shorts: 100 - RSI) below the oversold level on this candle
    rsi_recent: BoolArray  # ... on this candle or the previous one

    @staticmethod
    def of(outside: BoolArray, oversold: BoolArray, rows: _Index, before: _Index) -> _Checks:
        """Return the checks of ``rows`` (a slice or row indexes) from the per-candle masks; ``before``
        indexes each row's previous candle."""
        now, rsi_now = outside[rows], oversold[rows]
        return _Checks(now, outside[before] & ~now, rsi_now, rsi_now | oversold[before])

    def select(self, keep: BoolArray) -> _Checks:
        """Return the checks of the rows where ``keep`` is true."""
        return _Checks(self.outside[keep], self.reentry[keep], self.rsi_now[keep], self.rsi_recent[keep])


def _mirrored(strength: FloatArray, sign: float, out: FloatArray | None = None) -> FloatArray:
    """Return the RSI as the long side reads it: itself for a long, 100 - RSI for a short (into ``out``
    if given)."""
    if sign > 0:
        return strength
    mirrored: FloatArray = np.subtract(100, strength, out=out)
    return mirrored


_BLOCK = 16_384  # rows per block of the short side's oversold mask: its scratch stays in cache


def _oversold(strength: FloatArray, sign: float, level: float, out: BoolArray) -> BoolArray:
    """Write into ``out`` (and return it) where the mirrored RSI is below ``level``."""
    if sign > 0:
        oversold: BoolArray = np.less(strength, level, out=out)
        return oversold
    # block by block through one small scratch: a full-length 100 - RSI would fault in fresh pages
    scratch = np.empty(min(_BLOCK, len(strength)))
    for lo in range(0, len(strength), _BLOCK):
        part = strength[lo : lo + _BLOCK]
        np.less(_mirrored(part, sign, out=scratch[: len(part)]), level, out=out[lo : lo + _BLOCK])
    return out


def _beyond(level: FloatArray, close: FloatArray, sign: float, out: BoolArray | None = None) -> BoolArray:
    """Return where ``level`` lies beyond ``close`` on the ``sign`` side, i.e. sign * (level - close) > 0
    (compared directly: the same truth for floats, without the difference's full-length temporary)."""
    beyond: BoolArray = np.greater(level, close, out=out) if sign > 0 else np.less(level, close, out=out)
    return beyond
