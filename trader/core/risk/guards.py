"""Account guards: each returns a Refused with a reason the bot can show, or None to let the entry pass.

A guard reads the state as if the day had already rolled (counters of a stale day count as zero),
so ``check`` stays correct even when the engine has not called ``roll_day`` yet.

The guards' arithmetic is ``risk.guard_rules`` (one source for the engine and
the compiled backtest loop).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

from trader.config.sections import RiskConfig
from trader.core.domain.entries import RefusalReason, Refused
from trader.core.domain.enums import TradingState
from trader.core.risk import guard_rules
from trader.core.risk.guard_rules import cooling, counted_today, limit_reached
from trader.core.risk.state import RiskState


def trading_state_guard(state: RiskState) -> Refused | None:
    """Refuse while halted (manual or drawdown) or paused."""
    if state.trading_state is TradingState.HALTED:
        return Refused(RefusalReason.HALTED, f"trading is halted: {state.halt_reason or 'by an admin'}")
    if state.trading_state is TradingState.PAUSED:
        return Refused(RefusalReason.PAUSED, f"new entries are paused: {state.halt_reason or 'by an admin'}")
    return None


def drawdown_guard(state: RiskState, equity: Decimal, cfg: RiskConfig) -> Refused | None:
    """Refuse when equity is ``max_drawdown_pct`` or more below its peak."""
    peak = equity if state.peak_equity is None else max(state.peak_equity, equity)
    if peak <= 0:
        return None
    drawdown = guard_rules.drawdown(peak, equity)
    if drawdown >= cfg.max_drawdown_pct:
        return Refused(RefusalReason.MAX_DRAWDOWN,
                       f"equity {equity:.2f} is {drawdown:.2%} below its peak {peak:.2f} "
                       f"(limit {cfg.max_drawdown_pct:.2%}); trading halts until resumed")
    return None


def daily_loss_guard(state: RiskState, equity: Decimal, today: date, cfg: RiskConfig) -> Refused | None:
    """Refuse for the rest of the day once today's loss (realised + unrealised) reached the limit.

    The loss is measured as the fall of equity (which includes open positions at market) from the
    start-of-day equity, so realised and unrealised losses both count.
    """
    if state.daily_loss_day == today:
        return Refused(RefusalReason.DAILY_LOSS_LIMIT,
                       f"the daily loss limit {cfg.daily_loss_limit_pct:.2%} was hit today; "
                       "entries resume tomorrow")
    start = state.day_start_equity if state.day == today else None
    if start is None or start <= 0:
        return None
    loss = guard_rules.day_loss(start, equity)
    if loss >= cfg.daily_loss_limit_pct:
        return Refused(RefusalReason.DAILY_LOSS_LIMIT,
                       f"down {loss:.2%} today (limit {cfg.daily_loss_limit_pct:.2%}); "
                       "entries resume tomorrow")
    return None


def consecutive_stops_guard(state: RiskState, today: date, cfg: RiskConfig) -> Refused | None:
    """Refuse after ``max_consecutive_stops`` losing stop-outs in a row (until tomorrow or resume)."""
    streak = counted_today(state.consecutive_stops, state.day, today)
    if limit_reached(streak, cfg.max_consecutive_stops):
        return Refused(RefusalReason.CONSECUTIVE_STOPS,
                       f"{streak} stop-losses in a row (limit {cfg.max_consecutive_stops}); "
                       "entries resume tomorrow or on /resume")
    return None


def trades_per_day_guard(state: RiskState, today: date, cfg: RiskConfig) -> Refused | None:
    """Refuse once ``max_trades_per_day`` entries were opened today."""
    trades = counted_today(state.trades_today, state.day, today)
    if limit_reached(trades, cfg.max_trades_per_day):
        return Refused(RefusalReason.MAX_TRADES_PER_DAY,
                       f"{trades} trades opened today (limit {cfg.max_trades_per_day})")
    return None


def cooldown_guard(state: RiskState, symbol: str, now: datetime) -> Refused | None:
    """Refuse while the pair is cooling down after its last closed trade."""
    until = state.cooldowns.get(symbol)
    if until is None or not cooling(now, until):
        return None
    minutes = math.ceil((until - now).total_seconds() / 60)
    shown = until.astimezone(UTC)
    return Refused(RefusalReason.COOLDOWN,
                   f"{symbol} is cooling down after its last trade until {shown:%Y-%m-%d %H:%M} UTC "
                   f"({minutes} min left)")

