"""The arithmetic of the account guards, written once over plain values.

The engine (``risk.guards``, ``risk.state``) calls these with dates, aware datetimes and Decimals; the
compiled backtest loop (``backtest.compiled``) with integer day keys, epoch milliseconds and floats
inside numba (``COMPILABLE``). They must stay plain comparisons and integer arithmetic so both can.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

Day = TypeVar("Day")  # a trading day: a ``date`` in the engine, an integer day key in the compiled loop
Moment = TypeVar("Moment")  # a time: an aware ``datetime`` in the engine, epoch ms in the compiled loop
Num = TypeVar("Num", Decimal, float)


def drawdown(peak: Num, equity: Num) -> Num:
    """Return how far ``equity`` is below its ``peak``, as a fraction of the peak (peak > 0)."""
    return (peak - equity) / peak


def day_loss(start: Num, equity: Num) -> Num:
    """Return today's loss: the fall of ``equity`` from the day's ``start`` equity, a fraction (start > 0)."""
    return (start - equity) / start


def counted_today(count: int, counted_on: Day | None, today: Day) -> int:
    """Return a per-day counter as it reads on ``today``: zero when it was counted on another day."""
    return count if counted_on == today else 0


def limit_reached(count: int, limit: int) -> bool:
    """Return True when a per-day count (trades opened, stop-outs in a row) is at or over its limit."""
    return count >= limit


def cooling(now: Moment, until: Moment | None) -> bool:
    """Return True while ``now`` is before the end of a pair's cooldown (``until``, None: none)."""
    return until is not None and now < until  # type: ignore[operator]  # datetimes or ints, never mixed


def cooldown_after(pnl: Num, cooldown_minutes: int, after_loss_minutes: int) -> int:
    """Return the minutes a pair cools down after a trade that made ``pnl`` (0: no cooldown)."""
    return after_loss_minutes if pnl < 0 else cooldown_minutes


def stop_streak_after(streak: int, stopped_out: bool, pnl: Num) -> int:
    """Return the stop-loss streak after a closed trade: one more for a losing stop-out, else zero."""
    return streak + 1 if stopped_out and pnl < 0 else 0


COMPILABLE = (drawdown, day_loss, counted_today, limit_reached, cooling, cooldown_after, stop_streak_after)
"""The guard arithmetic the compiled backtest loop registers with numba."""
