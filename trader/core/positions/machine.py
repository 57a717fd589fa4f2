"""The position state machine: ``apply(position, event, ctx) -> (position, commands)``.

Every legal (status, event type) pair is in ``TRANSITIONS``; anything else raises
InvariantViolation, which stops the engine so start-up reconciliation can recover. Handlers are
cheap (no validation beyond the invariants that protect money) because the backtest applies them
for every event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trader.core.domain.enums import ProtectionKind
from trader.core.domain.money import ZERO
from trader.core.errors import InvariantViolation
from trader.core.positions import position_events as ev
from trader.core.positions.closing import (
    NO_COMMANDS,
    Result,
    on_exit_failed,
    on_exit_fill,
    on_price,
    rest,
    start_exit,
    stop_reason,
)
from trader.core.positions.dca import on_add_ended, on_add_fill
from trader.core.positions.opening import on_entry_ended, on_entry_fill, on_exit_while_pending
from trader.core.positions.protection import PositionContext, desired_resting
from trader.core.positions.state import Position, PositionStatus, Working, evolve

Handler = Callable[[Position, Any, PositionContext], Result]
S = PositionStatus


def _ignore(position: Position, event: object, ctx: PositionContext) -> Result:
    del event, ctx
    return position, NO_COMMANDS


def _error(position: Position, event: ev.ErrorRaised, ctx: PositionContext) -> Result:
    del ctx
    return evolve(position, status=S.ERROR, note=event.detail), NO_COMMANDS


def _funding(position: Position, event: ev.FundingPaid, ctx: PositionContext) -> Result:
    """Book a funding charge like a fee: it is realised when paid, whatever the position does next."""
    del ctx
    return evolve(position, funding=position.funding + event.amount,
                  realised_pnl=position.realised_pnl - event.amount), NO_COMMANDS


def _exit_requested(position: Position, event: ev.ExitRequested, ctx: PositionContext) -> Result:
    if position.status is S.EXITING and position.working is Working.EXIT:
        return position, NO_COMMANDS  # already selling at market: asking twice changes nothing
    return start_exit(position, event.reason, event.at, ctx)


def _stop_triggered(position: Position, event: ev.StopTriggered, ctx: PositionContext) -> Result:
    del event, ctx
    reason = position.exit_reason or stop_reason(position)
    return evolve(position, status=S.EXITING, exit_reason=reason), NO_COMMANDS


def _stop_lost(position: Position, event: ev.StopRejected | ev.StopCancelled, ctx: PositionContext) -> Result:
    """The resting stop is gone: watch it ourselves (rejected) or place it again (cancelled)."""
    if position.working not in (Working.STOP, Working.OCO):
        return position, NO_COMMANDS
    position = evolve(position, working=Working.NONE, working_amount=ZERO)
    if isinstance(event, ev.StopRejected):
        position = evolve(position, protection=ProtectionKind.WATCHED)
    if position.status is S.EXITING:  # a triggered stop vanished: sell at market
        return start_exit(position, position.exit_reason or stop_reason(position), event.at, ctx)
    return rest(position, desired_resting(position, None, ctx), ctx)


def _tp_lost(position: Position, event: ev.TakeProfitRejected | ev.TakeProfitCancelled,
             ctx: PositionContext) -> Result:
    """The resting take-profit is gone: watch the target (rejected) or place it again (cancelled)."""
    if position.working is not Working.TAKE_PROFIT:
        return position, NO_COMMANDS
    position = evolve(position, working=Working.NONE, working_amount=ZERO)
    if isinstance(event, ev.TakeProfitRejected):
        position = evolve(position, tp_local=True)
    return rest(position, desired_resting(position, None, ctx), ctx)


_PENDING: dict[type, Handler] = {
    ev.FundingPaid: _funding,  # a partly filled entry is charged too
    ev.EntryFilled: on_entry_fill,
    ev.EntryCancelled: on_entry_ended,
    ev.EntryRejected: on_entry_ended,
    ev.ExitRequested: on_exit_while_pending,
    ev.PriceUpdated: _ignore,
    ev.ErrorRaised: _error,
}
_ADDS: dict[type, Handler] = {  # safety orders (DCA) are entries of a position already open
    ev.EntryFilled: on_add_fill,
    ev.EntryCancelled: on_add_ended,
    ev.EntryRejected: on_add_ended,
}
_OPEN: dict[type, Handler] = {
    **_ADDS,
    ev.FundingPaid: _funding,
    ev.PriceUpdated: on_price,
    ev.ExitRequested: _exit_requested,
    ev.StopPlaced: _ignore,
    ev.StopRejected: _stop_lost,
    ev.StopCancelled: _stop_lost,
    ev.StopTriggered: _stop_triggered,
    ev.StopFilled: on_exit_fill,
    ev.TakeProfitPlaced: _ignore,
    ev.TakeProfitRejected: _tp_lost,
    ev.TakeProfitCancelled: _tp_lost,
    ev.TakeProfitFilled: on_exit_fill,
    ev.ErrorRaised: _error,
}
_EXITING: dict[type, Handler] = {
    **_ADDS,
    ev.FundingPaid: _funding,
    ev.PriceUpdated: _ignore,
    ev.ExitRequested: _exit_requested,
    ev.ExitFilled: on_exit_fill,
    ev.ExitFailed: on_exit_failed,
    ev.StopPlaced: _ignore,
    ev.StopRejected: _stop_lost,
    ev.StopCancelled: _stop_lost,
    ev.StopTriggered: _ignore,
    ev.StopFilled: on_exit_fill,
    ev.TakeProfitPlaced: _ignore,
    ev.TakeProfitRejected: _ignore,
    ev.TakeProfitCancelled: _ignore,
    ev.TakeProfitFilled: on_exit_fill,
    ev.ErrorRaised: _error,
}
_ERROR: dict[type, Handler] = {  # a human or reconciliation may still close it; fills must be booked
    ev.FundingPaid: _funding,
    ev.ExitRequested: _exit_requested,
    ev.ExitFilled: on_exit_fill,
    ev.StopFilled: on_exit_fill,
    ev.TakeProfitFilled: on_exit_fill,
    ev.EntryFilled: on_add_fill,  # a safety order that filled anyway: the coins are held, book them
    ev.PriceUpdated: _ignore,
    ev.ErrorRaised: _error,
    # Venue news about its orders is a fact, not a bug: the position stays flagged for a human and the
    # unprotected alarm keeps firing, instead of every later cycle crashing on the same update.
    ev.EntryCancelled: _ignore,
    ev.EntryRejected: _ignore,
    ev.StopPlaced: _ignore,
    ev.StopRejected: _ignore,
    ev.StopCancelled: _ignore,
    ev.StopTriggered: _ignore,
    ev.TakeProfitPlaced: _ignore,
    ev.TakeProfitRejected: _ignore,
    ev.TakeProfitCancelled: _ignore,
    ev.ExitFailed: _ignore,
}
TRANSITIONS: dict[PositionStatus, dict[type, Handler]] = {
    S.PENDING_ENTRY: _PENDING, S.OPEN: _OPEN, S.EXITING: _EXITING, S.ERROR: _ERROR,
    S.CLOSED: {}, S.CANCELLED: {}, S.REJECTED: {},
}


def apply(position: Position, event: ev.PositionEvent, ctx: PositionContext) -> Result:
    """Return the position after ``event`` and the commands to execute; illegal events raise."""
    handler = TRANSITIONS[position.status].get(type(event))
    if handler is None:
        raise InvariantViolation(
            f"position {position.id}: {type(event).__name__} is not allowed in status {position.status}")
    return handler(position, event, ctx)


def can_apply(position: Position, event: ev.PositionEvent) -> bool:
    """Return True when ``event`` is legal for the position's status."""
    return type(event) in TRANSITIONS[position.status]
