"""Breakout: enter when the close breaks the previous N-candle extreme, with trend, RSI and volume
confirmations that are each either required or only scored (parameters). The short side mirrors
the long side; the exchange's capabilities decide whether shorts are traded.

Indicators are computed for every candle (TA-Lib); confirmations, confidence and levels only on
the candidate candles that broke a level, which keeps a year of 1-minute candles well inside the
time budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from trader.core import memo
from trader.core.domain.candles import CandleFrame, FloatArray, IntArray
from trader.core.errors import StrategyError
from trader.core.indicators import (
    Regime,
    atr,
    ema,
    ema_warmup,
    ratio_to_average,
    rolling_max,
    rolling_min,
    rsi,
    volume_average,
    wilder_warmup,
)
from trader.core.strategies.base import BoolArray, Param, SignalFrame, Strategy
from trader.core.strategies.levels import PERCENT_PARAMS
from trader.core.strategies.regime import REGIME_PARAMS, RegimeView, regime_history
from trader.core.strategies.scoring import EntryRows, SignalBuilder, clipped_ratio, first_ready

REASONS = ("breakout", "trend", "rsi", "volume", "regime", "exit_slow_ema")
_BREAK, _TREND, _RSI, _VOLUME, _REGIME, _EXIT = (1 << i for i in range(len(REASONS)))
# the parameter that makes each confirmation required (off: only scored)
_REQUIRE = {_TREND: "require_trend", _RSI: "require_rsi", _VOLUME: "require_volume"}
# the parameters _candidates does not read: the trend's, and those that only price the kept rows
_PER_TRIAL = frozenset(
    {"ema_fast", "require_trend", "stop_mode", "stop_atr_mult", "level_buffer_atr", "reward_risk"}
)


@dataclass(frozen=True, slots=True)
class _Indicators:
    fast: FloatArray
    slow: FloatArray
    strength: FloatArray
    range_: FloatArray
    raw_volume: FloatArray
    volume_average: FloatArray
    high: FloatArray  # rolling extremes including the current candle: row i breaks high[i - 1]
    low: FloatArray
    start: int  # first row where every indicator (and the previous candle's extremes) is defined


@dataclass(frozen=True, slots=True)
class _Candidates:
    """Break rows of one side that passed the required volume and RSI checks, with the scores that
    do not read the fast EMA."""

    rows: IntArray
    close: FloatArray
    range_: FloatArray
    level: FloatArray  # the broken extreme (the previous candle's rolling high or low)
    broke: FloatArray  # how far the close broke the level, in ATRs, clipped to [0, 1]
    rsi_score: FloatArray
    volume_score: FloatArray
    bits: IntArray  # break, regime and the fired RSI and volume bits

    def select(self, keep: BoolArray) -> _Candidates:
        """Return only the rows where ``keep`` is true."""
        return _Candidates(
            self.rows[keep], self.close[keep], self.range_[keep], self.level[keep], self.broke[keep],
            self.rsi_score[keep], self.volume_score[keep], self.bits[keep],
        )


@memo.memoised
def _breaks(close: FloatArray, high: FloatArray, low: FloatArray, start: int) -> tuple[IntArray, IntArray]:
    """Return the rows from ``start`` on whose close breaks the previous candle's rolling ``high``
    (above) and ``low`` (below): row i breaks the extreme of rows i-lookback..i-1, the rolling extreme
    ending at i-1. Memoised: an optimiser's trials of one lookback break at the same rows."""
    ready = close[start:]
    broke = np.greater(ready, high[start - 1 : len(close) - 1])
    broke_high = np.flatnonzero(broke) + start
    broke_low = np.flatnonzero(np.less(ready, low[start - 1 : len(close) - 1], out=broke)) + start
    return broke_high, broke_low  # one mask served both sides: a second would fault in fresh pages


@memo.memoised
def _crossings(close: FloatArray, slow: FloatArray) -> tuple[BoolArray, BoolArray]:
    """Return where the close is below the slow EMA (a long's exit) and above it (a short's).
    Memoised: the same for every trial of a study that does not search the slow EMA."""
    return close < slow, close > slow


class BreakoutStrategy(Strategy):
    """Trade breaks of the recent high (long) or low (short), confirmed by trend, RSI and volume."""

    name = "breakout"
    description = "Close breaks the previous N-candle high/low with EMA trend, RSI band and volume spike"
    params_spec = MappingProxyType(
        {
            "lookback": Param(20, 2, 1000, 1, doc="break the extreme of this many previous candles"),
            "ema_fast": Param(20, 2, 500, 1, doc="fast EMA period (trend: fast above slow)"),
            "ema_slow": Param(50, 3, 1000, 1, doc="slow EMA period (also the exit line)"),
            "rsi_period": Param(14, 2, 100, 1, doc="RSI period"),
            "rsi_low": Param(50.0, 0.0, 100.0, 1.0, doc="long needs RSI above this (short: below 100-x)"),
            "rsi_high": Param(75.0, 0.0, 100.0, 1.0, doc="long needs RSI below this (short: above 100-x)"),
            "volume_period": Param(20, 2, 500, 1, doc="volume moving-average period"),
            "volume_mult": Param(1.5, 0.1, 20.0, 0.1, doc="volume spike: volume > k x its average"),
            "require_trend": Param(True, doc="trend confirmation required (off: only scored)"),
            "require_rsi": Param(True, doc="RSI confirmation required (off: only scored)"),
            "require_volume": Param(True, doc="volume confirmation required (off: only scored)"),
            "atr_period": Param(14, 2, 100, 1, doc="ATR period for stops and scoring"),
            "stop_mode": Param("level", choices=("level", "atr"), doc="stop past broken level or k x ATR"),
            "stop_atr_mult": Param(2.0, 0.1, 20.0, 0.1, doc="atr mode: stop = close -/+ k x ATR"),
            "level_buffer_atr": Param(0.5, 0.0, 10.0, 0.1, doc="level mode: stop this many ATRs past level"),
            "reward_risk": Param(2.0, 0.1, 20.0, 0.1, doc="take-profit at this multiple of the risk"),
            **PERCENT_PARAMS,
            "exit_on_slow_ema": Param(True, doc="exit long when close < slow EMA (short: above)"),
            **REGIME_PARAMS,
        }
    )

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.int_param("ema_fast") >= self.int_param("ema_slow"):
            raise StrategyError(f"{self.name}: ema_fast must be shorter than ema_slow")
        if self.float_param("rsi_low") >= self.float_param("rsi_high"):
            raise StrategyError(f"{self.name}: rsi_low must be below rsi_high")

    @property
    def required_history(self) -> int:
        """Return the candles after which every recursive indicator has forgotten its seed (< 1e-18)."""
        return 1 + max(
            self.int_param("lookback") + 1,
            ema_warmup(self.int_param("ema_slow")),
            wilder_warmup(self.int_param("rsi_period")),
            wilder_warmup(self.int_param("atr_period")),
            self.int_param("volume_period"),
            regime_history(self),
        )

    def compute(self, candles: CandleFrame) -> SignalFrame:
        """Return entries, exits, confidence and levels for every candle in one vectorised pass."""
        c = candles.close
        ind = self._indicators(candles)
        regime = RegimeView(self, candles)
        out = SignalBuilder(candles.timestamp, REASONS)
        broke_high, broke_low = _breaks(c, ind.high, ind.low, ind.start)
        out.add_entries(self._confirm(broke_high, 1.0, c, ind, regime), short=False)
        out.add_entries(self._confirm(broke_low, -1.0, c, ind, regime), short=True)
        if self.bool_param("exit_on_slow_ema"):
            out.add_exits(*_crossings(c, ind.slow), _EXIT)
        # Free the indicator columns before the output columns are allocated, so those reuse the
        # memory instead of faulting in fresh pages (a measurable share of the time on 500k rows).
        del ind, regime
        return out.build(self.float_param("stop_pct"), self.float_param("take_profit_pct"))

    def _indicators(self, candles: CandleFrame) -> _Indicators:
        c = candles.close
        fast, slow = ema(c, self.int_param("ema_fast")), ema(c, self.int_param("ema_slow"))
        strength = rsi(c, self.int_param("rsi_period"))
        range_ = atr(candles.high, candles.low, c, self.int_param("atr_period"))
        # The volume ratio is only ever read on candidate rows, so only the average is full-length.
        average = volume_average(candles.volume, self.int_param("volume_period"))
        high = rolling_max(candles.high, self.int_param("lookback"))
        low = rolling_min(candles.low, self.int_param("lookback"))
        start = max(first_ready(fast, slow, strength, range_, average), first_ready(high, low) + 1)
        return _Indicators(fast, slow, strength, range_, candles.volume, average, high, low, start)

    def _confirm(
        self, rows: IntArray, sign: float, c: FloatArray, ind: _Indicators, regime: RegimeView
    ) -> EntryRows:
        """Keep the candidate rows whose required confirmations fired; score and price them."""
        # The volume, RSI and regime checks (and the scores that do not read the fast EMA) are
        # shared, under an optimiser cache, by every trial of one lookback; the trend prunes what is
        # left per trial. Alone, the regime (the costliest check) runs last, on the fewest rows.
        cache = memo.active()
        if cache is None:
            kept = self._candidates(rows, sign, c, ind, None)
        else:
            arrays = (rows, c, ind.strength, ind.range_, ind.raw_volume, ind.volume_average,
                      ind.high, ind.low, *regime.inputs)
            shared = tuple(sorted((k, v) for k, v in self.params.items() if k not in _PER_TRIAL))
            key = ("breakout._candidates", sign, tuple(map(id, arrays)), shared)
            kept = cache.shared(key, arrays, lambda: self._candidates(rows, sign, c, ind, regime))
        (spread, trend), = self._checks(kept.rows, sign, ind, _TREND).values()
        if self.bool_param(_REQUIRE[_TREND]):
            kept, spread, trend = kept.select(trend), spread[trend], trend[trend]
        if cache is None:
            allowed = regime.allows(kept.rows, Regime.TRENDING)
            kept, spread, trend = kept.select(allowed), spread[allowed], trend[allowed]
        score = (
            kept.broke + np.where(trend, 0.5 + 0.5 * clipped_ratio(spread, kept.range_), 0.0)
            + kept.rsi_score + kept.volume_score
        ) / 4
        bits = kept.bits | np.where(trend, _TREND, 0)
        if self.str_param("stop_mode") == "atr":
            stop = kept.close - sign * self.float_param("stop_atr_mult") * kept.range_
        else:
            stop = kept.level - sign * self.float_param("level_buffer_atr") * kept.range_
        take = kept.close + self.float_param("reward_risk") * (kept.close - stop)
        return EntryRows(kept.rows, kept.close, score, stop, take, bits)

    def _candidates(
        self, rows: IntArray, sign: float, c: FloatArray, ind: _Indicators, regime: RegimeView | None
    ) -> _Candidates:
        """Return the rows whose required volume and RSI confirmations fired (and in the trending
        regime, given ``regime``), with the scores and bits that do not read the fast EMA."""
        # Each required check prunes the rows the next one reads, the most selective (volume) first.
        for bit in (_VOLUME, _RSI):
            if self.bool_param(_REQUIRE[bit]):
                rows = rows[self._checks(rows, sign, ind, bit)[bit][1]]
        if regime is not None:
            rows = rows[regime.allows(rows, Regime.TRENDING)]
        checks = self._checks(rows, sign, ind, _RSI, _VOLUME)
        (strength, in_band), (volume, spike) = checks[_RSI], checks[_VOLUME]
        lo, hi = self.float_param("rsi_low"), self.float_param("rsi_high")
        mult = self.float_param("volume_mult")
        close, range_ = c[rows], ind.range_[rows]
        level = (ind.high if sign > 0 else ind.low)[rows - 1]
        bits = np.full(len(rows), _BREAK | (_REGIME if self.bool_param("regime_filter") else 0))
        for bit, (_, fired) in checks.items():
            bits |= np.where(fired, bit, 0)
        return _Candidates(
            rows, close, range_, level, clipped_ratio(sign * (close - level), range_),
            np.where(in_band, 1 - 0.5 * np.abs(strength - (lo + hi) / 2) / ((hi - lo) / 2), 0.0),
            np.where(spike, 0.5 + 0.5 * np.clip((volume - mult) / mult, 0.0, 1.0), 0.0), bits,
        )

    def _checks(
        self, rows: IntArray, sign: float, ind: _Indicators, *wanted: int
    ) -> dict[int, tuple[FloatArray, BoolArray]]:
        """Return, for each ``wanted`` confirmation bit, its measure on ``rows`` and where it fired:
        trend = signed fast - slow EMA spread > 0; RSI (mirrored for shorts) inside (rsi_low,
        rsi_high); volume ratio to its average > volume_mult."""
        out: dict[int, tuple[FloatArray, BoolArray]] = {}
        if _TREND in wanted:
            spread = sign * (ind.fast[rows] - ind.slow[rows])
            out[_TREND] = spread, spread > 0
        if _RSI in wanted:
            strength = ind.strength[rows] if sign > 0 else 100 - ind.strength[rows]
            lo, hi = self.float_param("rsi_low"), self.float_param("rsi_high")
            out[_RSI] = strength, (strength > lo) & (strength < hi)
        if _VOLUME in wanted:
            ratio = ratio_to_average(ind.raw_volume[rows], ind.volume_average[rows])
            out[_VOLUME] = ratio, ratio > self.float_param("volume_mult")
        return out
