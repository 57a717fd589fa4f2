"""RiskState: the account-wide counters and switches risk needs, as plain frozen data, and pure updates.

The store persists every field (``cooldowns`` as a JSON object symbol -> ISO time); the updates
return a new state and never mutate. Days are trading days in ``RiskConfig.timezone``; every update
rolls the day first, and ``check`` treats a state whose day is stale as already rolled, so a missed
roll can never block or allow a trade by mistake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from trader.config.sections import RiskConfig
from trader.core.domain.enums import ExitReason, TradingState
from trader.core.domain.money import ZERO
from trader.core.positions.state import Position, PositionStatus
from trader.core.risk.guard_rules import cooldown_after, day_loss, drawdown, stop_streak_after

_STOP_EXITS = frozenset({ExitReason.STOP_LOSS, ExitReason.TRAILING_STOP})


@dataclass(frozen=True, slots=True)
class RiskState:
    """Account-wide risk memory; HALTED survives restarts because the store persists it."""

    trading_state: TradingState = TradingState.ACTIVE
    halt_reason: str = ""  # why paused or halted, shown to the user
    flatten_requested: bool = False  # halt asked to close every position; engine clears it when done
    changed_at: datetime | None = None  # when trading_state last changed
    day: date | None = None  # current trading day (local date in the configured timezone)
    day_start_equity: Decimal | None = None
    trades_today: int = 0
    realised_today: Decimal = ZERO
    daily_loss_day: date | None = None  # trading day on which the daily loss limit was hit
    peak_equity: Decimal | None = None
    last_equity: Decimal | None = None
    consecutive_stops: int = 0
    cooldowns: Mapping[str, datetime] = field(default_factory=dict)  # symbol -> no entry before (UTC)


_FIELDS = tuple(f.name for f in fields(RiskState))
_GET_ALL = attrgetter(*_FIELDS)
_SETTERS = tuple(getattr(RiskState, name).__set__ for name in _FIELDS)
_SETTER = dict(zip(_FIELDS, _SETTERS, strict=True))


def _evolve(state: RiskState, **changes: Any) -> RiskState:
    """Return a copy of ``state`` with ``changes``: ``dataclasses.replace`` without the ``__init__`` pass.

    Hand-written (like ``positions.state.evolve``) because the backtest records equity on every event;
    this copies the slots directly, about twice as fast. Unknown field names raise KeyError.
    """
    new: RiskState = object.__new__(RiskState)
    for setter, value in zip(_SETTERS, _GET_ALL(state), strict=True):
        setter(new, value)
    for name, value in changes.items():
        _SETTER[name](new, value)
    return new


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def trading_day(now: datetime, timezone: str) -> date:
    """Return the trading day of the aware datetime ``now`` in ``timezone``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if timezone == "UTC" and now.tzinfo is UTC:  # the common case, without a zone conversion
        return now.date()
    return now.astimezone(_zone(timezone)).date()


def roll_day(state: RiskState, now: datetime, equity: Decimal, cfg: RiskConfig) -> RiskState:
    """Start a new trading day when ``now`` is on another day: reset daily counters, drop old cooldowns."""
    today = trading_day(now, cfg.timezone)
    if state.day == today:
        return state
    cooldowns = {symbol: until for symbol, until in state.cooldowns.items() if until > now}
    return _evolve(state, day=today, day_start_equity=equity, trades_today=0, realised_today=ZERO,
                   consecutive_stops=0, cooldowns=cooldowns)


def on_equity(state: RiskState, equity: Decimal, now: datetime, cfg: RiskConfig) -> RiskState:
    """Record equity: track the peak, flag the daily loss limit, halt on the drawdown limit."""
    state = roll_day(state, now, equity, cfg)
    peak = equity if state.peak_equity is None else max(state.peak_equity, equity)
    changes: dict[str, Any] = {}  # at most one copy per call, none when nothing changes (the common case)
    if peak != state.peak_equity or equity != state.last_equity:
        changes.update(peak_equity=peak, last_equity=equity)
    start = state.day_start_equity
    if (start is not None and start > 0 and state.daily_loss_day != state.day
            and day_loss(start, equity) >= cfg.daily_loss_limit_pct):
        changes["daily_loss_day"] = state.day
    if (peak > 0 and drawdown(peak, equity) >= cfg.max_drawdown_pct
            and state.trading_state is not TradingState.HALTED):
        detail = halt_detail(peak, equity)
        changes.update(trading_state=TradingState.HALTED, halt_reason=detail, changed_at=now)
    return _evolve(state, **changes) if changes else state


def halt_detail(peak: Decimal, equity: Decimal) -> str:
    """Return the reason a drawdown halt shows (the backtest's compiled loop words its halts with it)."""
    return f"drawdown {drawdown(peak, equity):.2%} from peak {peak:.2f} reached the limit"


def on_entry(state: RiskState, now: datetime, equity: Decimal, cfg: RiskConfig) -> RiskState:
    """Count an opened trade toward today's limit."""
    state = roll_day(state, now, equity, cfg)
    return _evolve(state, trades_today=state.trades_today + 1)


def on_trade_closed(state: RiskState, symbol: str, pnl: Decimal, exit_reason: ExitReason | None,
                    now: datetime, cfg: RiskConfig) -> RiskState:
    """Book a closed trade: today's realised PnL, the pair's cooldown, the consecutive-stop count."""
    equity = state.last_equity if state.last_equity is not None else ZERO
    state = roll_day(state, now, equity, cfg)
    minutes = cooldown_after(pnl, cfg.cooldown_minutes, cfg.cooldown_after_loss_minutes)
    cooldowns = dict(state.cooldowns)
    if minutes > 0:
        cooldowns[symbol] = now + timedelta(minutes=minutes)
    streak = stop_streak_after(state.consecutive_stops, exit_reason in _STOP_EXITS, pnl)
    return _evolve(state, realised_today=state.realised_today + pnl, cooldowns=cooldowns,
                   consecutive_stops=streak)


def halt(state: RiskState, reason: str, now: datetime, flatten: bool = False) -> RiskState:
    """Stop all new entries until resumed (persists); ``flatten`` also asks to close every position."""
    return replace(state, trading_state=TradingState.HALTED, halt_reason=reason, changed_at=now,
                   flatten_requested=flatten or state.flatten_requested)


def pause(state: RiskState, reason: str, now: datetime) -> RiskState:
    """Block new entries only; open positions keep their protection. A halt is not downgraded."""
    if state.trading_state is TradingState.HALTED:
        return state
    return replace(state, trading_state=TradingState.PAUSED, halt_reason=reason, changed_at=now)


def resume(state: RiskState, now: datetime, equity: Decimal | None = None) -> RiskState:
    """Allow entries again; re-anchor the drawdown peak at ``equity`` and clear the stop streak.

    The daily loss limit still holds until the next trading day.
    """
    peak = equity if equity is not None else state.peak_equity
    return replace(state, trading_state=TradingState.ACTIVE, halt_reason="", flatten_requested=False,
                   changed_at=now, peak_equity=peak, consecutive_stops=0)


def positions_to_flatten(state: RiskState, positions: Sequence[Position]) -> tuple[Position, ...]:
    """Return the positions a halt with ``flatten`` must close (send each ExitRequested(HALT))."""
    if not state.flatten_requested:
        return ()
    return tuple(p for p in positions if p.status.is_active and p.status is not PositionStatus.EXITING)


def flatten_done(state: RiskState) -> RiskState:
    """Clear the close-everything request once the engine has issued the exits."""
    return replace(state, flatten_requested=False)
