"""Opening a position: the PENDING_ENTRY position with its entry order, and entry fills.

Protection starts when the entry is complete (fully filled, or cancelled/rejected after a partial
fill): an unfinished limit entry has no stop, so the engine should cancel stale limit entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trader.core.domain.commands import CancelOrder, Command, PlaceOrder
from trader.core.domain.entries import Approved, EntryRequest
from trader.core.domain.enums import OrderPurpose, OrderType, ProtectionKind
from trader.core.domain.ids import PositionId, client_order_id
from trader.core.domain.orders import OrderRequest
from trader.core.errors import InvariantViolation
from trader.core.positions import position_events as ev
from trader.core.positions.closing import NO_COMMANDS, Result, close, is_dust, rest, start_exit
from trader.core.positions.pnl import average_price, fee_split
from trader.core.positions.protection import (
    PositionContext,
    carries_bracket,
    desired_resting,
    held_after,
    protection_kind,
)
from trader.core.positions.state import Position, PositionStatus, evolve


def open_position(position_id: PositionId, request: EntryRequest, approved: Approved, now: datetime,
                  ctx: PositionContext) -> tuple[Position, tuple[Command, ...]]:
    """Return a PENDING_ENTRY position for an approved request and the command placing its entry."""
    market = ctx.market
    limit = request.entry_price if request.limit else None
    if limit is not None:
        limit = market.round_price(limit)
    # Levels are stored on the tick, as the venue will hold them, so state, alerts and orders agree.
    stop = market.round_stop(approved.stop_price, request.direction)
    target = None if request.take_profit is None else market.round_price(request.take_profit)
    attach = carries_bracket(market, limit is not None)
    position = Position(
        id=position_id, symbol=request.symbol, strategy=request.strategy, direction=request.direction,
        status=PositionStatus.PENDING_ENTRY, amount=approved.amount, stop_price=stop,
        take_profit=target, confidence=request.confidence, reason=request.reason,
        created_at=now, entry_limit=limit, requested_price=approved.entry_price,
        initial_stop=stop, entry_attempt=1, leverage=approved.leverage,
        protection=ProtectionKind.ATTACHED if attach else ProtectionKind.NONE,
    )
    order = OrderRequest(
        client_order_id=client_order_id(position_id, OrderPurpose.ENTRY, 0), position_id=position_id,
        symbol=request.symbol, side=request.direction.entry_side,
        type=OrderType.LIMIT if limit is not None else OrderType.MARKET, purpose=OrderPurpose.ENTRY,
        amount=approved.amount, price=limit, attached_stop=stop if attach else None,
        attached_take_profit=target if attach and market.capabilities.attached_take_profit else None,
    )
    return position, (PlaceOrder(order),)


def on_entry_fill(position: Position, fill: ev.EntryFilled, ctx: PositionContext) -> Result:
    """Book one entry fill; open (and protect) the position once the entry is complete."""
    executed = position.entry_executed + fill.amount
    if fill.amount <= 0 or executed > position.amount:
        raise InvariantViolation(
            f"{position.id}: entry fill {fill.amount} takes executed {executed} past {position.amount}")
    held, fee_quote = fee_split(fill.amount, fill.price, fill.fee, fill.fee_in_base,
                                reduces_holding=position.is_long)
    changes = {
        "entry_price": average_price(position.entry_executed, position.entry_price, fill.amount, fill.price),
        "entry_executed": executed,
        "filled": position.filled + held,
        "fees": position.fees + fee_quote,
        "realised_pnl": position.realised_pnl - fee_quote,
        "opened_at": position.opened_at or fill.at,
        "high_water": position.high_water or fill.price,
    }
    if executed == position.amount:
        return become_open(position, fill.at, ctx, **changes)
    return evolve(position, **changes), NO_COMMANDS


def on_entry_ended(position: Position, event: ev.EntryCancelled | ev.EntryRejected,
                   ctx: PositionContext) -> Result:
    """Keep a partial fill as an open position; otherwise end as CANCELLED or REJECTED."""
    if position.filled > 0:
        return become_open(position, event.at, ctx)
    if isinstance(event, ev.EntryRejected):
        return evolve(position, status=PositionStatus.REJECTED, closed_at=event.at,
                      note=event.reason), NO_COMMANDS
    return evolve(position, status=PositionStatus.CANCELLED, closed_at=event.at), NO_COMMANDS


def on_exit_while_pending(position: Position, event: ev.ExitRequested, ctx: PositionContext) -> Result:
    """Cancel the entry; whatever filled is sold as soon as the entry ends."""
    del ctx
    entry_id = client_order_id(position.id, OrderPurpose.ENTRY, position.entry_attempt - 1)
    command = CancelOrder(position.symbol, entry_id)
    return evolve(position, exit_reason=position.exit_reason or event.reason), (command,)


def become_open(position: Position, at: datetime | None, ctx: PositionContext, **extra: Any) -> Result:
    """Move to OPEN and place protection, or exit at once when an exit was asked for meanwhile.

    ``extra`` carries the entry fill's changes so the event copies the position once.
    """
    kind = position.protection if position.protection is ProtectionKind.ATTACHED \
        else protection_kind(ctx.market.capabilities)
    entry_price = extra.get("entry_price", position.entry_price)
    if is_dust(held_after(position, extra), entry_price, ctx.market):
        return close(position, at, protection=kind, **extra), NO_COMMANDS
    if position.exit_reason is not None:
        return start_exit(position, position.exit_reason, at, ctx, protection=kind, **extra)
    wanted = desired_resting(position, None, ctx, protection=kind)
    return rest(position, wanted, ctx, status=PositionStatus.OPEN, protection=kind, **extra)
