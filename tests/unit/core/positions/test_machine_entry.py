"""Position machine: opening, entry fills (partial, base fee), cancel, reject, exit while pending."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.core.positions.make import NOW, context, opened, pending
from trader.core.domain.commands import CancelOrder, PlaceOrder
from trader.core.domain.enums import Direction, ExitReason, OrderPurpose, OrderType, ProtectionKind, Side
from trader.core.domain.ids import PositionId, client_order_id
from trader.core.errors import InvariantViolation
from trader.core.positions import position_events as ev
from trader.core.positions.machine import apply
from trader.core.positions.state import PositionStatus, Working

D = Decimal
PID = PositionId("pos1")


def test_open_position_is_pending_with_a_market_entry_order() -> None:
    p, cmds = pending(context(), amount="0.5")
    assert p.status is PositionStatus.PENDING_ENTRY and p.entry_attempt == 1
    assert p.initial_stop == p.stop_price == D(95) and p.requested_price == D(100)
    (cmd,) = cmds
    assert isinstance(cmd, PlaceOrder)
    r = cmd.request
    assert (r.type, r.side, r.amount, r.purpose) == (OrderType.MARKET, Side.BUY, D("0.5"), OrderPurpose.ENTRY)
    assert r.client_order_id == client_order_id(PID, OrderPurpose.ENTRY, 0)


def test_limit_entry_rests_at_the_rounded_price() -> None:
    p, (cmd,) = pending(context(), entry="100.004", stop="95", limit=True)
    assert isinstance(cmd, PlaceOrder)
    assert cmd.request.type is OrderType.LIMIT and cmd.request.price == D("100.00")
    assert p.entry_limit == D("100.00")


def test_full_fill_opens_and_places_native_stop_for_the_whole_holding() -> None:
    p, cmds = opened(context(), amount="1", price="100")
    assert p.status is PositionStatus.OPEN and p.protection is ProtectionKind.NATIVE
    assert p.opened_at == NOW and p.high_water == D(100)
    (cmd,) = cmds
    assert isinstance(cmd, PlaceOrder)
    r = cmd.request
    assert (r.type, r.side, r.amount, r.trigger_price) == (OrderType.STOP, Side.SELL, D(1), D(95))
    assert r.reduce_only and r.client_order_id == client_order_id(PID, OrderPurpose.STOP, 0)
    assert p.working is Working.STOP and p.working_amount == D(1) and p.stop_attempt == 1


def test_partial_fills_stay_pending_and_average_the_price() -> None:
    ctx = context()
    p, _ = pending(ctx, amount="1")
    p, cmds = apply(p, ev.EntryFilled(D("0.4"), D(100)), ctx)
    assert p.status is PositionStatus.PENDING_ENTRY and cmds == ()
    p, cmds = apply(p, ev.EntryFilled(D("0.6"), D(105)), ctx)
    assert p.status is PositionStatus.OPEN and p.entry_price == D(103) and p.filled == D(1)
    assert len(cmds) == 1


def test_entry_fill_past_the_requested_amount_is_an_invariant_violation() -> None:
    ctx = context()
    p, _ = pending(ctx, amount="1")
    p, _ = apply(p, ev.EntryFilled(D("0.6"), D(100)), ctx)
    with pytest.raises(InvariantViolation, match="past"):
        apply(p, ev.EntryFilled(D("0.5"), D(100)), ctx)


def test_entry_cancelled_without_fill_ends_cancelled() -> None:
    ctx = context()
    p, _ = pending(ctx)
    p, cmds = apply(p, ev.EntryCancelled(at=NOW), ctx)
    assert p.status is PositionStatus.CANCELLED and p.closed_at == NOW and cmds == ()


def test_entry_cancelled_after_partial_fill_opens_and_protects_the_part() -> None:
    ctx = context()
    p, _ = pending(ctx, amount="1")
    p, _ = apply(p, ev.EntryFilled(D("0.3"), D(100)), ctx)
    p, (cmd,) = apply(p, ev.EntryCancelled(), ctx)
    assert p.status is PositionStatus.OPEN
    assert isinstance(cmd, PlaceOrder) and cmd.request.amount == D("0.3")


def test_entry_rejected_ends_rejected_with_the_reason() -> None:
    ctx = context()
    p, _ = pending(ctx)
    p, _ = apply(p, ev.EntryRejected("insufficient balance"), ctx)
    assert p.status is PositionStatus.REJECTED and p.note == "insufficient balance"


def test_exit_requested_while_pending_cancels_entry_then_sells_what_filled() -> None:
    ctx = context()
    p, _ = pending(ctx, amount="1")
    p, _ = apply(p, ev.EntryFilled(D("0.5"), D(100)), ctx)
    p, (cancel,) = apply(p, ev.ExitRequested(ExitReason.MANUAL), ctx)
    assert cancel == CancelOrder(p.symbol, client_order_id(PID, OrderPurpose.ENTRY, 0))
    p, (cmd,) = apply(p, ev.EntryCancelled(), ctx)
    assert p.status is PositionStatus.EXITING and p.exit_reason is ExitReason.MANUAL
    assert isinstance(cmd, PlaceOrder) and cmd.request.type is OrderType.MARKET
    assert cmd.request.amount == D("0.5") and cmd.request.purpose is OrderPurpose.EXIT


def test_exit_requested_while_pending_without_fill_ends_cancelled() -> None:
    ctx = context()
    p, _ = pending(ctx)
    p, _ = apply(p, ev.ExitRequested(ExitReason.HALT), ctx)
    p, cmds = apply(p, ev.EntryCancelled(), ctx)
    assert p.status is PositionStatus.CANCELLED and cmds == ()


def test_unsellable_partial_entry_closes_as_dust() -> None:
    ctx = context()  # min cost 5 USDT
    p, _ = pending(ctx, amount="1")
    p, _ = apply(p, ev.EntryFilled(D("0.0001"), D(100)), ctx)
    p, cmds = apply(p, ev.EntryCancelled(), ctx)
    assert p.status is PositionStatus.CLOSED and "dust" in p.note and cmds == ()


def test_oco_venue_gets_one_oco_order() -> None:
    p, (cmd,) = opened(context(oco=True), tp="110")
    assert isinstance(cmd, PlaceOrder)
    assert (cmd.request.type, cmd.request.price, cmd.request.trigger_price) == (OrderType.OCO, D(110), D(95))
    assert p.working is Working.OCO


def test_watched_protection_rests_the_take_profit_limit() -> None:
    p, (cmd,) = opened(context(native_stop=False), tp="110")
    assert p.protection is ProtectionKind.WATCHED and p.working is Working.TAKE_PROFIT
    assert isinstance(cmd, PlaceOrder) and cmd.request.type is OrderType.LIMIT and cmd.request.price == D(110)


def test_watched_protection_without_target_places_nothing() -> None:
    p, cmds = opened(context(native_stop=False))
    assert p.protection is ProtectionKind.WATCHED and p.working is Working.NONE and cmds == ()


def test_short_entry_sells_and_protects_with_a_buy_stop() -> None:
    _, (cmd,) = opened(context(), stop="105", direction=Direction.SHORT)
    assert isinstance(cmd, PlaceOrder)
    assert cmd.request.side is Side.BUY and cmd.request.trigger_price == D(105)
