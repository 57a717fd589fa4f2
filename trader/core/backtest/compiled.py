"""The compiled backtest loop: one pair's whole run in numba, over the engine's own rule functions.

What ``backtest.fast`` does event by event in Python (entry signal -> risk's sizing and caps ->
entry fill -> exit search -> exit fill), this loop does in machine code for the configurations it
covers (``unsupported`` names the rest, and ``api.run_backtest`` then runs the Decimal fast path and
says why). Every decision is a call to the function the engine path calls:

- sizing and caps: ``risk.sizing.long_unit_loss``/``all_in_amount``/``risk_amount``/
  ``confidence_fraction``/``spot_cost_factor`` and ``risk.limits.capped``, written once over
  Decimal-or-float (the engine calls them with Decimals, this loop with floats);
- protective levels, trailing, intrabar exit and fill price: ``domain.price_rules`` through the exit
  search ``kernel._find_exit`` (the same compiled search the Decimal fast path uses).

What is restated, in float, is the Decimal *rounding* of money: amounts down to the amount step, the
stop up to the tick, the take-profit to the nearest tick, and the fee as rate times value. Where a
float result sits so near a rounding or comparison boundary (a step, the free balance, a minimum)
that float and Decimal could disagree, the loop stops and the run takes the Decimal fast path
instead (``Fallback``). Money is float64 here: prices and amounts equal the engine path's on the
market's precision, fees, PnL and equity to about 1e-12 relative
(tests/unit/core/backtest/test_compiled_path.py checks it trade for trade against the engine path).

- the risk memory (drawdown halt, daily-loss limit, stop-loss streak, trades per day, cooldowns):
  ``backtest.compiled_risk`` over ``risk.guard_rules``, the arithmetic ``risk.guards`` and
  ``risk.state`` call, with integer day keys and epoch milliseconds.

Not compiled (the Decimal fast path runs): several pairs, detail candles, shorts, swaps and DCA.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

import numba
import numpy as np
from numba.extending import register_jitable

from trader.core.analytics.records import equity_curve
from trader.core.backtest import compiled_risk as cr
from trader.core.backtest import kernel
from trader.core.backtest.compiled_records import (
    REFUSED,
    REJECTED,
    TRADE,
    X_END,
    X_SIGNAL,
    X_STOP,
    X_TAKE,
    X_TRAIL_CLOSE,
    book_trades,
)
from trader.core.backtest.fast import Fallback, unsupported
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.settings import BacktestSettings
from trader.core.backtest.stops import RefusalCount, TradingStops
from trader.core.backtest.timeline import trading_days
from trader.core.domain import price_rules as rules
from trader.core.domain.candles import CandleFrame, ms_to_datetime, timeframe_ms
from trader.core.domain.entries import RefusalReason
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.engine.inputs import EngineConfig
from trader.core.engine.state import HISTORY_LENGTH
from trader.core.risk import guard_rules, limits, sizing
from trader.core.sim.costs import FeeModel
from trader.core.strategies.base import SignalFrame

for _rule in (*sizing.COMPILABLE, limits.capped):
    register_jitable(_rule)

_REASONS = (RefusalReason.INVALID_REQUEST, RefusalReason.LOW_CONFIDENCE, RefusalReason.MAX_EXPOSURE,
            RefusalReason.BELOW_MINIMUM, RefusalReason.MAX_OPEN_POSITIONS, RefusalReason.MAX_PER_PAIR,
            RefusalReason.NO_EDGE, RefusalReason.CONSECUTIVE_STOPS, RefusalReason.MAX_TRADES_PER_DAY,
            RefusalReason.COOLDOWN, RefusalReason.DAILY_LOSS_LIMIT, RefusalReason.HALTED)
_FALLBACKS = ("", "equity reached zero", "an order still working when the data ends",
              "an amount on an amount step within float error",
              "stop and take-profit in one candle with detail candles",
              "an entry fill too small to protect", "the engine would not exit where the exit search stopped",
              "a confidence on the confidence floor within float error",
              "a stop on a tick within float error", "a take-profit on a half tick within float error",
              "an entry cost on the free balance within float error",
              "an order value or amount on the venue minimum within float error",
              "a fill value or amount on the venue minimum within float error",
              "a trade's PnL on zero within float error", "a Kelly edge on zero within float error",
              "a drawdown or daily loss on its limit within float error")
_SIZING = {"all_in": 0.0, "fixed_fraction": 1.0, "confidence": 2.0, "kelly": 3.0}
TOLERANCE: Final = 1e-11  # relative distance below which float and Decimal may disagree (float error
# over a run is about 1e-13 relative: a year of trades compounding cash)


def why_not(candles: Mapping[Symbol, CandleFrame], markets: Mapping[Symbol, MarketSpec],
            settings: BacktestSettings, detail: Mapping[Symbol, CandleFrame] | None) -> str | None:
    """Return why the compiled loop cannot run this configuration, or None when it can."""
    reason = unsupported(candles, markets, settings, detail)
    if reason is not None:
        return reason
    if len(candles) != 1:
        return "several pairs sharing the account (compiled loop covers one pair)"
    risk = settings.risk
    if risk.sizing not in _SIZING:
        return f"{risk.sizing} sizing"
    (market,) = markets.values()
    if market.futures is not None:
        return "perpetual swaps"
    return None


def run_compiled(signals: SignalFrame, frame: CandleFrame, symbol: Symbol, market: MarketSpec,
                 settings: BacktestSettings, params: Mapping[str, object],
                 assumptions: Mapping[str, str]) -> BacktestResult:
    """Run one pair through the compiled loop and return the result; raise Fallback where it must."""
    risk = settings.risk
    fees = settings.fees or FeeModel.from_market(market)
    tf = timeframe_ms(settings.timeframe)
    nan = math.nan
    p = np.array([
        float(settings.start_balance), float(fees.taker), float(fees.maker), float(settings.slippage.rate),
        _SIZING[risk.sizing], float(risk.risk_per_trade), float(risk.min_confidence),
        float(risk.max_position_pct), float(risk.max_exposure_pct), float(risk.default_stop_pct),
        float(risk.expected_slippage), float(market.price_step), float(market.amount_step),
        # the amount bounds in whole amount steps (exact: amounts are whole steps)
        float(_ceil_steps(market.min_amount, market.amount_step)), float(market.min_cost),
        nan if market.max_amount is None else float(_floor_steps(market.max_amount, market.amount_step)),
        float(market.taker_fee),
        float(risk.max_open_positions), float(risk.max_positions_per_pair), float(HISTORY_LENGTH),
        float(risk.kelly_min_trades), float(risk.kelly_fraction), float(risk.kelly_max_risk),
        float(risk.cooldown_minutes), float(risk.cooldown_after_loss_minutes), float(risk.max_trades_per_day),
        float(risk.max_consecutive_stops), float(risk.max_drawdown_pct), float(risk.daily_loss_limit_pct),
        float(risk.max_total_exposure_pct)])
    candidates = np.flatnonzero(signals.enter_long & ~signals.exit_long).astype(np.int64)
    trail = EngineConfig(settings.strategy, risk, {symbol: market}).context(symbol).trail.as_array()
    ohlc = (frame.open, frame.high, frame.low, frame.close)
    # each candle's open and close time (ms) and their trading days in the risk timezone (day keys)
    closes_ms = frame.timestamp + tf
    clock = (frame.timestamp, closes_ms, trading_days(frame.timestamp, risk.timezone),
             trading_days(closes_ms, risk.timezone))
    memory, money = cr.new_memory()
    days = np.zeros(len(frame) + 2, dtype=np.int64)  # the daily-loss days, in order
    status, records, count = _loop(ohlc, signals.enter_long, signals.exit_long, signals.stop_loss,
                                   signals.take_profit, signals.confidence, candidates, trail, p, clock,
                                   (memory, money, days))
    if status:
        raise Fallback(f"compiled loop: {_FALLBACKS[status]}")
    halts = cr.halts(memory, money)
    if halts is None:
        raise Fallback("compiled loop: a halt's drawdown or peak on a rounding boundary within float error")
    rows = records[:count]
    trades, curve = book_trades(rows, frame, signals, symbol, settings, market, tf)
    refusals: dict[str, RefusalCount] = {}
    for kind, k, code, exit_k in rows[:, :5][:, [0, 1, 2, 4]].tolist():
        if kind == REFUSED:
            at_ms = int(frame.timestamp[int(k)]) + tf  # the entry signal's close
        elif kind == TRADE and code > 0:
            at_ms = int(frame.timestamp[int(exit_k)])  # the exit decision's close (the exit fill's open)
        else:
            continue
        at = ms_to_datetime(at_ms)
        reason = _REASONS[int(code) - 1].value
        seen = refusals.get(reason)
        refusals[reason] = RefusalCount(reason, 1, at, at) if seen is None \
            else RefusalCount(reason, seen.count + 1, seen.first, at)
    ordered = tuple(sorted(refusals.values(), key=lambda r: (-r.count, r.first)))
    steps = int(rows[:, 7].sum())
    stops = TradingStops(halts, cr.loss_days(days, int(memory[8]), risk.timezone), ordered)
    equity = equity_curve(frame.timestamp + tf, curve)
    rejected = int((rows[:, 0] == REJECTED).sum())
    return BacktestResult(settings.strategy, dict(params), (symbol,), settings.timeframe,
                          settings.start_balance, settings.quote, trades, equity, len(frame), steps, rejected,
                          dict(assumptions), stops, "compiled")


def _ceil_steps(amount: Decimal, step: Decimal) -> int:
    """Return the fewest whole steps not below ``amount``."""
    return int(-((-amount) // step))


def _floor_steps(amount: Decimal, step: Decimal) -> int:
    """Return the most whole steps not above ``amount``."""
    return int(amount // step)


# ── the loop ────────────────────────────────────────────────────────────────────────────────────
@register_jitable
def _near(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b), 1e-300)


@register_jitable
def _digits(step: float) -> int:
    return max(0, math.ceil(-math.log10(step) - rules.TICK_TOLERANCE)) + 2


@register_jitable
def _steps_down(amount: float, step: float) -> float:
    """Return floor(amount / step), NaN when amount sits on a step within float error (Decimal decides)."""
    x = amount / step
    r = round(x)
    if abs(x - r) <= TOLERANCE * max(1.0, abs(x)):
        return math.nan
    return math.floor(x)


@register_jitable
def _stop_up(level: float, step: float, from_float: bool) -> float:
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
def _to_nearest(level: float, step: float) -> float:
    """Return ``level`` on the nearest tick as ``MarketSpec.round_price`` rounds ``Decimal(repr(level))``.

    Half-even on an exact half tick; a float near a half tick lies on the side of it that its repr
    does (the argument of ``_stop_up``).
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
def _kelly(history, kept: int, p):  # type: ignore[no-untyped-def]
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
def _refusal(entry: float, stop: float, conf: float, cash: float, p, history, kept):  # type: ignore[no-untyped-def]  # noqa: C901, PLR0912
    """Return (refusal code or 0, amount in steps, or -1 for a boundary) of ``risk.check`` while flat."""
    if not (math.isfinite(entry) and entry > 0.0) or not (math.isfinite(conf) and 0.0 <= conf <= 1.0):
        return 1, 0.0
    if not (stop > 0.0 and stop < entry):
        return 1, 0.0
    fee, slip = p[16], p[10]
    unit_loss = sizing.long_unit_loss(entry, stop, fee, slip)
    cost_factor = sizing.spot_cost_factor(fee, slip)
    mode = p[4]
    if mode == 0.0:
        amount = sizing.all_in_amount(cash, entry, fee, slip)
    else:
        if _near(conf, p[6]):
            return 0, -7.0
        if conf < p[6]:
            return 2, 0.0
        fraction = p[5]
        if mode == 3.0 and kept >= p[20]:
            refused, kelly = _kelly(history, kept, p)
            if refused != 0:
                return (0, -14.0) if refused < 0 else (7, 0.0)
            fraction = kelly
        if mode == 2.0:
            fraction = fraction * sizing.confidence_fraction(conf)
        amount = 0.0 if unit_loss <= 0.0 else sizing.risk_amount(cash, fraction, unit_loss)
    room = cash * p[8]
    if room <= 0.0:
        return 3, 0.0
    # one account, flat when it enters: the all-accounts room is this account's share of its cash
    amount, _ = limits.capped(amount, entry, cash, cash, room, cash * p[29], p[7], cost_factor)
    steps = _steps_down(amount, p[12])
    if math.isnan(steps):
        return 0, -3.0
    rounded = steps * p[12]
    if rounded <= 0.0:
        return 4, 0.0
    if _near(rounded * entry, p[14]):
        return 0, -11.0
    if steps < p[13] or rounded * entry < p[14] or (not math.isnan(p[15]) and steps > p[15]):
        return 4, 0.0
    return 0, steps


@numba.njit(cache=True, nogil=True)
def _loop(ohlc, enter, leave, stops, targets, confidence, candidates, trail, p, clock, risk):  # type: ignore[no-untyped-def]  # noqa: C901, PLR0912, PLR0913, PLR0915, PLR0917
    opens, highs, lows, closes = ohlc
    open_ms, close_ms, open_day, close_day = clock
    n = len(opens)
    memory, money, loss_days = risk  # RiskState of one pair (compiled_risk)
    watch = p[27] < 1.0 or p[28] < 1.0  # equity guards that can act (at 100 % only a zero equity would)
    records = np.zeros((2 * len(candidates) + 1, 12))
    history = np.zeros(int(p[19]))  # the closed trades' PnL, newest last (EngineState's history)
    kept = 0
    cash, taker, maker, slip, step = p[0], p[1], p[2], p[3], p[12]
    moves = trail[0] > 0.0 or not math.isnan(trail[7])
    count, ci, start = 0, 0, 0
    while True:
        while ci < len(candidates) and candidates[ci] < start:
            ci += 1
        if ci >= len(candidates):
            break
        k = candidates[ci]
        ci += 1
        if cash <= 0.0:
            return 1, records, count
        if watch:
            status = cr.observe(memory, money, cash, close_day[k], close_ms[k], p, loss_days)
            if status:
                return status, records, count
        entry = closes[k]
        conf = confidence[k]
        valid = math.isfinite(entry) and entry > 0.0 and math.isfinite(conf) and 0.0 <= conf <= 1.0
        today, now = close_day[k], close_ms[k]
        guard = cr.HALTED if memory[6] else 1 if not valid else cr.guards(memory, today, now, p)
        if guard:
            row = records[count]
            count += 1
            row[0], row[1], row[2], row[7] = REFUSED, k, guard, 1.0
            start = k + 1
            continue
        stop = stops[k]
        given = not math.isnan(stop)
        if not given:
            stop = entry * (1.0 - p[9])
        stop = _stop_up(stop, p[11], given)
        if math.isnan(stop):
            return 8, records, count
        code, steps = _refusal(entry, stop, confidence[k], cash, p, history, kept)
        if steps < 0.0:
            return int(-steps), records, count
        row = records[count]
        count += 1
        row[1] = k
        if code > 0:
            row[0], row[2], row[7] = REFUSED, code, 1.0
            start = k + 1
            continue
        if k + 1 >= n:
            return 2, records, count
        cr.on_entry(memory, close_day[k])
        amount = steps * step
        price = opens[k + 1] * (1.0 + slip) if slip > 0.0 else opens[k + 1]
        cost = amount * price
        fee = cost * taker
        if _near(cost + fee, cash):
            return 10, records, count
        if cost + fee > cash:
            row[0], row[7] = REJECTED, 2.0
            start = k + 1
            if watch:
                status = cr.observe(memory, money, cash, open_day[k + 1], open_ms[k + 1], p, loss_days)
                if status:
                    return status, records, count
            continue
        target = targets[k]
        if not math.isnan(target):
            target = _to_nearest(target, p[11])
            if math.isnan(target):
                return 9, records, count
        reference = stop if math.isnan(target) else target
        for value in (amount * price, amount * reference):
            if _near(value, p[14]):
                return 12, records, count
            if steps < p[13] or value < p[14]:
                return 5, records, count
        cash -= cost + fee
        if watch:
            status = cr.observe(memory, money, cash + amount * closes[k], open_day[k + 1], open_ms[k + 1], p,
                                loss_days)
            if status:
                return status, records, count
        levels = np.array([1.0, price, stop, target, price, 0.0])
        idx, found, raw, stop_at, hw_at = kernel._find_exit(ohlc, leave, k + 1, levels, trail)
        if watch:  # the closes while holding, then the step on a close (exit decision, end of data)
            last = n - 1 if found == kernel.NONE else idx
            status = cr.holding_marks(memory, money, cash, amount, closes, close_day, close_ms, k + 1,
                                      last - 1, p)
            if not status and (found in (kernel.NONE, kernel.CLOSE)):
                held = cash + amount * closes[last]
                status = cr.observe(memory, money, held, close_day[last], close_ms[last], p, loss_days)
            if status:
                return status, records, count
        nsteps = 3.0
        refused_close = 0.0
        if found == kernel.NONE:
            exit_k, kind, liquidity = n - 1, X_END, 0
            exit_raw = closes[n - 1]
            out_price = exit_raw * (1.0 - slip) if slip > 0.0 else exit_raw
            nsteps += 1.0
            start = n
        elif found == kernel.CLOSE:
            kind = X_SIGNAL
            if moves:
                hw = rules.best_price(hw_at, highs[idx], lows[idx], 1.0)
                level = rules.trail_level(hw, price, 1.0, trail[0] > 0.0, trail[1], trail[3], trail[4] > 0.0,
                                          trail[5], trail[6], trail[7])
                moved = rules.ratchet(stop_at, level, 1.0, trail[2], trail[8])
                if moved != stop_at and rules.stop_touched(moved, closes[idx], closes[idx], 1.0):
                    kind = X_TRAIL_CLOSE
            if kind == X_SIGNAL and not leave[idx]:
                return 6, records, count
            if enter[idx] and not leave[idx]:  # an entry signal while holding: the count caps refuse it
                valid = math.isfinite(confidence[idx]) and 0.0 <= confidence[idx] <= 1.0
                guard = cr.HALTED if memory[6] else 1 if not valid else cr.guards(memory, close_day[idx],
                                                                                  close_ms[idx], p)
                refused_close = float(guard) if guard else 5.0 if p[17] <= 1.0 else 6.0  # open, then per pair
            if idx + 1 >= n:
                return 2, records, count
            exit_k, liquidity = idx + 1, 0
            exit_raw = opens[idx + 1]
            out_price = exit_raw * (1.0 - slip) if slip > 0.0 else exit_raw
            nsteps += 1.0
            start = idx + 1
        elif found == kernel.TAKE_PROFIT:
            exit_k, kind, liquidity, out_price, exit_raw = idx, X_TAKE, 1, target, target
            start = idx
        elif found == kernel.STOP:
            exit_k, kind, liquidity = idx, X_STOP, 0
            exit_raw = raw
            out_price = raw * (1.0 - slip) if slip > 0.0 else raw
            start = idx
        else:
            return 4, records, count
        value = amount * out_price
        exit_fee = value * (maker if liquidity == 1 else taker)
        cash += value - exit_fee
        row[0], row[2], row[3], row[4], row[5] = TRADE, refused_close, kind, exit_k, steps
        row[6] = 1.0 if stop_at != stop else 0.0
        row[7], row[8], row[9], row[10] = nsteps, price, exit_raw, fee + exit_fee
        row[11] = pnl = value - amount * price - fee - exit_fee
        if pnl != 0.0 and abs(pnl) <= TOLERANCE * value:
            return 13, records, count  # its sign decides Kelly's wins and losses, cooldown and streak
        # the exit fill's step: the flat equity, then risk.state.on_trade_closed
        if kind == X_END:
            done_ms, today = close_ms[n - 1], close_day[n - 1]
        else:
            done_ms, today = open_ms[exit_k], open_day[exit_k]
        if watch:
            status = cr.observe(memory, money, cash, today, done_ms, p, loss_days)
            if status:
                return status, records, count
        cr.on_trade_closed(memory, pnl, kind in (X_STOP, X_TRAIL_CLOSE), today, done_ms, p)
        if kept == len(history):
            history[:-1] = history[1:].copy()
        else:
            kept += 1
        history[kept - 1] = pnl
    return 0, records, count


RULE_FILES: Final = (rules.__file__, sizing.__file__, guard_rules.__file__, cr.__file__, limits.__file__,
                     kernel.__file__)
"""The files whose functions ``_loop`` inlines: numba keys its cache on this file only."""
kernel._flush_stale_cache(_loop, RULE_FILES)
