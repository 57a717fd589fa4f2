"""Property: whatever the venue does to a pair group's orders through step() (partial fills, rejections,
cancels, fills after a cancel was asked, a close while open), once every order has finished the group
is either OPEN with both legs complete or gone, and then every coin bought or sold is back: never half open.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.core.engine.test_step_pairs import Engine, pair, tick
from trader.core.domain.commands import CancelOrder, Command, PlaceOrder
from trader.core.domain.enums import OrderStatus, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import Fill
from trader.core.engine.actions import ClosePosition
from trader.core.engine.events import GroupClosed
from trader.core.engine.inputs import StepOutput
from trader.core.engine.orders import OrderUpdate
from trader.core.positions.pair_group import GroupStatus

D = Decimal


@dataclass
class VenueOrder:
    symbol: Symbol
    side: Side
    amount: Decimal
    filled: Decimal = Decimal(0)
    done: bool = False


class Venue:
    """Holds the engine's orders and turns what the test draws into order updates."""

    def __init__(self) -> None:
        self.orders: dict[ClientOrderId, VenueOrder] = {}
        self.net: dict[Symbol, Decimal] = {}
        self.trades = 0

    def take(self, commands: tuple[Command, ...]) -> list[OrderUpdate]:
        updates = []
        for command in commands:
            if isinstance(command, PlaceOrder):
                r = command.request
                self.orders[r.client_order_id] = VenueOrder(r.symbol, r.side, r.amount)
            elif isinstance(command, CancelOrder):
                order = self.orders.get(command.client_order_id)
                if order is not None and not order.done:
                    order.done = True
                    updates.append(OrderUpdate(command.client_order_id, OrderStatus.CANCELLED))
        return updates

    def working(self) -> list[ClientOrderId]:
        return sorted(cid for cid, o in self.orders.items() if not o.done)

    def act(self, cid: ClientOrderId, what: str, part: Decimal) -> list[OrderUpdate]:
        order = self.orders[cid]
        if what == "reject" and order.filled == 0:
            order.done = True
            return [OrderUpdate(cid, OrderStatus.REJECTED, reason="venue says no")]
        if what == "expire":
            order.done = True
            return [OrderUpdate(cid, OrderStatus.EXPIRED)]
        left = order.amount - order.filled
        amount = left if what == "fill" else max((left * part).quantize(D("0.00001")), D("0.00001"))
        return [self.fill(cid, min(amount, left))]

    def fill(self, cid: ClientOrderId, amount: Decimal) -> OrderUpdate:
        order = self.orders[cid]
        order.filled += amount
        order.done = order.filled == order.amount
        self.trades += 1
        signed = amount if order.side is Side.BUY else -amount
        self.net[order.symbol] = self.net.get(order.symbol, D(0)) + signed
        fill = Fill(f"t{self.trades}", cid, order.symbol, order.side, amount, D(100), D(0), "USDT",
                    Engine().now)
        return OrderUpdate(cid, OrderStatus.FILLED if order.done else OrderStatus.PARTIALLY_FILLED, fill)


WHAT = st.sampled_from(["fill", "part", "reject", "expire", "close"])
ACTIONS = st.lists(st.tuples(st.integers(0, 5), WHAT, st.decimals("0.1", "0.9", places=2)), max_size=14)


@settings(max_examples=300, deadline=None)
@given(enter_long=st.booleans(), actions=ACTIONS)
def test_at_rest_a_group_is_open_with_both_legs_or_gone_and_flat(
        enter_long: bool, actions: list[tuple[int, str, Decimal]]) -> None:
    eng, venue = Engine(), Venue()
    closed: list[GroupClosed] = []

    def step(**kwargs: object) -> StepOutput:
        out = eng.step(**kwargs)
        closed.extend(e for e in out.events if isinstance(e, GroupClosed))
        return out

    flags = {"enter_long": True} if enter_long else {"enter_short": True}
    pending = venue.take(step(prices=tick(), pair_signals=pair(**flags)).commands)
    for pick, what, part in actions:
        commands: tuple[Command, ...] = ()
        if what == "close":
            ids = list(eng.state.groups)
            if ids:
                commands = step(order_updates=tuple(pending),
                                    actions=(ClosePosition(PositionId(ids[0])),)).commands
                pending = venue.take(commands)
            continue
        working = venue.working()
        if working:
            pending += venue.act(working[pick % len(working)], what, part)
        commands = step(order_updates=tuple(pending)).commands
        pending = venue.take(commands)
    for _ in range(10):  # the venue finishes what works: every order fills
        while venue.working():
            pending.append(venue.fill(venue.working()[0], venue.orders[venue.working()[0]].amount
                                      - venue.orders[venue.working()[0]].filled))
        pending = venue.take(step(order_updates=tuple(pending), prices=tick()).commands)
        if not venue.working() and not pending:
            break
    assert not venue.working()
    groups = list(eng.state.groups.values())
    if groups:
        (group,) = groups
        assert group.group.status is GroupStatus.OPEN
        assert all(leg.complete for leg in group.group.legs)
        for leg in group.group.legs:
            signed = leg.held if leg.side is Side.BUY else -leg.held
            assert venue.net[Symbol(leg.symbol)] == signed
    else:
        assert all(v == 0 for v in venue.net.values()), venue.net
        assert not eng.state.orders
    # a group that is gone was recorded once: each leg that held coins as one closed position
    assert len(closed) == (0 if groups else 1)
    for event in closed:
        held = [(i, leg) for i, leg in enumerate(event.group.group.legs) if leg.held > 0]
        assert [p.id for p in event.legs] == [f"{event.group.id}:{i}" for i, _ in held]
        assert [(p.filled, p.exit_filled) for p in event.legs] == [(leg.held, leg.held) for _, leg in held]
        assert sum(p.realised_pnl for p in event.legs) == event.group.realised_pnl
