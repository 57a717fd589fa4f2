"""The compiled loops' shared per-entry kernel: ``risk.check`` for a long spot entry over the engine's own
sizing and cap functions, and the float restatement of the Decimal *rounding* (steps, ticks) with its
boundary checks.

``backtest.compiled`` (one pair) and ``backtest.compiled_pairs`` (several pairs sharing the account) call
these, so the entry decision exists once for both. Every decision is a call to the function the engine
path calls (``risk.sizing``, ``risk.limits.capped``); only the rounding of money is restated in float,
and where float and Decimal could disagree (within ``TOLERANCE`` of a boundary) the functions return
a fallback status and the run takes the Decimal fast path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final

import numpy as np
from numba.extending import register_jitable

from trader.core.backtest.settings import BacktestSettings
from trader.core.backtest.stops import Halt, RefusalCount
from trader.core.backtest.timeline import trading_days
from trader.core.domain import price_rules as rules
from trader.core.domain.candles import CandleFrame, FloatArray, IntArray, ms_to_datetime
from trader.core.domain.entries import RefusalReason
from trader.core.domain.market import MarketSpec
from trader.core.engine.state import HISTORY_LENGTH
from trader.core.risk import limits, sizing
from trader.core.sim.costs import FeeModel
from trader.core.strategies.base import BoolArray, SignalFrame

for _rule in (*sizing.COMPILABLE, limits.capped):
    register_jitable(_rule)

SOURCES: Final = (sizing.__file__, limits.__file__, rules.__file__)
"""The rule files this module inlines (with itself: what a loop's numba cache depends on)."""
REASONS: Final = (RefusalReason.INVALID_REQUEST, RefusalReason.LOW_CONFIDENCE, RefusalReason.MAX_EXPOSURE,
                  RefusalReason.BELOW_MINIMUM, RefusalReason.MAX_OPEN_POSITIONS, RefusalReason.MAX_PER_PAIR,
                  RefusalReason.NO_EDGE, RefusalReason.CONSECUTIVE_STOPS, RefusalReason.MAX_TRADES_PER_DAY,
                  RefusalReason.COOLDOWN, RefusalReason.DAILY_LOSS_LIMIT, RefusalReason.HALTED,
                  RefusalReason.SHORTING_UNSUPPORTED)
"""The refusal codes the loops record (index + 1)."""
SHORTING_UNSUPPORTED: Final = REASONS.index(RefusalReason.SHORTING_UNSUPPORTED) + 1
HALTED: Final = REASONS.index(RefusalReason.HALTED) + 1
FALLBACKS: Final = (
    "", "equity reached zero", "an order still working when the data ends",
    "an amount on an amount step within float error",
    "stop and take-profit in one candle with detail candles",
    "an entry fill too small to protect", "the engine would not exit where the exit search stopped",
    "a confidence on the confidence floor within float error",
    "a stop on a tick within float error", "a take-profit on a half tick within float error",
    "an entry cost on the free balance within float error",
    "an order value or amount on the venue minimum within float error",
    "a fill value or amount on the venue minimum within float error",
    "a trade's PnL on zero within float error", "a Kelly edge on zero within float error",
    "a drawdown or daily loss on its limit within float error",
    "an exposure room or free balance on zero within float error",
    "a detail candle's stop and take-profit both touched (the engine matches it in Decimal)")
"""Why a loop stopped (its status code is the index): the run then takes the Decimal fast path."""
ROOM: Final = 16
DETAIL_BOTH: Final = 17
CASH_ERROR: Final = 1e-12  # float cash, equity and exposure stay within this share of equity of the
# Decimal's over a run (about 1e-13 measured): amounts derived from their differences carry it
SIZING: Final = {"all_in": 0.0, "fixed_fraction": 1.0, "confidence": 2.0, "kelly": 3.0}
TOLERANCE: Final = 1e-11  # relative distance below which float and Decimal may disagree (float error
# over a run is about 1e-13 relative: a year of trades compounding cash)


def params(settings: BacktestSettings, market: MarketSpec) -> FloatArray:
    """Return the loops' parameter vector ``p`` of one pair (settings, risk, the market's precision)."""
    risk = settings.risk
    fees = settings.fees or FeeModel.from_market(market)
    return np.array([
        float(settings.start_balance), float(fees.taker), float(fees.maker), float(settings.slippage.rate),
        SIZING[risk.sizing], float(risk.risk_per_trade), float(risk.min_confidence),
        float(risk.max_position_pct), float(risk.max_exposure_pct), float(risk.default_stop_pct),
        float(risk.expected_slippage), float(market.price_step), float(market.amount_step),
        # the amount bounds in whole amount steps (exact: amounts are whole steps)
        float(_ceil_steps(market.min_amount, market.amount_step)), float(market.min_cost),
        math.nan if market.max_amount is None else float(_floor_steps(market.max_amount, market.amount_step)),
        float(market.taker_fee),
        float(risk.max_open_positions), float(risk.max_positions_per_pair), float(HISTORY_LENGTH),
        float(risk.kelly_min_trades), float(risk.kelly_fraction), float(risk.kelly_max_risk),
        float(risk.cooldown_minutes), float(risk.cooldown_after_loss_minutes), float(risk.max_trades_per_day),
        float(risk.max_consecutive_stops), float(risk.max_drawdown_pct), float(risk.daily_loss_limit_pct),
        float(risk.max_total_exposure_pct)])


def entry_sides(signals: SignalFrame, allow_short: bool) -> IntArray:
    """Return, per row, the entry ``step.apply_entries`` asks for: 1 long, -1 short, 0 none (a long entry
    wins a row with both; a short only with ``allow_short``: the rows ``Lane.build`` makes candidates)."""
    return entry_rows(signals, allow_short)[0]


def entry_rows(signals: SignalFrame, allow_short: bool) -> tuple[IntArray, IntArray]:
    """Return ``entry_sides`` and the rows where it is not 0 (the loop's entry candidates), found on the
    boolean entry masks: a tenth of the time of a search through the int64 sides."""
    long = signals.enter_long & ~signals.exit_long
    if not allow_short:  # no short row: the longs alone, one conversion
        return long.astype(np.int64), np.flatnonzero(long)
    short = signals.enter_short & ~signals.exit_short & ~long
    return np.subtract(long, short, dtype=np.int64), np.flatnonzero(long | short)


def below_floor(confidence: FloatArray, wanted: BoolArray, floor: Decimal) -> BoolArray:
    """Return, per row, whether ``risk.check`` finds the confidence below ``floor`` (its Decimal comparison
    of ``repr(confidence)``; decided in Decimal for the ``wanted`` rows within float error of the floor)."""
    low = confidence < float(floor)
    close = np.abs(confidence - float(floor)) <= TOLERANCE * np.maximum(np.abs(confidence), float(floor))
    for k in np.flatnonzero(close & wanted).tolist():
        low[k] = sizing.below_floor(confidence.item(k), floor)
    return low


def below_floor_at(confidence: FloatArray, rows: IntArray, wanted: BoolArray, floor: Decimal) -> BoolArray:
    """Return ``below_floor`` at the ``rows`` the loop reads (its entry candidates), False elsewhere:
    the same rule on those rows only (it is decided row by row), without passes over the others."""
    low = np.zeros(len(confidence), dtype=np.bool_)
    low[rows] = below_floor(confidence[rows], wanted[rows], floor)
    return low


def clock_days(open_ms: IntArray, close_ms: IntArray, timezone: str) -> tuple[IntArray, IntArray]:
    """Return ``timeline.trading_days`` of the candles' open and close times, in one pass: each close
    that is the next candle's open (all of them in a gapless series) takes that open's day, so the
    close days are the open days shifted by one (views of one array); only the other closes (a gap,
    the next pair's first candle) are looked up on their own."""
    if not len(open_ms):
        return trading_days(open_ms, timezone), trading_days(close_ms, timezone)
    times = np.empty(len(open_ms) + 1, dtype=np.int64)
    times[:-1] = open_ms
    times[-1] = close_ms[-1]
    days = trading_days(times, timezone)
    close_days = days[1:]
    apart = np.flatnonzero(close_ms[:-1] != open_ms[1:])
    if len(apart):
        close_days = close_days.copy()  # the open days stay as they are
        close_days[apart] = trading_days(close_ms[apart], timezone)
    return days[:-1], close_days


def refusal_counts(refused: Iterable[tuple[int, int]]) -> tuple[RefusalCount, ...]:
    """Return the stop log's refusal summary of (time ms, refusal code) in time order."""
    # (count, first ms, last ms) per reason, dated once: hundreds of refusals in a run, one per trial
    counts: dict[str, tuple[int, int, int]] = {}
    for at_ms, code in refused:
        reason = REASONS[code - 1].value
        seen = counts.get(reason)
        counts[reason] = (1, at_ms, at_ms) if seen is None else (seen[0] + 1, seen[1], at_ms)
    summary = [RefusalCount(reason, count, ms_to_datetime(first), ms_to_datetime(last))
               for reason, (count, first, last) in counts.items()]
    return tuple(sorted(summary, key=lambda r: (-r.count, r.first)))


def checked_halts(status: int, memory: IntArray, money: FloatArray) -> tuple[Halt, ...]:
    """Return a finished loop's drawdown halts; raise Fallback for a status the loop could not finish
    or a halt worded on a rounding boundary (both loops end this way)."""
    from trader.core.backtest import compiled_risk as cr
    from trader.core.backtest.fast import Fallback

    if status:
        raise Fallback(fallback_reason(status))
    halts = cr.halts(memory, money)
    if halts is None:
        raise Fallback("compiled loop: a halt's drawdown or peak on a rounding boundary within float error")
    return halts


def fallback_reason(status: int) -> str:
    """Return the words of a loop's fallback status."""
    return f"compiled loop: {FALLBACKS[status]}"


def by_name(items: Mapping[str, object]) -> list[str]:
    """Return the pairs in the order the runner walks them (name order)."""
    return sorted(items)


def _ceil_steps(amount: Decimal, step: Decimal) -> int:
    """Return the fewest whole steps not below ``amount``."""
    return int(-((-amount) // step))


def _floor_steps(amount: Decimal, step: Decimal) -> int:
    """Return the most whole steps not above ``amount``."""
    return int(amount // step)


@register_jitable
def request_refusal(halted: bool, side: int, valid: bool) -> int:
    """Return ``risk.check``'s refusal before its account guards (``trading_state_guard``, then
    ``_request_problem``): the halt, a short on a market that cannot short (every market the loops
    run: one that can is a swap or margin account and takes the engine path), an invalid request; 0
    when none (the guards decide next)."""
    if halted:
        return HALTED
    if side < 0:
        return SHORTING_UNSUPPORTED
    return 0 if valid else 1


@register_jitable
def near(a: float, b: float) -> bool:
    """Return True when ``a`` and ``b`` are within float error (``TOLERANCE``) of each other."""
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b), 1e-300)


@register_jitable
def _digits(step: float) -> int:
    return max(0, math.ceil(-math.log10(step) - rules.TICK_TOLERANCE)) + 2


@register_jitable
def steps_down(amount: float, step: float, slack: float) -> float:
    """Return floor(amount / step), NaN when amount sits on a step within float error (relative, or
    ``slack`` steps: Decimal decides)."""
    x = amount / step
    r = round(x)
    if abs(x - r) <= max(TOLERANCE * max(1.0, abs(x)), slack):
        return math.nan
    return math.floor(x)


@register_jitable
def stop_up(level: float, step: float, from_float: bool) -> float:
    """Return ``level`` rounded up to the tick as ``MarketSpec.round_stop`` rounds a long's stop.

    The engine rounds ``Decimal(repr(level))`` when the strategy gave the stop (``from_float``): a
    float that is not the float of the tick it sits on has a repr on the same side of that tick as
    the float is of the tick's float, so the comparison decides exactly. A default stop is an exact
    Decimal product the float only approximates: within float error of a tick, NaN (Decimal decides).
    """
    x = level / step
    r = round(x)
    on = round(r * step, _digits(step))
    if level == on and from_float:
        return on
    if abs(x - r) <= TOLERANCE * max(1.0, abs(x)):
        if not from_float:
            return math.nan
        return round((r + 1.0) * step, _digits(step)) if level > on else on
    return round(math.ceil(x) * step, _digits(step))


@register_jitable
def to_nearest(level: float, step: float) -> float:
    """Return ``level`` on the nearest tick as ``MarketSpec.round_price`` rounds ``Decimal(repr(level))``.

    Half-even on an exact half tick; a float near a half tick lies on the side of it that its repr
    does (the argument of ``stop_up``).
    """
    digits = _digits(step)
    x = level / step
    below = math.floor(x)
    half = round((below + 0.5) * step, digits + 1)
    if level == half:
        up = below % 2.0 == 1.0
    else:
        up = level > half
    return round((below + 1.0) * step if up else below * step, digits)


@register_jitable
def kelly(history, kept: int, p):  # type: ignore[no-untyped-def]
    """Return (0, fraction), (1, nan) without an edge, (-1, nan) on a float boundary (kelly_fraction's)."""
    wins, losses, won, lost = 0, 0, 0.0, 0.0
    for pnl in history[:kept]:
        if pnl > 0.0:
            wins, won = wins + 1, won + pnl
        elif pnl < 0.0:
            losses, lost = losses + 1, lost - pnl
    if wins == 0:
        return 1, math.nan
    win_rate = wins / kept
    if losses == 0:
        edge = win_rate
    else:
        edge = sizing.kelly_edge(win_rate, (won / wins) / (lost / losses))
        if abs(edge) <= TOLERANCE:
            return -1, math.nan
        if edge <= 0.0:
            return 1, math.nan
    return 0, sizing.kelly_risk(edge, p[21], p[22])


@register_jitable
def refusal(entry: float, stop: float, conf: float, low: bool, equity: float, free: float,  # type: ignore[no-untyped-def]  # noqa: C901, PLR0912, PLR0913, PLR0917
            exposure: float, p, history, kept):
    """Return (refusal code or 0, amount in steps, or -status for a boundary) of ``risk.check`` after its
    account guards: stop, sizing (``low``: the confidence is below the floor, ``below_floor``), the
    exposure caps (``exposure`` is ``limits.current_exposure``), rounding and the venue minimums."""
    if not (math.isfinite(entry) and entry > 0.0) or not (math.isfinite(conf) and 0.0 <= conf <= 1.0):
        return 1, 0.0
    if not (stop > 0.0 and stop < entry):
        return 1, 0.0
    fee, slip = p[16], p[10]
    unit_loss = sizing.long_unit_loss(entry, stop, fee, slip)
    cost_factor = sizing.spot_cost_factor(fee, slip)
    mode = p[4]
    if mode == 0.0:
        amount = sizing.all_in_amount(free, entry, fee, slip)
    else:
        if low:
            return 2, 0.0
        fraction = p[5]
        if mode == 3.0 and kept >= p[20]:
            refused, risk = kelly(history, kept, p)
            if refused != 0:
                return (0, -14.0) if refused < 0 else (7, 0.0)
            fraction = risk
        if mode == 2.0:
            fraction = fraction * sizing.confidence_fraction(conf)
        amount = 0.0 if unit_loss <= 0.0 else sizing.risk_amount(equity, fraction, unit_loss)
    # limits.cap_amount's refusals, then its caps (every venue account is this one in a backtest)
    room = equity * p[8] - exposure
    total_room = equity * p[29] - exposure
    if exposure > 0.0 and (near(equity * p[8], exposure) or near(equity * p[29], exposure)):
        return 0, -float(ROOM)
    if room <= 0.0 or total_room <= 0.0:
        return 3, 0.0
    if free <= TOLERANCE * equity:
        return 0, -float(ROOM)  # no free balance refuses as INSUFFICIENT_FUNDS: the Decimal path words it
    amount, _ = limits.capped(amount, entry, equity, free, room, total_room, p[7], cost_factor)
    # a room or free balance is a difference of large float sums: its error is the cash's, not its own
    steps = steps_down(amount, p[12], CASH_ERROR * equity / (entry * p[12]))
    if math.isnan(steps):
        return 0, -3.0
    rounded = steps * p[12]
    if rounded <= 0.0:
        return 4, 0.0
    if near(rounded * entry, p[14]):
        return 0, -11.0
    if steps < p[13] or rounded * entry < p[14] or (not math.isnan(p[15]) and steps > p[15]):
        return 4, 0.0
    return 0, steps


@register_jitable
def detail_fill(detail, open_ms: int, close_ms: int, stop: float, target: float):  # type: ignore[no-untyped-def]
    """Return (code, raw price) of a long's stop and take-profit both touched in the candle open at
    ``open_ms``: ``price_rules.detail_exit`` over its lower-timeframe candles (``Lane.detail_bars``)."""
    stamps, opens, highs, lows = detail
    lo = np.searchsorted(stamps, open_ms)
    hi = np.searchsorted(stamps, close_ms)
    code, price, _ = rules.detail_exit(opens[lo:hi], highs[lo:hi], lows[lo:hi], 1.0, stop, target)
    return code, price


DetailArrays = tuple[IntArray, FloatArray, FloatArray, FloatArray]


def detail_arrays(frames: list[CandleFrame | None]) -> tuple[DetailArrays, IntArray]:
    """Return the pairs' detail candles concatenated (time, open, high, low) and each pair's offsets."""
    real = [f for f in frames if f is not None]
    off = np.zeros(len(frames) + 1, dtype=np.int64)
    off[1:] = np.cumsum([0 if f is None else len(f) for f in frames])
    if not real:
        empty = np.zeros(0)
        return (np.zeros(0, dtype=np.int64), empty, empty, empty), off
    return (np.concatenate([f.timestamp for f in real]), np.concatenate([f.open for f in real]),
            np.concatenate([f.high for f in real]), np.concatenate([f.low for f in real])), off
