"""Multi-timeframe momentum: the trend is read on a higher timeframe (fast EMA above the slow EMA and
the close above the slow EMA, on ``trend_factor``x candles), entries on the strategy's own candles
when momentum turns with it (RSI crosses up through ``rsi_entry``). Exit when momentum fades (RSI
below ``rsi_exit``) or the higher trend flips. Short side mirrored.

The higher-timeframe candle is used only once it has closed (``strategies.timeframes``); the
look-ahead checks prove it (tests/unit/core/strategies/test_momentum.py flags a peeking variant).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from trader.core.domain.candles import CandleFrame, FloatArray
from trader.core.errors import StrategyError
from trader.core.indicators import atr, ema, ema_warmup, rsi, wilder_warmup
from trader.core.strategies.base import BoolArray, Param, SignalFrame, Strategy
from trader.core.strategies.levels import PERCENT_PARAMS
from trader.core.strategies.scoring import EntryRows, SignalBuilder, clipped_ratio, previous
from trader.core.strategies.timeframes import HigherTimeframe, higher_timeframe

REASONS = ("higher_trend", "rsi_cross", "exit_momentum", "exit_trend")
_TREND, _CROSS, _EXIT_MOMENTUM, _EXIT_TREND = (1 << i for i in range(len(REASONS)))


class MomentumStrategy(Strategy):
    """Trade lower-timeframe momentum in the direction of the closed higher-timeframe trend."""

    name = "mtf_momentum"
    description = "Higher-timeframe EMA trend (closed candles only), entry on an RSI momentum cross"
    params_spec = MappingProxyType(
        {
            "trend_factor": Param(24, 2, 96, 1, doc="higher timeframe = this many candles (1h x 24 = 1d)"),
            "trend_fast": Param(10, 2, 200, 1, doc="fast EMA period on the higher timeframe"),
            "trend_slow": Param(30, 3, 400, 1, doc="slow EMA period on the higher timeframe"),
            "rsi_period": Param(14, 2, 100, 1, doc="RSI period on the strategy's candles"),
            "rsi_entry": Param(60.0, 50.0, 90.0, 1.0, doc="long: RSI crosses above this (short: 100-x)"),
            "rsi_exit": Param(15.0, 5.0, 50.0, 1.0, doc="long exits when RSI is below this (short: 100-x)"),
            "exit_on_trend_flip": Param(True, doc="exit when the higher-timeframe trend no longer agrees"),
            "atr_period": Param(14, 2, 100, 1, doc="ATR period for the stop"),
            "stop_atr_mult": Param(4.0, 0.1, 20.0, 0.1, doc="stop = close -/+ k x ATR (unless stop_pct)"),
            "reward_risk": Param(4.0, 0.1, 20.0, 0.1, doc="take-profit at this multiple of the risk"),
            **PERCENT_PARAMS,
        }
    )

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.int_param("trend_fast") >= self.int_param("trend_slow"):
            raise StrategyError(f"{self.name}: trend_fast must be shorter than trend_slow")

    @property
    def required_history(self) -> int:
        """Return candles for the higher-timeframe slow EMA to forget its seed (< 1e-18), plus two
        buckets (a live tail's first bucket may be partial), or the RSI/ATR warm-up if longer."""
        factor = self.int_param("trend_factor")
        return 1 + max(
            factor * (ema_warmup(self.int_param("trend_slow")) + 2),
            wilder_warmup(self.int_param("rsi_period")) + 1,
            wilder_warmup(self.int_param("atr_period")),
        )

    def higher(self, candles: CandleFrame) -> HigherTimeframe:
        """Return the higher-timeframe candles and each row's last closed one (overridable in tests)."""
        return higher_timeframe(candles, self.int_param("trend_factor"))

    def trend(self, candles: CandleFrame) -> FloatArray:
        """Return per row +1 (up), -1 (down), 0 (neither) or NaN (warm-up) from closed higher candles."""
        upper = self.higher(candles)
        c = upper.candles.close
        if len(c) == 0:
            return np.full(len(candles), np.nan)
        fast, slow = ema(c, self.int_param("trend_fast")), ema(c, self.int_param("trend_slow"))
        with np.errstate(invalid="ignore"):
            up = (fast > slow) & (c > slow)
            down = (fast < slow) & (c < slow)
        sign = np.where(up, 1.0, np.where(down, -1.0, 0.0))
        sign[np.isnan(slow)] = np.nan
        return upper.at_rows(sign)

    def compute(self, candles: CandleFrame) -> SignalFrame:
        """Return entries, exits, confidence and levels for every candle in one vectorised pass."""
        c = candles.close
        direction = self.trend(candles)
        strength = rsi(c, self.int_param("rsi_period"))
        range_ = atr(candles.high, candles.low, c, self.int_param("atr_period"))
        before = previous(strength)
        entry, leave = self.float_param("rsi_entry"), self.float_param("rsi_exit")
        out = SignalBuilder(candles.timestamp, REASONS)
        with np.errstate(invalid="ignore"):  # NaN (warm-up) compares False: no signal
            for sign in (1.0, -1.0):
                level = entry if sign > 0 else 100 - entry
                crossed = sign * (strength - level) > 0
                crossed &= sign * (before - level) <= 0
                crossed &= (direction == sign) & ~np.isnan(range_)
                rows = np.flatnonzero(crossed)
                out.add_entries(self._priced(rows, sign, c, strength, range_), short=sign < 0)
            momentum_long: BoolArray = strength < leave
            momentum_short: BoolArray = strength > 100 - leave
            out.add_exits(momentum_long, momentum_short, _EXIT_MOMENTUM)
            if self.bool_param("exit_on_trend_flip"):
                out.add_exits(direction < 1, direction > -1, _EXIT_TREND)
        return out.build(self.float_param("stop_pct"), self.float_param("take_profit_pct"))

    def _priced(self, rows: np.ndarray, sign: float, c: FloatArray, strength: FloatArray,
                range_: FloatArray) -> EntryRows:
        close = c[rows]
        entry = self.float_param("rsi_entry")
        push = sign * (strength[rows] - 50.0)
        # confidence: how far RSI went past the line, relative to the room left above it
        score = 0.5 + 0.5 * clipped_ratio(push - (entry - 50.0), np.full(len(rows), 100.0 - entry))
        stop = close - sign * self.float_param("stop_atr_mult") * range_[rows]
        take = close + self.float_param("reward_risk") * (close - stop)
        bits = np.full(len(rows), _TREND | _CROSS, dtype=np.int64)
        return EntryRows(rows, close, score, stop, take, bits)
