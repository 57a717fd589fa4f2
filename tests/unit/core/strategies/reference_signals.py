"""The breakout and Bollinger signal passes as first written (every check on every candidate row, then
masks): the straightforward reference the tuned strategy modules must match bit for bit."""

from __future__ import annotations

import numpy as np

from trader.core.domain.candles import CandleFrame, FloatArray, IntArray
from trader.core.indicators import Regime, bollinger, ratio_to_average, rsi
from trader.core.strategies.bollinger_reversion import BollingerReversionStrategy
from trader.core.strategies.breakout import BreakoutStrategy
from trader.core.strategies.regime import RegimeView
from trader.core.strategies.scoring import EntryRows, SignalBuilder, clipped_ratio, first_ready

_BO_BREAK, _BO_TREND, _BO_RSI, _BO_VOLUME, _BO_REGIME, _BO_EXIT = (1 << i for i in range(6))
_BB_OUTSIDE, _BB_RSI, _BB_REENTRY, _BB_REGIME, _BB_EXIT = (1 << i for i in range(5))


def breakout_signals(s: BreakoutStrategy, candles: CandleFrame) -> tuple[np.ndarray, ...]:
    """Return the breakout SignalFrame's columns, computed the straightforward way."""
    c = candles.close
    ind = s._indicators(candles)  # the indicator columns are TA-Lib's either way
    regime = RegimeView(s, candles)
    out = SignalBuilder(candles.timestamp, ("breakout", "trend", "rsi", "volume", "regime", "exit_slow_ema"))
    ready, start = c[ind.start :], ind.start
    broke_high = np.flatnonzero(ready > ind.high[start - 1 : len(c) - 1]) + start
    broke_low = np.flatnonzero(ready < ind.low[start - 1 : len(c) - 1]) + start
    out.add_entries(_breakout_confirm(s, broke_high, 1.0, c, ind, regime), short=False)
    out.add_entries(_breakout_confirm(s, broke_low, -1.0, c, ind, regime), short=True)
    if s.bool_param("exit_on_slow_ema"):
        out.add_exits(c < ind.slow, c > ind.slow, _BO_EXIT)
    return _columns(out.build(s.float_param("stop_pct"), s.float_param("take_profit_pct")))


def _breakout_confirm(s: BreakoutStrategy, rows: IntArray, sign: float, c: FloatArray, ind: object,
                      regime: RegimeView) -> EntryRows:
    lo, hi = s.float_param("rsi_low"), s.float_param("rsi_high")
    mult = s.float_param("volume_mult")
    fast, slow, strength_all = ind.fast, ind.slow, ind.strength  # type: ignore[attr-defined]
    spread = sign * (fast[rows] - slow[rows])
    strength = strength_all[rows] if sign > 0 else 100 - strength_all[rows]
    ratio = ratio_to_average(ind.raw_volume[rows], ind.volume_average[rows])  # type: ignore[attr-defined]
    fired = {_BO_TREND: spread > 0, _BO_RSI: (strength > lo) & (strength < hi), _BO_VOLUME: ratio > mult}
    keep = np.ones(len(rows), dtype=np.bool_)
    for bit, flag in ((_BO_TREND, "require_trend"), (_BO_RSI, "require_rsi"), (_BO_VOLUME, "require_volume")):
        if s.bool_param(flag):
            keep &= fired[bit]
    keep[keep] = regime.allows(rows[keep], Regime.TRENDING)
    rows, spread, strength, volume = rows[keep], spread[keep], strength[keep], ratio[keep]
    fired = {bit: mask[keep] for bit, mask in fired.items()}
    range_all = ind.range_  # type: ignore[attr-defined]
    close, range_ = c[rows], range_all[rows]
    level = (ind.high if sign > 0 else ind.low)[rows - 1]  # type: ignore[attr-defined]
    score = (
        clipped_ratio(sign * (close - level), range_)
        + np.where(fired[_BO_TREND], 0.5 + 0.5 * clipped_ratio(spread, range_), 0.0)
        + np.where(fired[_BO_RSI], 1 - 0.5 * np.abs(strength - (lo + hi) / 2) / ((hi - lo) / 2), 0.0)
        + np.where(fired[_BO_VOLUME], 0.5 + 0.5 * np.clip((volume - mult) / mult, 0.0, 1.0), 0.0)
    ) / 4
    bits = np.full(len(rows), _BO_BREAK | (_BO_REGIME if s.bool_param("regime_filter") else 0))
    for bit, mask in fired.items():
        bits |= np.where(mask, bit, 0)
    if s.str_param("stop_mode") == "atr":
        stop = close - sign * s.float_param("stop_atr_mult") * range_
    else:
        stop = level - sign * s.float_param("level_buffer_atr") * range_
    take = close + s.float_param("reward_risk") * (close - stop)
    return EntryRows(rows, close, score, stop, take, bits)


def bollinger_signals(s: BollingerReversionStrategy, candles: CandleFrame) -> tuple[np.ndarray, ...]:
    """Return the Bollinger SignalFrame's columns, computed the straightforward way."""
    c = candles.close
    bands = bollinger(c, s.int_param("bb_period"), s.float_param("bb_std"))
    strength = rsi(c, s.int_param("rsi_period"))
    ind = s._indicators(candles)
    assert ind.upper is bands.upper or np.array_equal(ind.upper, bands.upper, equal_nan=True)
    start = max(first_ready(bands.middle, strength) + 1, first_ready(ind.range_))
    regime = RegimeView(s, candles)
    out = SignalBuilder(candles.timestamp, ("outside_band", "rsi", "reentry", "regime", "exit_band"))
    far = s.str_param("exit_at") == "far"
    for sign in (1.0, -1.0):
        target = (bands.upper if sign > 0 else bands.lower) if far else bands.middle
        rows = _bollinger_candidates(s, c, bands, strength, start, sign)
        entries = _bollinger_confirm(s, rows, sign, c, bands, strength, ind.range_, target, regime)
        out.add_entries(entries, short=sign < 0)
    exit_long = c >= (bands.upper if far else bands.middle)
    exit_short = c <= (bands.lower if far else bands.middle)
    out.add_exits(exit_long, exit_short, _BB_EXIT)
    return _columns(out.build(s.float_param("stop_pct"), s.float_param("take_profit_pct")))


def _bollinger_candidates(s: BollingerReversionStrategy, c: FloatArray, bands: object,
                          strength_all: FloatArray, start: int, sign: float) -> IntArray:
    band = bands.lower if sign > 0 else bands.upper  # type: ignore[attr-defined]
    first = start - 1
    outside = sign * (band[first:] - c[first:]) > 0
    strength = strength_all[first:] if sign > 0 else 100 - strength_all[first:]
    oversold = strength < s.float_param("rsi_oversold")
    now, before = outside[1:], outside[:-1]
    reentry = before & ~now
    mode = s.str_param("confirm")
    if mode == "rsi":
        accepted = now & oversold[1:]
    elif mode == "reentry":
        accepted = reentry
    elif mode == "both":
        accepted = reentry & (oversold[1:] | oversold[:-1])
    else:
        accepted = (now & oversold[1:]) | reentry
    return np.flatnonzero(accepted) + start


def _bollinger_confirm(s: BollingerReversionStrategy, rows: IntArray, sign: float, c: FloatArray,  # noqa: PLR0917
                       bands: object, strength_all: FloatArray, range_all: FloatArray, target: FloatArray,
                       regime: RegimeView) -> EntryRows:
    upper, middle = bands.upper, bands.middle  # type: ignore[attr-defined]
    band = bands.lower if sign > 0 else upper  # type: ignore[attr-defined]
    close, prev_close = c[rows], c[rows - 1]
    outside = sign * (band[rows] - close) > 0
    reentry = (sign * (band[rows - 1] - prev_close) > 0) & ~outside
    level = s.float_param("rsi_oversold")
    strength = strength_all[rows] if sign > 0 else 100 - strength_all[rows]
    prev_strength = strength_all[rows - 1] if sign > 0 else 100 - strength_all[rows - 1]
    rsi_now = strength < level
    rsi_recent = rsi_now | (prev_strength < level)
    keep = {
        "rsi": outside & rsi_now,
        "reentry": reentry,
        "both": reentry & rsi_recent,
        "either": (outside & rsi_now) | reentry,
    }[s.str_param("confirm")]
    keep &= sign * (target[rows] - close) > 0
    keep[keep] = regime.allows(rows[keep], Regime.RANGING)
    rows, close = rows[keep], close[keep]
    outside, reentry, rsi_fired = outside[keep], reentry[keep], rsi_recent[keep]
    bb_std = s.float_param("bb_std")
    sigma = (upper[rows] - middle[rows]) / bb_std
    stretch = clipped_ratio(sign * (middle[rows] - close), sigma * (bb_std + 1))
    depth = np.clip((level - np.minimum(strength[keep], prev_strength[keep])) / level, 0.0, 1.0)
    score = (stretch + np.where(rsi_fired, 0.5 + 0.5 * depth, 0.0) + reentry) / 3
    bits = np.full(len(rows), _BB_REGIME if s.bool_param("regime_filter") else 0)
    bits |= np.where(outside, _BB_OUTSIDE, 0) | np.where(rsi_fired, _BB_RSI, 0)
    bits |= np.where(reentry, _BB_REENTRY, 0)
    stop = close - sign * s.float_param("stop_atr_mult") * range_all[rows]
    return EntryRows(rows, close, score, stop, target[rows], bits)


def _columns(frame: object) -> tuple[np.ndarray, ...]:
    names = ("timestamp", "enter_long", "exit_long", "enter_short", "exit_short", "confidence", "stop_loss",
             "take_profit", "reasons")
    return tuple(getattr(frame, name) for name in names)


def signal_columns(frame: object) -> tuple[np.ndarray, ...]:
    """Return a SignalFrame's columns in the order the reference functions return them."""
    return _columns(frame)


def random_candles(seed: int, n: int, flat_head: int = 0, jumpy: bool = False) -> CandleFrame:
    """Return ``n`` random-walk candles (lognormal volume, some zero) from ``seed``: ``flat_head``
    unchanged closes first (RSI's flat start), ``jumpy`` for large moves that cross every band."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.03 if jumpy else 0.004, n)
    steps[: min(flat_head, n)] = 0.0
    close = 100.0 * np.exp(np.cumsum(steps))
    open_ = np.r_[close[:1], close[:-1]]
    wick = np.abs(rng.normal(0.0, 0.002, n)) * close
    volume = rng.lognormal(0.0, 1.0, n)
    volume[rng.random(n) < 0.05] = 0.0
    return CandleFrame(
        timestamp=1_700_000_000_000 + np.arange(n, dtype=np.int64) * 60_000,
        open=open_, high=np.maximum(open_, close) + wick, low=np.minimum(open_, close) - wick,
        close=close, volume=volume,
    )


def same_bits(expected: tuple[np.ndarray, ...], actual: tuple[np.ndarray, ...]) -> bool:
    """Return whether every column has the same dtype, shape and bytes (NaNs included)."""
    return all(a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
               for a, b in zip(expected, actual, strict=True))
