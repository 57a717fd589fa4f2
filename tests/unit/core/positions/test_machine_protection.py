"""Position machine while open: watched/native stops, take-profit swap, trailing, exits, errors."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from tests.unit.core.positions.make import context, opened, pending
from trader.config.sections import TrailingConfig
from trader.core.domain.commands import PlaceOrder, ReplaceStop
from trader.core.domain.enums import ExitReason, OrderPurpose, OrderType, ProtectionKind
from trader.core.domain.ids import client_order_id
from trader.core.errors import InvariantViolation
from trader.core.positions import position_events as ev
from trader.core.positions.closing import MAX_EXIT_ATTEMPTS
from trader.core.positions.machine import apply, can_apply
from trader.core.positions.state import PositionStatus, Working

D = Decimal
TRAIL = TrailingConfig(enabled=True, distance=D("0.05"), min_step=D(0))


def candle(high: str, low: str, close: str) -> ev.PriceUpdated:
    return ev.PriceUpdated(D(high), D(low), D(close))


def test_watched_stop_hit_sends_market_exit_for_the_holding() -> None:
    ctx = context(native_stop=False)
    p, _ = opened(ctx)
    p, (cmd,) = apply(p, candle("101", "94", "96"), ctx)
    assert p.status is PositionStatus.EXITING and p.exit_reason is ExitReason.STOP_LOSS
    assert isinstance(cmd, PlaceOrder) and cmd.request.type is OrderType.MARKET and cmd.request.amount == 1
    assert p.working is Working.EXIT and p.exit_attempt == 1


def test_watched_stop_with_resting_take_profit_replaces_it_with_the_exit() -> None:
    ctx = context(native_stop=False)
    p, _ = opened(ctx, tp="110")
    p, (cmd,) = apply(p, candle("101", "94", "96"), ctx)
    assert isinstance(cmd, ReplaceStop)
    assert cmd.cancel_client_order_id == client_order_id(p.id, OrderPurpose.TAKE_PROFIT, 0)
    assert cmd.request.type is OrderType.MARKET


def test_native_resting_stop_is_left_to_the_venue() -> None:
    ctx = context()
    p, _ = opened(ctx)
    p2, cmds = apply(p, candle("101", "90", "92"), ctx)
    assert p2.status is PositionStatus.OPEN and cmds == ()


def test_stop_fill_closes_with_stop_loss_and_books_the_loss() -> None:
    ctx = context()
    p, _ = opened(ctx)
    p, cmds = apply(p, ev.StopFilled(D(1), D(95), fee=D("0.095")), ctx)
    assert p.status is PositionStatus.CLOSED and p.exit_reason is ExitReason.STOP_LOSS and cmds == ()
    assert p.realised_pnl == D("-5.095") and p.exit_price == D(95)


def test_stop_triggered_then_partial_fills_close_the_position() -> None:
    ctx = context()
    p, _ = opened(ctx)
    p, _ = apply(p, ev.StopTriggered(), ctx)
    assert p.status is PositionStatus.EXITING
    p, cmds = apply(p, ev.StopFilled(D("0.4"), D(95)), ctx)
    assert p.status is PositionStatus.EXITING and cmds == () and p.working_amount == D("0.6")
    p, _ = apply(p, ev.StopFilled(D("0.6"), D(94)), ctx)
    assert p.status is PositionStatus.CLOSED and p.exit_price == D("94.4")


def test_take_profit_is_swapped_in_near_target_and_back_when_price_falls_away() -> None:
    ctx = context(swap="0.01")
    p, _ = opened(ctx, tp="110")
    p, (swap,) = apply(p, candle("109", "100", "109"), ctx)  # within 1 % of 110
    assert isinstance(swap, ReplaceStop) and p.working is Working.TAKE_PROFIT
    assert swap.cancel_client_order_id == client_order_id(p.id, OrderPurpose.STOP, 0)
    assert swap.request.type is OrderType.LIMIT and swap.request.price == D(110)
    p, cmds = apply(p, candle("109", "108.5", "108.5"), ctx)  # inside the 2 % hysteresis band
    assert cmds == () and p.working is Working.TAKE_PROFIT
    p, (back,) = apply(p, candle("108", "105", "105"), ctx)
    assert isinstance(back, ReplaceStop) and back.request.type is OrderType.STOP
    assert back.request.client_order_id == client_order_id(p.id, OrderPurpose.STOP, 1)  # never reuse an id
    assert p.working is Working.STOP and p.stop_attempt == 2


def test_stop_is_watched_while_the_take_profit_rests() -> None:
    ctx = context(swap="0.01")
    p, _ = opened(ctx, tp="110")
    p, _ = apply(p, candle("109", "100", "109"), ctx)
    p, (cmd,) = apply(p, candle("109", "94", "95"), ctx)
    assert isinstance(cmd, ReplaceStop) and cmd.request.type is OrderType.MARKET
    assert p.exit_reason is ExitReason.STOP_LOSS


def test_local_target_touched_exits_at_market_with_take_profit_reason() -> None:
    ctx = context(swap="0.001")
    p, _ = opened(ctx, tp="110")
    p, (cmd,) = apply(p, candle("111", "100", "104"), ctx)
    assert isinstance(cmd, ReplaceStop) and cmd.request.type is OrderType.MARKET
    assert p.exit_reason is ExitReason.TAKE_PROFIT


def test_partial_take_profit_fill_keeps_the_position_open() -> None:
    ctx = context(native_stop=False)
    p, _ = opened(ctx, tp="110")
    p, cmds = apply(p, ev.TakeProfitFilled(D("0.25"), D(110)), ctx)
    assert p.status is PositionStatus.OPEN and p.exit_reason is None and cmds == ()
    assert p.open_amount == D("0.75") and p.realised_pnl == D("2.5")
    p, _ = apply(p, ev.TakeProfitFilled(D("0.75"), D(110)), ctx)
    assert p.status is PositionStatus.CLOSED and p.exit_reason is ExitReason.TAKE_PROFIT


def test_trailing_moves_native_stop_with_a_new_attempt_id() -> None:
    ctx = context(trailing=TRAIL)
    p, _ = opened(ctx)
    p, (cmd,) = apply(p, candle("110", "100", "109"), ctx)
    assert isinstance(cmd, ReplaceStop) and cmd.request.trigger_price == D("104.50")
    assert cmd.cancel_client_order_id == client_order_id(p.id, OrderPurpose.STOP, 0)
    assert cmd.request.client_order_id == client_order_id(p.id, OrderPurpose.STOP, 1)
    assert p.stop_price == D("104.50") and p.high_water == D(110) and p.stop_attempt == 2


def test_trailing_on_watched_stop_updates_the_price_without_commands() -> None:
    ctx = context(native_stop=False, trailing=TRAIL)
    p, _ = opened(ctx)
    p, cmds = apply(p, candle("110", "100", "109"), ctx)
    assert cmds == () and p.stop_price == D("104.50")
    p, cmds = apply(p, candle("108", "105", "106"), ctx)
    assert cmds == () and p.stop_price == D("104.50")  # never loosens


def test_trailing_uses_the_high_only_after_checking_the_old_stop() -> None:
    ctx = context(native_stop=False, trailing=TRAIL)
    p, _ = opened(ctx)
    # low 100 is below the stop this candle's high would give (114), but above the old stop 95
    p, cmds = apply(p, candle("120", "100", "118"), ctx)
    assert p.status is PositionStatus.OPEN and p.stop_price == D(114) and cmds == ()
    p, (cmd,) = apply(p, candle("119", "113", "115"), ctx)
    assert p.exit_reason is ExitReason.TRAILING_STOP and isinstance(cmd, PlaceOrder)


def test_ratcheted_stop_above_the_close_exits_at_once() -> None:
    ctx = context(trailing=TRAIL)
    p, _ = opened(ctx)
    p, (cmd,) = apply(p, candle("120", "100", "110"), ctx)  # new stop 114 > close 110
    assert p.status is PositionStatus.EXITING and p.exit_reason is ExitReason.TRAILING_STOP
    assert isinstance(cmd, ReplaceStop) and cmd.request.type is OrderType.MARKET


def test_stop_rejected_falls_back_to_watched_and_rests_the_target() -> None:
    ctx = context()
    p, _ = opened(ctx, tp="110")
    p, (cmd,) = apply(p, ev.StopRejected("stop not supported"), ctx)
    assert p.protection is ProtectionKind.WATCHED and p.working is Working.TAKE_PROFIT
    assert isinstance(cmd, PlaceOrder) and cmd.request.type is OrderType.LIMIT


def test_stop_cancelled_outside_is_placed_again_with_a_new_id() -> None:
    ctx = context()
    p, _ = opened(ctx)
    p, (cmd,) = apply(p, ev.StopCancelled(), ctx)
    assert isinstance(cmd, PlaceOrder)
    assert cmd.request.client_order_id == client_order_id(p.id, OrderPurpose.STOP, 1)


def test_take_profit_rejected_is_watched_and_not_placed_again() -> None:
    ctx = context(native_stop=False)
    p, _ = opened(ctx, tp="110")
    p, cmds = apply(p, ev.TakeProfitRejected("min notional"), ctx)
    assert p.tp_local and p.working is Working.NONE and cmds == ()
    p, cmds = apply(p, candle("105", "100", "104"), ctx)
    assert cmds == ()
    p, (cmd,) = apply(p, candle("111", "100", "109"), ctx)
    assert isinstance(cmd, PlaceOrder) and p.exit_reason is ExitReason.TAKE_PROFIT


def test_take_profit_cancelled_outside_is_placed_again() -> None:
    ctx = context(native_stop=False)
    p, _ = opened(ctx, tp="110")
    p, (cmd,) = apply(p, ev.TakeProfitCancelled(), ctx)
    assert isinstance(cmd, PlaceOrder) and cmd.request.type is OrderType.LIMIT and p.tp_attempt == 2


def test_exit_requested_replaces_the_oco_and_asking_again_changes_nothing() -> None:
    ctx = context(oco=True)
    p, _ = opened(ctx, tp="110")
    p, (cmd,) = apply(p, ev.ExitRequested(ExitReason.SIGNAL), ctx)
    assert isinstance(cmd, ReplaceStop) and cmd.request.type is OrderType.MARKET
    p2, cmds = apply(p, ev.ExitRequested(ExitReason.MANUAL), ctx)
    assert cmds == () and p2 == p


def test_failed_exit_is_resent_then_errors_after_max_attempts() -> None:
    ctx = context(native_stop=False)
    p, _ = opened(ctx)
    p, _ = apply(p, ev.ExitRequested(ExitReason.MANUAL), ctx)
    ids = set()
    for _ in range(MAX_EXIT_ATTEMPTS - 1):
        p, (cmd,) = apply(p, ev.ExitFailed("timeout"), ctx)
        assert isinstance(cmd, PlaceOrder)
        ids.add(cmd.request.client_order_id)
    assert len(ids) == MAX_EXIT_ATTEMPTS - 1
    p, cmds = apply(p, ev.ExitFailed("timeout"), ctx)
    assert p.status is PositionStatus.ERROR and cmds == () and "timeout" in p.note


def test_error_position_can_still_be_closed() -> None:
    ctx = context(native_stop=False)
    p, _ = opened(ctx)
    p, _ = apply(p, ev.ErrorRaised("balance mismatch"), ctx)
    assert p.status is PositionStatus.ERROR
    p, (cmd,) = apply(p, ev.ExitRequested(ExitReason.MANUAL), ctx)
    assert p.status is PositionStatus.EXITING and isinstance(cmd, PlaceOrder)


def test_exit_fill_larger_than_the_holding_is_an_invariant_violation() -> None:
    ctx = context(native_stop=False)
    p, _ = opened(ctx)
    p, _ = apply(p, ev.ExitRequested(ExitReason.MANUAL), ctx)
    with pytest.raises(InvariantViolation, match="held"):
        apply(p, ev.ExitFilled(D("1.1"), D(100)), ctx)


def test_exit_leaving_dust_closes_without_further_orders() -> None:
    ctx = context()
    p, _ = pending(ctx, amount="1")
    p, (stop,) = apply(p, ev.EntryFilled(D(1), D(100), fee=D("0.00075"), fee_in_base=True), ctx)
    assert isinstance(stop, PlaceOrder) and stop.request.amount == D("0.9992")  # rounded down
    p, cmds = apply(p, ev.StopFilled(D("0.9992"), D(95)), ctx)
    assert p.status is PositionStatus.CLOSED and "0.00005" in p.note and cmds == ()


def test_partial_fill_leaving_an_unsellable_rest_waits_for_the_working_order() -> None:
    ctx = context()
    p, _ = opened(ctx, amount="1")
    p, cmds = apply(p, ev.StopFilled(D("0.99995"), D(95)), ctx)
    assert p.status is PositionStatus.EXITING and p.working_amount == D("0.00005") and cmds == ()
    p, cmds = apply(p, ev.StopFilled(D("0.00005"), D(95)), ctx)
    assert p.status is PositionStatus.CLOSED and p.note == "" and cmds == ()


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (PositionStatus.OPEN, ev.ExitFilled(D(1), D(100))),
        (PositionStatus.OPEN, ev.ExitFailed()),
        (PositionStatus.CLOSED, ev.PriceUpdated(D(1), D(1), D(1))),
        (PositionStatus.CANCELLED, ev.EntryFilled(D(1), D(100))),
        (PositionStatus.REJECTED, ev.ExitRequested(ExitReason.MANUAL)),
        (PositionStatus.PENDING_ENTRY, ev.StopFilled(D(1), D(100))),
    ],
)
def test_illegal_events_raise_invariant_violation(status: PositionStatus, event: ev.PositionEvent) -> None:
    p, _ = opened(context())
    p = replace(p, status=status)
    assert not can_apply(p, event)
    with pytest.raises(InvariantViolation, match="not allowed"):
        apply(p, event, context())


def test_an_entry_fill_on_an_open_position_without_an_add_asked_for_raises() -> None:
    p, _ = opened(context())  # an OPEN entry fill is a DCA add; beyond the requested amount it is a bug
    assert can_apply(p, ev.EntryFilled(D(1), D(100)))
    with pytest.raises(InvariantViolation, match="past"):
        apply(p, ev.EntryFilled(D(1), D(100)), context())


def test_exit_requested_while_a_triggered_stop_hangs_replaces_it_with_a_market_exit() -> None:
    ctx = context()
    p, _ = opened(ctx)
    p, _ = apply(p, ev.StopTriggered(), ctx)
    p, (cmd,) = apply(p, ev.ExitRequested(ExitReason.MANUAL), ctx)
    assert isinstance(cmd, ReplaceStop) and cmd.request.type is OrderType.MARKET
    assert p.exit_reason is ExitReason.STOP_LOSS  # the first reason to exit is kept


def test_replace_after_a_partial_fill_of_the_old_order_books_it_against_the_new_one() -> None:
    ctx = context()
    p, _ = opened(ctx)
    p, (cmd,) = apply(p, ev.ExitRequested(ExitReason.SIGNAL), ctx)
    assert isinstance(cmd, ReplaceStop) and cmd.request.amount == D(1)
    # the executor found the stop 0.3 filled: it reports that and sends the exit for 0.7
    p, cmds = apply(p, ev.StopFilled(D("0.3"), D(95)), ctx)
    assert cmds == () and p.working is Working.EXIT and p.working_amount == D("0.7")
    p, _ = apply(p, ev.ExitFilled(D("0.7"), D(96)), ctx)
    assert p.status is PositionStatus.CLOSED and p.exit_reason is ExitReason.SIGNAL


@pytest.mark.parametrize("event", [
    ev.StopCancelled(), ev.StopRejected("gone"), ev.StopPlaced(), ev.StopTriggered(),
    ev.TakeProfitCancelled(), ev.TakeProfitRejected("gone"), ev.TakeProfitPlaced(), ev.ExitFailed("x"),
    ev.EntryCancelled(), ev.EntryRejected("x"),
])
def test_venue_news_for_an_error_position_is_recorded_without_crashing(event: ev.PositionEvent) -> None:
    ctx = context(native_stop=True)
    p, _ = opened(ctx)
    p, _ = apply(p, ev.ErrorRaised("balance mismatch"), ctx)
    after, cmds = apply(p, event, ctx)
    assert after.status is PositionStatus.ERROR and cmds == () and after.filled == p.filled
