"""The compiled backtest loop: one pair's whole run in numba, over the engine's own rule functions.

What ``backtest.fast`` does event by event in Python (entry signal -> risk's sizing and caps ->
entry fill -> exit search -> exit fill), this loop does in machine code for the configurations it
covers (``unsupported`` names the rest, and ``api.run_backtest`` then runs the Decimal fast path and
says why). Every decision is a call to the function the engine path calls:

- sizing and caps: ``risk.sizing.long_unit_loss``/``all_in_amount``/``risk_amount``/
  ``confidence_fraction``/``spot_cost_factor`` and ``risk.limits.capped``, written once over
  Decimal-or-float (the engine calls them with Decimals, this loop with floats), through
  ``compiled_rules.refusal``, the entry decision this loop shares with ``backtest.compiled_pairs``;
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

- the intrabar detail timeframe: a candle touching both the stop and the take-profit is decided by its
  lower-timeframe candles through ``domain.price_rules.detail_exit``, the rule ``sim.matching.match_exit``
  walks on the engine path (``compiled_rules.detail_fill``).

Several pairs sharing the account run in ``backtest.compiled_pairs`` (the same entry decision,
``compiled_rules.refusal``). Shorts allowed on spot markets (which cannot short) are compiled: each short
signal is a step ``risk.check`` refuses (``compiled_rules.request_refusal``). Not compiled (the Decimal
fast path or the engine path runs): short positions (perpetual swaps), DCA, risk settings changing
mid-run, more than one position per pair.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

import numba
import numpy as np

from trader.core.analytics.records import equity_curve
from trader.core.backtest import compiled_position as cp
from trader.core.backtest import compiled_risk as cr
from trader.core.backtest import compiled_rules as cr_rules
from trader.core.backtest import kernel
from trader.core.backtest import prefetch as hints
from trader.core.backtest.compiled_records import (
    REFUSED,
    REJECTED,
    TRADE,
    X_END,
    book_trades,
)
from trader.core.backtest.fast import unsupported
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.settings import BacktestSettings
from trader.core.backtest.stops import TradingStops
from trader.core.domain import price_rules as rules
from trader.core.domain.candles import CandleFrame, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.engine.inputs import EngineConfig
from trader.core.risk import guard_rules, limits, sizing
from trader.core.strategies.base import SignalFrame

TOLERANCE: Final = cr_rules.TOLERANCE


def why_not(candles: Mapping[Symbol, CandleFrame], markets: Mapping[Symbol, MarketSpec],
            settings: BacktestSettings, detail: Mapping[Symbol, CandleFrame] | None) -> str | None:
    """Return why the compiled loop cannot run this configuration, or None when it can."""
    # shorts on markets that cannot short are refused as risk.check refuses them (request_refusal)
    reason = unsupported(candles, markets, replace(settings, allow_short=False), None)  # detail: read here
    if reason is not None:
        return reason
    if settings.allow_short and any(markets[s].capabilities.shorting for s in candles):
        return "short entries on a market that can short"
    risk = settings.risk
    if risk.sizing not in cr_rules.SIZING:
        return f"{risk.sizing} sizing"
    if any(markets[s].futures is not None for s in candles):
        return "perpetual swaps"
    return None


def run_compiled(signals: SignalFrame, frame: CandleFrame, symbol: Symbol, market: MarketSpec,  # noqa: PLR0913, PLR0917
                 settings: BacktestSettings, params: Mapping[str, object],
                 assumptions: Mapping[str, str], given_detail: CandleFrame | None = None) -> BacktestResult:
    """Run one pair through the compiled loop and return the result; raise Fallback where it must.

    ``given_detail``: the pair's lower-timeframe candles, read where one candle touches both levels.
    """
    detail, _ = cr_rules.detail_arrays([given_detail])
    risk = settings.risk
    tf = timeframe_ms(settings.timeframe)
    p = cr_rules.params(settings, market)
    sides, candidates = cr_rules.entry_rows(signals, settings.allow_short)
    candidates = candidates.astype(np.int64, copy=False)
    # the loop reads the confidence floor at its candidates only
    low = cr_rules.below_floor_at(signals.confidence, candidates, sides > 0, risk.min_confidence)
    trail = EngineConfig(settings.strategy, risk, {symbol: market}).context(symbol).trail.as_array()
    ohlc = (frame.open, frame.high, frame.low, frame.close)
    # each candle's open and close time (ms) and their trading days in the risk timezone (day keys)
    closes_ms = frame.timestamp + tf
    clock = (frame.timestamp, closes_ms, *cr_rules.clock_days(frame.timestamp, closes_ms, risk.timezone))
    memory, money = cr.new_memory()
    days = np.zeros(len(frame) + 2, dtype=np.int64)  # the daily-loss days, in order
    status, records, count = _loop(ohlc, sides, signals.exit_long, signals.stop_loss,
                                   signals.take_profit, signals.confidence, low, candidates, trail, p, clock,
                                   (memory, money, days), detail,
                                   1.0 if given_detail is not None else 0.0)
    halts = cr_rules.checked_halts(status, memory, money)
    rows = records[:count]
    trades, curve = book_trades(rows, frame, signals, symbol, settings, market, tf)
    ordered = cr_rules.refusal_counts(_refused(rows, frame.timestamp, tf))
    steps = int(rows[:, 7].sum())
    stops = TradingStops(halts, cr.loss_days(days, int(memory[8]), risk.timezone), ordered)
    equity = equity_curve(closes_ms, curve)
    rejected = int((rows[:, 0] == REJECTED).sum())
    return BacktestResult(settings.strategy, dict(params), (symbol,), settings.timeframe,
                          settings.start_balance, settings.quote, trades, equity, len(frame), steps, rejected,
                          dict(assumptions), stops, "compiled")


def _refused(rows: np.ndarray, opens_ms: np.ndarray, tf: int) -> list[tuple[int, int]]:
    """Return the (time ms, code) of each refusal in the loop's rows, in row order: a REFUSED row at its
    entry signal's close, a TRADE's refused entry signal at its exit decision's close."""
    kind, code = rows[:, 0], rows[:, 2]
    chosen = np.flatnonzero((kind == REFUSED) | ((kind == TRADE) & (code > 0)))  # the rest refuse nothing
    picked = rows[chosen]
    at = np.where(picked[:, 0] == REFUSED, opens_ms[picked[:, 1].astype(np.int64)] + tf,
                  opens_ms[picked[:, 4].astype(np.int64)])
    return list(zip(at.tolist(), picked[:, 2].astype(np.int64).tolist(), strict=True))


# ── the loop ────────────────────────────────────────────────────────────────────────────────────
@numba.njit(cache=True, nogil=True)
def _loop(ohlc, enter, leave, stops, targets, confidence, low, candidates, trail, p, clock, risk, detail,  # type: ignore[no-untyped-def]  # noqa: C901, PLR0912, PLR0913, PLR0915, PLR0917
          has_detail):
    opens, highs, lows, closes = ohlc
    open_ms, close_ms, open_day, close_day = clock
    n = len(opens)
    memory, money, loss_days = risk  # RiskState of one pair (compiled_risk)
    watch = p[27] < 1.0 or p[28] < 1.0  # equity guards that can act (at 100 % only a zero equity would)
    records = np.zeros((len(candidates), 12))  # each pass takes one candidate and writes at most one row
    history = np.zeros(int(p[19]))  # the closed trades' PnL, newest last (EngineState's history)
    kept = 0
    cash, taker, slip, step = p[0], p[1], p[3], p[12]
    count, ci, start = 0, 0, 0
    levels = np.empty(6)  # the exit search's position, refilled per trade (one allocation per run)
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
        ahead = min(k + 1, n - 1)  # the exit search's first candle: its lines load while the entry is decided
        hints.prefetch(opens, ahead)
        hints.prefetch(highs, ahead)
        hints.prefetch(lows, ahead)
        hints.prefetch(leave, ahead)
        # the candidate's values read together: their cache misses overlap instead of queueing
        entry, conf, stop, target, below = closes[k], confidence[k], stops[k], targets[k], low[k]
        valid = math.isfinite(entry) and entry > 0.0 and math.isfinite(conf) and 0.0 <= conf <= 1.0
        today, now = close_day[k], close_ms[k]
        guard = cr_rules.request_refusal(memory[6] > 0.0, enter[k], valid)
        if not guard:
            guard = cr.guards(memory, today, now, p)
        if guard:
            row = records[count]
            count += 1
            row[0], row[1], row[2], row[7] = REFUSED, k, guard, 1.0
            start = k + 1
            continue
        given = not math.isnan(stop)
        if not given:
            stop = entry * (1.0 - p[9])
        stop = cr_rules.stop_up(stop, p[11], given)
        if math.isnan(stop):
            return 8, records, count
        code, steps = cr_rules.refusal(entry, stop, conf, below, cash, cash, 0.0, p, history, kept)
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
        status, price, cost, fee = cp.entry_fill(amount, opens[k + 1], cash, p)
        if status == cp.REJECTED_FOR_FUNDS:
            row[0], row[7] = REJECTED, 2.0
            start = k + 1
            if watch:
                status = cr.observe(memory, money, cash, open_day[k + 1], open_ms[k + 1], p, loss_days)
                if status:
                    return status, records, count
            continue
        if status:
            return status, records, count
        if not math.isnan(target):
            target = cr_rules.to_nearest(target, p[11])
        status = cp.protected(steps, amount, price, stop, target, p)
        if status:
            return status, records, count
        cash -= cost + fee
        if watch:
            status = cr.observe(memory, money, cash + amount * closes[k], open_day[k + 1], open_ms[k + 1], p,
                                loss_days)
            if status:
                return status, records, count
        levels[0], levels[1], levels[2] = 1.0, price, stop
        levels[3], levels[4], levels[5] = target, price, has_detail
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
            exit_k, kind, rate = n - 1, X_END, taker
            exit_raw = closes[n - 1]
            out_price = cp.slipped(exit_raw, slip, -1.0)
            nsteps += 1.0
            start = n
        elif found == kernel.CLOSE:
            kind = cp.close_kind(trail, price, stop_at, hw_at, highs[idx], lows[idx], closes[idx], leave[idx])
            if not kind:
                return 6, records, count
            if enter[idx]:  # an entry signal while holding: the count caps refuse it
                valid = math.isfinite(confidence[idx]) and 0.0 <= confidence[idx] <= 1.0
                guard = cr_rules.request_refusal(memory[6] > 0.0, enter[idx], valid)
                if not guard:
                    guard = cr.guards(memory, close_day[idx], close_ms[idx], p)
                refused_close = float(guard) if guard else 5.0 if p[17] <= 1.0 else 6.0  # open, then per pair
            if idx + 1 >= n:
                return 2, records, count
            exit_k, rate = idx + 1, taker
            exit_raw = opens[idx + 1]
            out_price = cp.slipped(exit_raw, slip, -1.0)
            nsteps += 1.0
            start = idx + 1
        else:  # the resting stop or take-profit fills inside candle idx
            kind, exit_raw, out_price, rate = cp.protective_fill(found, raw, stop_at, target, detail,
                                                                 open_ms[idx], close_ms[idx], p)
            exit_k = idx
            start = idx
        row[10] = fee
        status, proceeds = cp.book_exit(row, amount, price, kind, exit_k, exit_raw, out_price, rate)
        if status:
            return status, records, count
        cash += proceeds
        row[0], row[2], row[5] = TRADE, refused_close, steps
        row[6] = 1.0 if stop_at != stop else 0.0
        row[7], row[8] = nsteps, price
        pnl = row[11]
        # the exit fill's step: the flat equity, then risk.state.on_trade_closed
        if kind == X_END:
            done_ms, today = close_ms[n - 1], close_day[n - 1]
        else:
            done_ms, today = open_ms[exit_k], open_day[exit_k]
        if watch:
            status = cr.observe(memory, money, cash, today, done_ms, p, loss_days)
            if status:
                return status, records, count
        cr.on_trade_closed(memory, pnl, cp.stopped_out(kind), today, done_ms, p)
        kept = cp.remember(history, kept, pnl)
    return 0, records, count


RULE_FILES: Final = (rules.__file__, sizing.__file__, guard_rules.__file__, cr.__file__, limits.__file__,
                     kernel.__file__, cr_rules.__file__, cp.__file__, hints.__file__)
"""The files whose functions ``_loop`` inlines: numba keys its cache on this file only."""
kernel._flush_stale_cache(_loop, RULE_FILES)
