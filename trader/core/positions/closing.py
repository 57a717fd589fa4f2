"""Handlers that close a position or keep it protected: exit fills, market exits, price updates.

Intrabar assumption (stated once, relied on by the backtest): resting venue orders (native stop,
take-profit, OCO) are matched by the venue or simulator *before* the candle reaches the machine as
PriceUpdated. On PriceUpdated the machine first checks what it watches itself (the stop when it does
not rest on the venue, then the target), pessimistically stop first, then raises the high-water
mark, then ratchets the trailing stop (see ``positions.trailing``).

Each handler copies the position once on its common path (``**extra`` carries changes down to the
one ``evolve`` call) because the backtest runs these for every event.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from trader.core.domain import price_rules as rules
from trader.core.domain.commands import CancelOrder, Command, PlaceOrder, ReplaceStop
from trader.core.domain.enums import ExitReason, ProtectionKind
from trader.core.domain.market import MarketSpec
from trader.core.errors import InvariantViolation
from trader.core.positions import position_events as ev
from trader.core.positions.pnl import average_price, fee_split, price_gain
from trader.core.positions.protection import (
    RESTING,
    PositionContext,
    closing_order,
    desired_resting,
    first_attached,
    held_after,
    working_id,
)
from trader.core.positions.state import Position, PositionStatus, Working, evolve
from trader.core.positions.trailing import as_float, is_stop_hit, raise_high_water, ratchet, sign_of

Result = tuple[Position, tuple[Command, ...]]
NO_COMMANDS: tuple[Command, ...] = ()
MAX_EXIT_ATTEMPTS = 5  # after this many failed market exits the position goes to ERROR for a human


def is_dust(amount: Decimal, price: Decimal | None, market: MarketSpec) -> bool:
    """Return True when ``amount`` cannot be sold: rounds to zero or is below the venue minimums."""
    rounded = market.round_amount(amount)
    if rounded <= 0 or rounded < market.min_amount:
        return True
    return price is not None and rounded * price < market.min_cost


def stop_reason(position: Position) -> ExitReason:
    """Return TRAILING_STOP when the stop has moved since entry, else STOP_LOSS."""
    moved = position.initial_stop is not None and position.stop_price != position.initial_stop
    return ExitReason.TRAILING_STOP if moved else ExitReason.STOP_LOSS


def start_exit(position: Position, reason: ExitReason, at: datetime | None, ctx: PositionContext,
               **extra: Any) -> Result:
    """Send a market exit for the whole holding, replacing any resting protective order first."""
    if position.exit_reason is None or position.status is not PositionStatus.EXITING:
        extra["exit_reason"] = reason
    entry_price = extra.get("entry_price", position.entry_price)
    if is_dust(held_after(position, extra), entry_price, ctx.market):
        return close_cancelling(position, at, **extra)
    old_id = working_id(position) if position.working in RESTING else None
    position, request = closing_order(position, Working.EXIT, ctx.market, status=PositionStatus.EXITING,
                                      **extra)
    if old_id is not None:
        return position, (ReplaceStop(position.symbol, old_id, request),)
    return position, (PlaceOrder(request),)


def rest(position: Position, kind: Working, ctx: PositionContext, **extra: Any) -> Result:
    """Make ``kind`` the resting order (placing, replacing or cancelling as needed)."""
    old_id = working_id(position) if position.working in RESTING else None
    if kind is Working.OCO and not ctx.market.capabilities.oco and not first_attached(position):
        kind = Working.STOP  # only the venue's attached bracket is an OCO here; a new one is a stop
    if kind is Working.NONE:
        cleared = evolve(position, working=Working.NONE, working_amount=Decimal(0), **extra)
        return cleared, ((CancelOrder(position.symbol, old_id),) if old_id is not None else NO_COMMANDS)
    position, request = closing_order(position, kind, ctx.market, **extra)
    if old_id is not None:
        return position, (ReplaceStop(position.symbol, old_id, request),)
    return position, (PlaceOrder(request),)


def on_exit_fill(position: Position, fill: ev.StopFilled | ev.TakeProfitFilled | ev.ExitFilled,
                 ctx: PositionContext) -> Result:
    """Book one closing fill; close the position when what is left cannot be sold."""
    if fill.amount <= 0 or fill.amount > position.open_amount:
        raise InvariantViolation(
            f"{position.id}: exit fill {fill.amount} outside (0, held {position.open_amount}]")
    if position.entry_price is None:
        raise InvariantViolation(f"{position.id}: exit fill before any entry fill")
    _, fee_quote = fee_split(fill.amount, fill.price, fill.fee, fill.fee_in_base, reduces_holding=False)
    gain = price_gain(position.direction, position.entry_price, fill.price, fill.amount)
    is_tp = isinstance(fill, ev.TakeProfitFilled)
    default_reason = (ExitReason.TAKE_PROFIT if is_tp
                      else stop_reason(position) if isinstance(fill, ev.StopFilled) else ExitReason.MANUAL)
    exit_filled = position.exit_filled + fill.amount
    working_amount = max(position.working_amount - fill.amount, Decimal(0))
    changes: dict[str, Any] = {
        "exit_price": average_price(position.exit_filled, position.exit_price, fill.amount, fill.price),
        "exit_filled": exit_filled,
        "fees": position.fees + fee_quote,
        "realised_pnl": position.realised_pnl + gain - fee_quote,
        "working_amount": working_amount,
    }
    left = position.filled - exit_filled
    # A working order still selling the remainder finishes first; only then is a remainder dust.
    if left <= 0 or (working_amount <= 0 and is_dust(left, fill.price, ctx.market)):
        changes["exit_reason"] = position.exit_reason or default_reason
        return close_cancelling(position, fill.at, **changes)
    if position.status is not PositionStatus.OPEN or not is_tp:
        changes["exit_reason"] = position.exit_reason or default_reason
    if not is_tp:
        changes["status"] = PositionStatus.EXITING
    if working_amount > 0:
        return evolve(position, **changes), NO_COMMANDS
    # The order is done but coins remain (rare): finish the job from the booked position.
    booked = evolve(position, working=Working.NONE, **changes)
    if booked.status is PositionStatus.EXITING:
        return start_exit(booked, booked.exit_reason or default_reason, fill.at, ctx)
    return rest(booked, desired_resting(booked, None, ctx), ctx)


def on_exit_failed(position: Position, event: ev.ExitFailed, ctx: PositionContext) -> Result:
    """Re-send the market exit with a new attempt, or go to ERROR after MAX_EXIT_ATTEMPTS."""
    if position.working is not Working.EXIT:
        return position, NO_COMMANDS
    if position.exit_attempt >= MAX_EXIT_ATTEMPTS:
        note = f"market exit failed {position.exit_attempt} times: {event.reason}"
        return evolve(position, status=PositionStatus.ERROR, note=note, working=Working.NONE,
                      working_amount=Decimal(0)), NO_COMMANDS
    return start_exit(position, position.exit_reason or ExitReason.MANUAL, event.at, ctx)


def on_price(position: Position, event: ev.PriceUpdated, ctx: PositionContext) -> Result:
    """Check watched stop and target, then raise the high-water mark, ratchet and re-plan protection."""
    resting = position.working
    # The levels the venue does not hold are watched here, by the one intrabar rule. A closed candle
    # reaches us without its open, so no gap can be read: touching both counts as the stop.
    watched_stop = math.nan if resting in (Working.STOP, Working.OCO) else as_float(position.stop_price)
    watched_tp = math.nan if resting in (Working.TAKE_PROFIT, Working.OCO) else as_float(position.take_profit)
    sign = sign_of(position.direction)
    code, _ = rules.protective_exit(math.nan, float(event.high), float(event.low), sign, watched_stop,
                                    watched_tp, False)
    if code == rules.STOP:
        return start_exit(position, stop_reason(position), event.at, ctx)
    if code == rules.TAKE_PROFIT:
        return start_exit(position, ExitReason.TAKE_PROFIT, event.at, ctx)
    high_water = raise_high_water(position.high_water, event.high, event.low, position.direction)
    previous = stop = position.stop_price
    if position.entry_price is not None:
        stop = ratchet(stop, high_water, position.entry_price, ctx.trail, position.direction, ctx.market)
    extra: dict[str, Any] = {}
    if high_water != position.high_water:
        extra["high_water"] = high_water
    if stop != previous:
        extra["stop_price"] = stop
        if is_stop_hit(stop, event.close, event.close, position.direction):
            return start_exit(position, ExitReason.TRAILING_STOP, event.at, ctx, **extra)
        if previous is None:  # a first stop changes the plan itself: settle it before planning
            position, extra = evolve(position, **extra), {}
    if position.protection is not ProtectionKind.NONE:
        wanted = desired_resting(position, event.close, ctx)
        if wanted is not resting or (stop != previous and wanted in (Working.STOP, Working.OCO)):
            return rest(position, wanted, ctx, **extra)
    return (evolve(position, **extra) if extra else position), NO_COMMANDS


def close_cancelling(position: Position, at: datetime | None, **extra: Any) -> Result:
    """Close the position, cancelling a resting protective order that still has an amount left."""
    working_amount = extra.get("working_amount", position.working_amount)
    left = position.working in RESTING and working_amount > 0
    resting = working_id(position) if left else None
    closed = close(position, at, **extra)
    return closed, ((CancelOrder(position.symbol, resting),) if resting else NO_COMMANDS)


def close(position: Position, at: datetime | None, **extra: Any) -> Position:
    """Return the position CLOSED (with ``extra`` changes); an unsellable remainder is noted as dust."""
    held = held_after(position, extra)
    note = extra.pop("note", position.note)
    if held > 0:
        dust = f"closed leaving {held} unsellable dust"
        note = f"{note}; {dust}" if note else dust
    return evolve(position, status=PositionStatus.CLOSED, closed_at=at, working=Working.NONE,
                  working_amount=Decimal(0), note=note, **{k: v for k, v in extra.items()
                                                           if k not in _CLOSE_FIELDS})


_CLOSE_FIELDS = frozenset({"status", "closed_at", "working", "working_amount"})
