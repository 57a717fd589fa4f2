"""The compiled loop for several pairs sharing one account: ``backtest.fast_pairs``' events in numba.

The pairs' events interleave as the runner's event queue orders them (``event_queue``): each pair has
one next event (an entry candidate or an exit decision on a close, a market fill or a protective exit
at an open); the earliest (time, phase) goes first, every pair's event at that instant together, in
pair name order. At each instant the loop does what one ``engine.step`` does, in its order (the order
``fast_pairs._Pairs.process`` walks): the fills first (entry fills checked against the cash each fill
before left, protective and market exits), the risk memory (the equity marks since the last step, then
the step's own equity), the trades closed, the exit decisions on the close (trailing, exit signals),
then the entry signals in pair order through ``risk.check``'s rules with every active position and the
free cash lowered by the entries approved before in the same instant. Then each pair's next event.

Every decision calls the function the engine calls: the entry decision is ``compiled_rules.refusal``
(``risk.sizing``, ``risk.limits.capped``) after ``compiled_risk.guards`` (``risk.guard_rules``), the
exit search is ``kernel._find_exit``, and a position's fills, exit decision and money are
``compiled_position``'s (the per-position kernel the one-pair loop ``backtest.compiled`` calls too).
The per-pair cooldowns are kept here and handed to the guard functions; the trade counts, stop
streak, daily loss, drawdown halt and Kelly history are the account's. A candle that touches both a
stop and a take-profit is decided by the pair's detail candles (``compiled_rules.detail_fill`` over
``price_rules.detail_exit``, the rule the engine path's matching walks).
tests/unit/core/backtest/test_compiled_pairs.py checks it against the engine path trade for trade.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numba
import numpy as np

from trader.core import memo
from trader.core.analytics.records import equity_curve
from trader.core.backtest import compiled_position as cp
from trader.core.backtest import compiled_risk as cr
from trader.core.backtest import compiled_rules as rl
from trader.core.backtest import kernel
from trader.core.backtest.compiled_pairs_inputs import book_pairs, candle_arrays, pair_params
from trader.core.backtest.compiled_records import REJECTED, TRADE, X_END
from trader.core.backtest.lanes import Lane
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.settings import BacktestSettings
from trader.core.backtest.stops import TradingStops
from trader.core.backtest.timeline import Timeline
from trader.core.domain import price_rules as rules
from trader.core.domain.candles import CandleFrame, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.risk import guard_rules
from trader.core.strategies.base import SignalFrame

# event kinds (the runner's payloads) and the two phases of an instant (event_queue's)
CANDIDATE: Final = 0
DECISION: Final = 1
MARKET_FILL: Final = 2
PROTECTIVE: Final = 3
_CLOSE, _FILL = 0, 1
# pair states
FLAT: Final = 0
PENDING: Final = 1
OPEN: Final = 2
EXITING: Final = 3
_NEVER: Final = np.iinfo(np.int64).max


def run_pairs(signals: Mapping[Symbol, SignalFrame], candles: Mapping[Symbol, CandleFrame],
              markets: Mapping[Symbol, MarketSpec], settings: BacktestSettings, params: Mapping[str, object],
              assumptions: Mapping[str, str],
              detail: Mapping[Symbol, CandleFrame] | None = None) -> BacktestResult:
    """Run several pairs on one account through the compiled loop; raise Fallback where it must.

    ``detail``: lower-timeframe candles per pair, read where one candle touches both levels.
    """
    risk = settings.risk
    tf = timeframe_ms(settings.timeframe)
    symbols = sorted(candles)
    lanes = {s: Lane.build(s, candles[s], signals[s], tf, allow_short=settings.allow_short) for s in symbols}
    frames = tuple(candles[s] for s in symbols)
    rows_keys = tuple(memo.rows_key(f) for f in frames) if memo.active() is not None else None
    timeline = Timeline.shared(lanes, risk.timezone, settings.quote, rows_keys)
    sigs = [signals[s] for s in symbols]
    off, ohlc, clock = candle_arrays(frames, tf, risk.timezone, rows_keys)
    cand = [lanes[s].candidates for s in symbols]
    coff = np.zeros(len(symbols) + 1, dtype=np.int64)
    coff[1:] = np.cumsum([len(c) for c in cand])
    flags = (np.concatenate([rl.entry_sides(s, settings.allow_short) for s in sigs]),
             np.concatenate([s.exit_long for s in sigs]))
    stop_loss, take_profit, confidence = (np.concatenate([getattr(s, name) for s in sigs])
                                          for name in ("stop_loss", "take_profit", "confidence"))
    # the loop reads the floor test on entry candidates only, and it is per row: test only those
    at = np.concatenate([off[j] + c for j, c in enumerate(cand)])
    low = np.zeros(len(confidence), dtype=np.bool_)
    low[at] = rl.below_floor(confidence[at], flags[0][at] > 0, risk.min_confidence)
    levels = (stop_loss, take_profit, confidence, low)
    p, trail = pair_params(settings, markets, symbols)
    closes_at = timeline.close_rows  # one row per pair, in symbol order (the lanes')
    given = [(detail or {}).get(s) for s in symbols]
    detail_data, doff = rl.detail_arrays(given)
    has_detail = np.array([0.0 if d is None else 1.0 for d in given])
    memory, money = cr.new_memory()
    days = np.zeros(len(timeline.times) + 4, dtype=np.int64)  # the daily-loss days, in order
    status, records, count, refused, nrefused, steps = _pairs_loop(
        ohlc, flags, levels, clock, (off, coff, np.concatenate(cand)), trail, p,
        (timeline.times, timeline.days, closes_at), (memory, money, days), (detail_data, doff, has_detail))
    halts = rl.checked_halts(status, memory, money)
    rows = records[:count]
    trades, curve = book_pairs(rows, candles, signals, markets, settings, timeline, tf)
    ordered = rl.refusal_counts((int(at), int(code)) for at, code in refused[:nrefused].tolist())
    stops = TradingStops(halts, cr.loss_days(days, int(memory[8]), risk.timezone), ordered)
    rejected = int((rows[:, 0] == REJECTED).sum())
    return BacktestResult(settings.strategy, dict(params), tuple(symbols), settings.timeframe,
                          settings.start_balance, settings.quote, trades,
                          equity_curve(timeline.times, curve), int(off[-1]), int(steps), rejected,
                          dict(assumptions), stops, "compiled")


# ── the loop ────────────────────────────────────────────────────────────────────────────────────
@numba.njit(cache=True, nogil=True)
def _pairs_account(cash, state, amount, opens, closes, close_ms, off, now):  # type: ignore[no-untyped-def]  # noqa: PLR0913, PLR0917
    """Return (equity, exposure): cash plus each holding at its pair's last close at ``now`` ."""
    exposure = 0.0
    for i in range(len(state)):
        if state[i] == OPEN or state[i] == EXITING:
            a, b = off[i], off[i + 1]
            k = np.searchsorted(close_ms[a:b], now, side="right") - 1
            exposure += amount[i] * (closes[a + k] if k >= 0 else opens[a])
    return cash + exposure, exposure


@numba.njit(cache=True, nogil=True)
def _pairs_marks(memory, money, cash, state, amount, timeline, p, first, last):  # type: ignore[no-untyped-def]  # noqa: PLR0913, PLR0917
    """Observe the equity at the timeline's closes ``first..last-1`` with the holdings constant (the
    runner's equity marks between steps: observing every close leaves the memory as its picks do)."""
    times, tdays, closes_at = timeline
    for j in range(first, last):
        equity = cash
        for i in range(len(state)):
            if state[i] == OPEN or state[i] == EXITING:
                equity += amount[i] * closes_at[i, j]
        status = cr._observe(memory, money, equity, tdays[j], times[j], p)
        if status:
            return status
    return 0


@numba.njit(cache=True, nogil=True)
def _pairs_loop(ohlc, flags, levels, clock, index, trail, p, timeline, risk, detail):  # type: ignore[no-untyped-def]  # noqa: C901, PLR0912, PLR0913, PLR0915, PLR0917
    opens, highs, lows, closes = ohlc
    enter, leave = flags
    stops, targets, confidence, low = levels
    open_ms, close_ms, open_day, close_day = clock
    off, coff, cands = index
    times = timeline[0]
    memory, money, loss_days = risk
    (d_ts, d_open, d_high, d_low), doff, has_detail = detail
    npairs = len(off) - 1
    p0 = p[0]  # the risk settings (the same in every row; the markets' columns differ)
    watch = p0[27] < 1.0 or p0[28] < 1.0
    records = np.zeros((2 * len(cands) + npairs + 1, 13))
    refused = np.zeros((len(cands) + len(opens) + 1, 2), dtype=np.int64)
    history = np.zeros(int(p0[19]))
    kept, count, nref, steps = 0, 0, 0, 0
    cash = p0[0]
    # each pair's next event: time, phase, kind, candle, kernel code, raw price, stop and high-water then
    ev_ms = np.full(npairs, _NEVER, dtype=np.int64)
    ev = np.zeros((npairs, 3), dtype=np.int64)  # phase, kind, candle (local)
    ev_f = np.zeros((npairs, 4))  # code, price, stop, high-water
    state = np.zeros(npairs, dtype=np.int64)
    amount = np.zeros(npairs)  # the approved (pending) or held amount
    pos = np.zeros((npairs, 6))  # steps, entry fill price, stop, take-profit, request's entry price, row
    cool = np.full(npairs, memory[3], dtype=np.int64)  # each pair's cooldown end (risk.state's per symbol)
    exit_kind = np.zeros(npairs, dtype=np.int64)
    closed = np.zeros(npairs, dtype=np.int64)
    batch = np.zeros(npairs, dtype=np.int64)
    last_ms = _NEVER  # no step yet
    for i in range(npairs):
        if coff[i + 1] > coff[i]:
            k = cands[coff[i]]
            ev_ms[i], ev[i, 0], ev[i, 1], ev[i, 2] = close_ms[off[i] + k], _CLOSE, CANDIDATE, k
    while True:
        now, phase = _NEVER, 2
        for i in range(npairs):
            if ev_ms[i] < now or (ev_ms[i] == now and ev[i, 0] < phase):
                now, phase = ev_ms[i], ev[i, 0]
        if now == _NEVER:
            break
        nb = 0
        for i in range(npairs):
            if ev_ms[i] == now and ev[i, 0] == phase:
                batch[nb] = i
                nb += 1
        g = off[batch[0]] + ev[batch[0], 2]
        today = open_day[g] if phase == _FILL else close_day[g]
        if watch and last_ms != _NEVER:  # the equity marks since the last step, before this instant's fills
            a = np.searchsorted(times, last_ms, side="right")
            b = np.searchsorted(times, now, side="right") if phase == _FILL else np.searchsorted(times, now)
            status = _pairs_marks(memory, money, cash, state, amount, timeline, p0, a, b)
            if status:
                return status, records, count, refused, nref, steps
        last_ms = now
        # the fills, in pair order
        nclosed = 0
        for j in range(nb):
            i = batch[j]
            kind, k = ev[i, 1], ev[i, 2]
            a = off[i]
            pi = p[i]
            if kind == PROTECTIVE or (kind == MARKET_FILL and state[i] == EXITING):
                row = records[int(pos[i, 5])]
                if kind == PROTECTIVE:
                    d0, d1 = doff[i], doff[i + 1]
                    own = (d_ts[d0:d1], d_open[d0:d1], d_high[d0:d1], d_low[d0:d1])  # the pair's detail
                    xkind, raw, out, rate = cp.protective_fill(
                        int(ev_f[i, 0]), ev_f[i, 1], ev_f[i, 2], pos[i, 3], own, open_ms[a + k],
                        close_ms[a + k], pi)
                    row[6] = 1.0 if ev_f[i, 2] != pos[i, 2] else 0.0  # the stop had trailed
                else:
                    raw = opens[a + k]
                    xkind, out, rate = exit_kind[i], cp.slipped(raw, pi[3], -1.0), pi[1]
                status, proceeds = cp.book_exit(row, amount[i], pos[i, 1], xkind, k, raw, out, rate)
                if status:
                    return status, records, count, refused, nref, steps
                cash += proceeds
                closed[nclosed] = i
                nclosed += 1
                state[i], amount[i] = FLAT, 0.0
            elif kind == MARKET_FILL:  # the entry fill at the open after the signal
                status, price, cost, fee = cp.entry_fill(amount[i], opens[a + k], cash, pi)
                if status > 0:
                    return status, records, count, refused, nref, steps
                row = records[count]
                row[1], row[12] = k - 1, i
                count += 1
                if status == cp.REJECTED_FOR_FUNDS:
                    row[0] = REJECTED
                    state[i], amount[i] = FLAT, 0.0
                    continue
                status = cp.protected(pos[i, 0], amount[i], price, pos[i, 2], pos[i, 3], pi)
                if status:
                    return status, records, count, refused, nref, steps
                cash -= cost + fee
                row[0], row[5], row[8], row[10] = TRADE, pos[i, 0], price, fee
                pos[i, 1], pos[i, 5] = price, count - 1
                state[i] = OPEN
        equity, exposure = _pairs_account(cash, state, amount, opens, closes, close_ms, off, now)
        steps += 1
        if equity <= 0.0:
            return 1, records, count, refused, nref, steps
        if watch:
            status = cr.observe(memory, money, equity, today, now, p0, loss_days)
            if status:
                return status, records, count, refused, nref, steps
        for j in range(nclosed):  # the trades closed (risk.state.on_trade_closed, the Kelly history)
            i = closed[j]
            row = records[int(pos[i, 5])]
            kept = _pairs_closed(memory, cool, i, row, today, now, p0, history, kept)
        # the exit decisions on this close (trailing past the close, exit signals)
        for j in range(nb):
            i = batch[j]
            if ev[i, 1] != DECISION:
                continue
            g = off[i] + ev[i, 2]
            xkind = cp.close_kind(trail[i], pos[i, 1], ev_f[i, 2], ev_f[i, 3], highs[g], lows[g], closes[g],
                                  leave[g])
            if not xkind:
                return 6, records, count, refused, nref, steps
            records[int(pos[i, 5]), 6] = 1.0 if ev_f[i, 2] != pos[i, 2] else 0.0
            state[i], exit_kind[i] = EXITING, xkind
        # the entry signals, in pair order, each seeing the entries approved before it
        free = cash
        for j in range(nb):
            i = batch[j]
            if ev[i, 1] != CANDIDATE and ev[i, 1] != DECISION:
                continue
            g = off[i] + ev[i, 2]
            if not enter[g]:  # the entry step.apply_entries asks for (rl.entry_sides)
                continue
            pi = p[i]
            entry, conf = closes[g], confidence[g]
            valid = np.isfinite(entry) and entry > 0.0 and np.isfinite(conf) and 0.0 <= conf <= 1.0
            guard = rl.request_refusal(memory[6] > 0.0, enter[g], valid)
            if not guard:
                memory[3] = cool[i]
                guard = cr.guards(memory, today, now, pi)
            if not guard:
                active = 0
                for q in range(npairs):
                    active += state[q] != FLAT
                if active >= pi[17]:
                    guard = 5
                elif state[i] != FLAT:
                    guard = 6
            steps_ = 0.0
            if not guard:
                stop = stops[g]
                given = not np.isnan(stop)
                stop = rl.stop_up(stop if given else entry * (1.0 - pi[9]), pi[11], given)
                if np.isnan(stop):
                    return 8, records, count, refused, nref, steps
                ours = 0.0  # limits.current_exposure: the positions' committed value
                for q in range(npairs):
                    if state[q] == PENDING:
                        ours += amount[q] * pos[q, 4]
                    elif state[q] != FLAT:
                        ours += amount[q] * pos[q, 1]
                guard, steps_ = rl.refusal(entry, stop, conf, low[g], equity, free, max(exposure, ours), pi,
                                           history, kept)
                if steps_ < 0.0:
                    return int(-steps_), records, count, refused, nref, steps
            if guard:
                refused[nref, 0], refused[nref, 1] = now, guard
                nref += 1
                continue
            cr.on_entry(memory, today)
            state[i], amount[i] = PENDING, steps_ * pi[12]
            target = targets[g]
            pos[i, 0], pos[i, 2], pos[i, 3], pos[i, 4] = steps_, stop, target, entry
            if not np.isnan(target):
                pos[i, 3] = rl.to_nearest(target, pi[11])
            free -= amount[i] * entry * (1.0 + pi[16])
        # what happens next for each pair of the batch (runner._schedule)
        for j in range(nb):
            i = batch[j]
            _pairs_schedule(i, ev_ms, ev, ev_f, state, pos, ohlc, leave, trail[i], open_ms, close_ms, off,
                            coff, cands, has_detail[i])
    # the end of the data: close what is open at the last close, in the runner's two steps
    if not (state != FLAT).any():
        return 0, records, count, refused, nref, steps
    if ((state == PENDING) | (state == EXITING)).any():
        return 2, records, count, refused, nref, steps
    last = np.argmax(close_ms[off[1:] - 1])
    end = close_ms[off[last + 1] - 1]
    today = close_day[off[last + 1] - 1]
    if watch and last_ms != _NEVER:
        first = np.searchsorted(times, last_ms, side="right")
        upto = np.searchsorted(times, end)
        status = _pairs_marks(memory, money, cash, state, amount, timeline, p0, first, upto)
        if status:
            return status, records, count, refused, nref, steps
    equity, _ = _pairs_account(cash, state, amount, opens, closes, close_ms, off, end)
    steps += 2
    if watch:
        status = cr.observe(memory, money, equity, today, end, p0, loss_days)
        if status:
            return status, records, count, refused, nref, steps
    nclosed = 0
    for i in range(npairs):
        if state[i] == OPEN:
            n = off[i + 1] - off[i]
            raw = closes[off[i + 1] - 1]
            row = records[int(pos[i, 5])]
            status, proceeds = cp.book_exit(row, amount[i], pos[i, 1], X_END, n - 1, raw,
                                            cp.slipped(raw, p[i, 3], -1.0), p[i, 1])
            if status:
                return status, records, count, refused, nref, steps
            cash += proceeds
            closed[nclosed] = i
            nclosed += 1
            state[i], amount[i] = FLAT, 0.0
    if watch:
        status = cr.observe(memory, money, cash, today, end, p0, loss_days)
        if status:
            return status, records, count, refused, nref, steps
    for j in range(nclosed):
        i = closed[j]
        kept = _pairs_closed(memory, cool, i, records[int(pos[i, 5])], today, end, p0, history, kept)
    return 0, records, count, refused, nref, steps


@numba.njit(cache=True, nogil=True)
def _pairs_closed(memory, cool, i, row, today, now, p, history, kept):  # type: ignore[no-untyped-def]  # noqa: PLR0913, PLR0917
    """Book pair ``i``'s closed trade into the risk memory (its own cooldown) and the Kelly history."""
    memory[3] = cool[i]
    cr.on_trade_closed(memory, row[11], cp.stopped_out(int(row[3])), today, now, p)
    cool[i] = memory[3]
    return cp.remember(history, kept, row[11])


@numba.njit(cache=True, nogil=True)
def _pairs_schedule(i, ev_ms, ev, ev_f, state, pos, ohlc, leave, trail, open_ms, close_ms, off, coff, cands,  # type: ignore[no-untyped-def]  # noqa: PLR0913, PLR0917
                    has_detail):
    """Queue pair ``i``'s next event after its event at this instant (``fast_pairs._Pairs.schedule``)."""
    phase, kind, k = ev[i, 0], ev[i, 1], ev[i, 2]
    a, b = off[i], off[i + 1]
    ev_ms[i] = _NEVER
    if state[i] == PENDING or state[i] == EXITING:
        if k + 1 < b - a:
            ev_ms[i], ev[i, 0], ev[i, 1], ev[i, 2] = open_ms[a + k + 1], _FILL, MARKET_FILL, k + 1
    elif state[i] == OPEN:
        start = k + 1 if phase == _CLOSE or kind == PROTECTIVE else k
        opens, highs, lows, closes = ohlc
        levels = np.array([1.0, pos[i, 1], pos[i, 2], pos[i, 3], pos[i, 1], has_detail])
        idx, code, raw, stop_at, hw_at = kernel._find_exit(
            (opens[a:b], highs[a:b], lows[a:b], closes[a:b]), leave[a:b], start, levels, trail)
        ev_f[i, 0], ev_f[i, 1], ev_f[i, 2], ev_f[i, 3] = code, raw, stop_at, hw_at
        if code == kernel.CLOSE:
            ev_ms[i], ev[i, 0], ev[i, 1], ev[i, 2] = close_ms[a + idx], _CLOSE, DECISION, idx
        elif code != kernel.NONE:
            ev_ms[i], ev[i, 0], ev[i, 1], ev[i, 2] = open_ms[a + idx], _FILL, PROTECTIVE, idx
    else:
        start = k + 1 if phase == _CLOSE else k
        own = cands[coff[i]:coff[i + 1]]
        c = np.searchsorted(own, start, side="left")
        if c < len(own):
            ev_ms[i], ev[i, 0], ev[i, 1], ev[i, 2] = close_ms[a + own[c]], _CLOSE, CANDIDATE, own[c]


RULE_FILES: Final = (rules.__file__, cr.__file__, rl.__file__, cp.__file__, kernel.__file__,
                     guard_rules.__file__, *rl.SOURCES)
"""The files whose functions the loop inlines: numba keys its cache on this file only."""
for _dispatcher in (_pairs_loop, _pairs_account, _pairs_marks, _pairs_closed, _pairs_schedule):
    kernel._flush_stale_cache(_dispatcher, RULE_FILES)
