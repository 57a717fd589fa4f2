"""DCA: property tests of the average-price, ladder and exposure arithmetic; the machine's add cycle."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.unit.core.positions.make import context, opened
from tests.unit.core.risk.make import account, config, market
from tests.unit.core.risk.make import position as held_position
from trader.config.sections import DcaConfig
from trader.core.domain.commands import CancelOrder, PlaceOrder, ReplaceStop
from trader.core.domain.entries import RefusalReason
from trader.core.domain.enums import Direction, OrderPurpose, OrderType, TradingState
from trader.core.domain.ids import client_order_id
from trader.core.positions import dca
from trader.core.positions import position_events as ev
from trader.core.positions.machine import apply
from trader.core.positions.pnl import average_price
from trader.core.positions.protection import PositionContext
from trader.core.positions.state import PositionStatus, Working
from trader.core.risk.adds import check_add
from trader.core.risk.state import RiskState

D = Decimal
prices = st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2)
amounts = st.decimals(min_value=D("0.0001"), max_value=D(1000), places=4)
LADDER = DcaConfig(safety_orders=3, step=D("0.02"), size_scale=D("1.5"), take_profit=D("0.02"), stop=D("0.1"))


@settings(max_examples=300, deadline=None)
@given(fills=st.lists(st.tuples(amounts, prices), min_size=1, max_size=8))
def test_the_running_average_is_the_volume_weighted_mean_and_stays_inside_the_fill_prices(
        fills: list[tuple[Decimal, Decimal]]) -> None:
    held, average = D(0), None
    for amount, price in fills:
        average = average_price(held, average, amount, price)
        held += amount
    assert average is not None
    exact = sum((a * p for a, p in fills), D(0)) / sum((a for a, _ in fills), D(0))
    assert abs(average - exact) <= D("1e-18") * len(fills)  # 18 places per step, as the store keeps it
    assert min(p for _, p in fills) <= average <= max(p for _, p in fills)


@settings(max_examples=200, deadline=None)
@given(anchor=st.decimals(min_value=D(10), max_value=D(100_000), places=2),
       step=st.decimals(min_value=D("0.001"), max_value=D("0.05"), places=3),
       count=st.integers(1, 8), scale=st.decimals(min_value=D("0.5"), max_value=D(3), places=2),
       first=amounts, long=st.booleans())
def test_a_filled_ladder_averages_past_the_anchor_and_the_stop_lies_beyond_every_level(
        anchor: Decimal, step: Decimal, count: int, scale: Decimal, first: Decimal, long: bool) -> None:
    direction = Direction.LONG if long else Direction.SHORT
    rules = DcaConfig(safety_orders=count, step=step, size_scale=scale, take_profit=D("0.01"),
                      stop=step * count + D("0.001"))
    levels = [dca.safety_level(anchor, step, k, direction) for k in range(1, count + 1)]
    sizes = [first * scale**k for k in range(count + 1)]
    assert sum(sizes) == first * dca.ladder_weight(scale, count + 1)
    held, average = D(0), None
    for amount, price in zip(sizes, [anchor, *levels], strict=True):
        average = average_price(held, average, amount, price)
        held += amount
        sign = 1 if long else -1
        assert sign * (anchor - average) >= -D("1e-15")  # adds only ever move the average in our favour
    assert average is not None
    tight = market(price_step=D("0.0001"))
    stop, target = dca.exits_from_average(average, direction, rules, tight)
    assert (stop < average < target) if long else (target < average < stop)
    # the configured stop (wider than step x count) is beyond the last level: every add can happen
    planned, _ = dca.exits_from_average(anchor, direction, rules, tight)
    assert (planned < levels[-1]) if long else (planned > levels[-1])


@settings(max_examples=200, deadline=None)
@given(first=st.decimals(min_value=D("0.001"), max_value=D(10), places=3),
       scale=st.decimals(min_value=D("0.5"), max_value=D(3), places=2), adds=st.integers(0, 5))
def test_each_add_is_the_first_order_times_the_scale_to_the_power_of_its_number(
        first: Decimal, scale: Decimal, adds: int) -> None:
    rules = DcaConfig(safety_orders=6, step=D("0.01"), size_scale=scale, stop=D("0.07"))
    ctx = PositionContext(market(amount_step=D("0.000001")), dca=rules)
    position, _ = opened(context(), amount=str(first))
    position = replace(position, amount=first)
    sizes = [first]
    for _ in range(adds):
        size = dca.add_amount(position, rules, ctx.market)
        sizes.append(size)
        position = replace(position, amount=position.amount + size, entry_executed=position.amount + size,
                           entry_attempt=position.entry_attempt + 1)
    for k, size in enumerate(sizes):
        # each size is rounded down to the step from the first recovered from the total so far
        assert abs(size - first * scale**k) <= D("0.000001") * (k + 1) * scale**k + D("0.000001")


@settings(max_examples=300, deadline=None)
@given(equity=st.decimals(min_value=D(100), max_value=D(1_000_000), places=2),
       held=st.decimals(min_value=D(0), max_value=D(5), places=5),
       add=st.decimals(min_value=D("0.0001"), max_value=D(5), places=5),
       price=st.decimals(min_value=D(100), max_value=D(100_000), places=2),
       max_position=st.decimals(min_value=D("0.05"), max_value=D(1), places=2),
       max_exposure=st.decimals(min_value=D("0.05"), max_value=D(1), places=2),
       free_share=st.decimals(min_value=D(0), max_value=D(1), places=2))
def test_an_allowed_add_keeps_the_position_and_the_account_inside_every_cap(
        equity: Decimal, held: Decimal, add: Decimal, price: Decimal, max_position: Decimal,
        max_exposure: Decimal, free_share: Decimal) -> None:
    cfg = config(max_position_pct=max_position, max_exposure_pct=max_exposure)
    position = held_position(amount=str(held), price=str(price))
    snapshot = account(str(equity), free=str(equity * free_share))
    refusal = check_add(position, add, price, snapshot, state=RiskState(), positions=[position],
                        market=market(), cfg=cfg)
    total = (held + add) * price
    if refusal is None:
        assert total <= equity * max_position
        assert total <= equity * max_exposure
        assert add * price * (1 + market().taker_fee) <= snapshot.free
        assert add * price >= market().min_cost
    elif total > equity * max_position:
        assert refusal.reason is RefusalReason.MAX_EXPOSURE or refusal.reason is RefusalReason.BELOW_MINIMUM


def test_a_halted_account_never_adds() -> None:
    halted = RiskState(trading_state=TradingState.HALTED, halt_reason="test")
    position = held_position(amount="0.01")
    refusal = check_add(position, D("0.01"), D(60000), account(), state=halted, positions=[position],
                        market=market(), cfg=config())
    assert refusal is not None and refusal.reason is RefusalReason.HALTED


def test_the_stop_must_lie_beyond_the_whole_ladder() -> None:
    with pytest.raises(ValidationError, match="wider than step x safety_orders"):
        DcaConfig(safety_orders=4, step=D("0.03"), stop=D("0.12"))
    assert not DcaConfig().enabled and DcaConfig(safety_orders=2, stop=D("0.05")).enabled


def _ctx() -> PositionContext:
    base = context()
    return PositionContext(base.market, base.trailing, base.tp_swap_distance, LADDER)


def test_an_add_cancels_the_resting_stop_then_its_fill_replans_and_protects_the_whole_holding() -> None:
    ctx = _ctx()
    position, _ = opened(ctx, amount="1", price="100", tp="110")
    position = replace(position, requested_price=D(100))
    assert position.working is Working.STOP and dca.trigger_level(position, LADDER) == 98.0
    assert dca.triggered(98.0, 97.5, Direction.LONG) and not dca.triggered(98.0, 98.5, Direction.LONG)
    amount = dca.add_amount(position, LADDER, ctx.market)
    assert amount == D("1.5")
    added, commands = dca.place_add(position, amount, ctx)
    cancel, place = commands
    assert isinstance(cancel, CancelOrder) and isinstance(place, PlaceOrder)
    assert place.request.client_order_id == client_order_id(position.id, OrderPurpose.ENTRY, 1)
    assert place.request.type is OrderType.MARKET and place.request.amount == D("1.5")
    assert added.working is Working.NONE and added.amount == D("2.5")
    assert dca.add_in_flight(added) and dca.trigger_level(added, LADDER) is None  # one add at a time
    filled, commands = apply(added, ev.EntryFilled(D("1.5"), D(98)), ctx)
    assert filled.entry_price == D("98.8") and filled.filled == D("2.5")
    assert filled.stop_price == D("88.92") and filled.take_profit == D("100.78")  # 10 % / 2 % of 98.8
    assert filled.initial_stop == filled.stop_price
    (stop,) = commands
    assert isinstance(stop, PlaceOrder) and stop.request.amount == D("2.5")
    assert stop.request.trigger_price == D("88.92")
    assert dca.trigger_level(filled, LADDER) == 96.0  # the second level, 2 x 2 % below the anchor


def test_a_rejected_add_uses_its_slot_reprotects_and_an_add_fill_replaces_a_resting_stop() -> None:
    ctx = _ctx()
    position, _ = opened(ctx, amount="1", price="100")
    position = replace(position, requested_price=D(100))
    added, _ = dca.place_add(position, D("1.5"), ctx)
    back, commands = apply(added, ev.EntryRejected("insufficient funds"), ctx)
    assert back.amount == D(1) and back.status is PositionStatus.OPEN
    (stop,) = commands  # the stop cancelled for the add rests again right away
    assert isinstance(stop, PlaceOrder) and stop.request.amount == D(1) and back.working is Working.STOP
    assert dca.adds_done(back) == 1 and dca.trigger_level(back, LADDER) == 96.0
    skipped = dca.skip_add(back)
    assert dca.adds_done(skipped) == 2 and dca.trigger_level(skipped, LADDER) == 94.0
    last = dca.skip_add(skipped)
    assert dca.trigger_level(last, LADDER) is None  # the ladder is used up
    # an add filling while a resting stop is still there (restart, manual order) replaces it
    with_stop, _ = opened(ctx, amount="1", price="100")
    with_stop = replace(with_stop, amount=D(2), entry_attempt=2)
    after, commands = apply(with_stop, ev.EntryFilled(D(1), D(96)), ctx)
    (replaced,) = commands
    assert isinstance(replaced, ReplaceStop) and replaced.request.amount == D(2)
    assert after.entry_price == D(98)


def test_an_add_filling_while_exiting_is_booked_for_the_exit_to_sell() -> None:
    ctx = _ctx()
    position, _ = opened(ctx, amount="1", price="100")
    exiting = replace(position, status=PositionStatus.EXITING, amount=D(2), entry_attempt=2)
    booked, commands = apply(exiting, ev.EntryFilled(D(1), D(90)), ctx)
    assert commands == () and booked.filled == D(2) and booked.entry_price == D(95)
    assert booked.stop_price == position.stop_price  # no re-plan while leaving
