"""The risk memory of the compiled backtest loop: ``RiskState`` of one pair in two arrays, updated and read
with the engine's own guard arithmetic (``risk.guard_rules``).

``backtest.compiled._loop`` calls these at the moments the Decimal paths step the risk memory
(``risk.state.on_equity``/``on_entry``/``on_trade_closed``) and read it (``risk.check``'s guards, in
their order). Equity is observed where the engine path observes it: at every step, and between steps
at each candle close while holding (``Timeline.equity_marks`` passes only the closes that can change
the memory: a day's first close, a new peak, a first breach; observing every close leaves the memory
the same) and at a flat pair's day changes (equity is the cash then, as at the next step).

Float equity differs from the engine's Decimal by about 1e-13 relative; a drawdown or daily loss that
sits within ``TOLERANCE`` of its limit stops the loop (``BOUNDARY``) and the Decimal fast path runs.
"""

from __future__ import annotations

import math
from datetime import UTC, date
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
from numba.extending import register_jitable

from trader.core.backtest import timeline  # noqa: F401 - registers risk.guard_rules with numba
from trader.core.backtest.stops import Halt
from trader.core.domain.candles import IntArray, ms_to_datetime
from trader.core.risk import guard_rules
from trader.core.risk.state import halt_detail

TOLERANCE: Final = 1e-11  # as ``compiled.TOLERANCE``: float and Decimal may disagree nearer than this
BOUNDARY: Final = 15  # the loop's fallback status for a drawdown or daily loss on its limit
# refusal codes (``compiled._REASONS`` index + 1), in ``risk.check``'s order of evaluation
HALTED: Final = 12
DAILY_LOSS: Final = 11
STREAK: Final = 8
TRADES: Final = 9
COOLDOWN: Final = 10
# int memory: counters' day, trades that day, stop streak that day, cooldown end (ms), equity's day,
# daily-loss day, halted (0/1), halt time (ms), daily-loss days recorded, daily-loss day at the last step
_NONE: Final = np.iinfo(np.int64).min


def new_memory() -> tuple[IntArray, np.ndarray]:  # type: ignore[type-arg]
    """Return the empty risk memory: (int fields, float fields: peak, day start, halt peak, halt equity)."""
    ints = np.array([_NONE, 0, 0, _NONE, _NONE, _NONE, 0, 0, 0, _NONE], dtype=np.int64)
    return ints, np.array([-math.inf, math.nan, math.nan, math.nan])


@register_jitable
def _reached(fraction: float, limit: float) -> int:
    """Return 1 when ``fraction >= limit``, 0 when below, -1 within float error of the limit."""
    if abs(fraction - limit) <= TOLERANCE * max(1.0, abs(limit)):
        return -1
    return 1 if fraction >= limit else 0


@register_jitable
def observe(memory, money, equity: float, day: int, at_ms: int, p, loss_days) -> int:  # type: ignore[no-untyped-def]
    """Record a step's own equity observation (``_observe``) and end the step as the stop log does.

    ``StopLog.observe`` compares the memory before and after a whole step: of the daily-loss days one
    step's observations flag (a holding that spans several losing days), it reports the last one.
    """
    status = _observe(memory, money, equity, day, at_ms, p)
    if memory[5] != memory[9]:
        memory[9] = memory[5]
        loss_days[memory[8]] = memory[5]
        memory[8] += 1
    return status


@register_jitable
def _observe(memory, money, equity: float, day: int, at_ms: int, p) -> int:  # type: ignore[no-untyped-def]
    """Record one equity observation as ``risk.state.on_equity``; return 0 or ``BOUNDARY``.

    Rolls the day (the day's start equity), tracks the peak, flags the daily-loss day and halts on
    the drawdown limit (once: a backtest never resumes). ``p[27]``/``p[28]`` are the drawdown and
    daily-loss limits.
    """
    if day != memory[4]:
        memory[4] = day
        money[1] = equity
    peak = max(money[0], equity)
    money[0] = peak
    start = money[1]
    if start > 0.0 and memory[5] != day:
        hit = _reached(guard_rules.day_loss(start, equity), p[28])
        if hit < 0:
            return BOUNDARY
        if hit:
            memory[5] = day
    if peak > 0.0 and memory[6] == 0:
        hit = _reached(guard_rules.drawdown(peak, equity), p[27])
        if hit < 0:
            return BOUNDARY
        if hit:
            memory[6], memory[7] = 1, at_ms
            money[2], money[3] = peak, equity
    return 0


@register_jitable
def holding_marks(memory, money, cash: float, amount: float, closes, close_day, close_ms,  # type: ignore[no-untyped-def]  # noqa: PLR0913, PLR0917
                  first: int, last: int, p) -> int:
    """Observe the equity at the closes ``first..last`` (inclusive) holding ``amount`` (no step ends)."""
    for j in range(first, last + 1):
        status = _observe(memory, money, cash + amount * closes[j], close_day[j], close_ms[j], p)
        if status:
            return status
    return 0


@register_jitable
def guards(memory, today: int, now_ms: int, p) -> int:  # type: ignore[no-untyped-def]
    """Return the refusal code of ``risk.check``'s daily-loss, stop-streak, trades-per-day and cooldown
    guards at ``now_ms`` on ``today``, or 0 (a halt is read first, before the request's validity).

    ``risk.guards.drawdown_guard`` cannot refuse first: the step's own observation of the same equity
    has halted trading already.
    """
    if memory[5] == today:
        return DAILY_LOSS
    if guard_rules.limit_reached(guard_rules.counted_today(memory[2], memory[0], today), p[26]):
        return STREAK
    if guard_rules.limit_reached(guard_rules.counted_today(memory[1], memory[0], today), p[25]):
        return TRADES
    if guard_rules.cooling(now_ms, memory[3]):
        return COOLDOWN
    return 0


@register_jitable
def on_entry(memory, today: int) -> None:  # type: ignore[no-untyped-def]
    """Count an approved entry as ``risk.state.on_entry`` (the day rolls first)."""
    memory[1] = guard_rules.counted_today(memory[1], memory[0], today) + 1
    memory[2] = guard_rules.counted_today(memory[2], memory[0], today)
    memory[0] = today


@register_jitable
def on_trade_closed(memory, pnl: float, stopped_out: bool, today: int, at_ms: int, p) -> None:  # type: ignore[no-untyped-def]
    """Book a closed trade as ``risk.state.on_trade_closed``: the pair's cooldown and the stop streak."""
    minutes = guard_rules.cooldown_after(pnl, int(p[23]), int(p[24]))
    if minutes > 0:
        memory[3] = at_ms + minutes * 60_000
    memory[1] = guard_rules.counted_today(memory[1], memory[0], today)
    streak = guard_rules.counted_today(memory[2], memory[0], today)
    memory[2] = guard_rules.stop_streak_after(streak, stopped_out, pnl)
    memory[0] = today


def halts(memory: IntArray, money: np.ndarray) -> tuple[Halt, ...] | None:  # type: ignore[type-arg]
    """Return the run's drawdown halt as the stop log reports it; None when its words sit on a rounding
    boundary of the percentage or the cents within float error (the Decimal path must word it)."""
    if not memory[6]:
        return ()
    peak, equity = float(money[2]), float(money[3])
    # the widest and the narrowest drawdown within float error: monotone rounding words all between alike
    worded = {halt_detail(_dec(peak * (1 + e * TOLERANCE)), _dec(equity * (1 - e * TOLERANCE)))
              for e in (-1, 1)}
    if len(worded) != 1:
        return None
    return (Halt(ms_to_datetime(int(memory[7])), worded.pop()),)


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))


def loss_days(days: IntArray, count: int, timezone: str) -> tuple[date, ...]:
    """Return the trading days (keys: local midnight in ns) on which the daily-loss limit was hit."""
    zone = UTC if timezone == "UTC" else ZoneInfo(timezone)
    return tuple(ms_to_datetime(int(key) // 1_000_000).astimezone(zone).date() for key in days[:count])
