"""Property tests: random venue behaviour never drives the machine into an impossible state.

A small venue model executes the machine's commands (place, cancel, replace) and then produces
random but venue-legal events: full and partial fills, rejects, outside cancels, stop triggers,
price candles, exit requests. After every event we check the position's invariants and that the
orders resting on the venue never sell (or buy back) more than the position holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.unit.core.positions.make import context, pending
from trader.config.sections import TrailingConfig
from trader.core.domain.commands import CancelOrder, Command, PlaceOrder, ReplaceStop
from trader.core.domain.enums import Direction, ExitReason, OrderPurpose, OrderType
from trader.core.domain.orders import OrderRequest
from trader.core.positions import position_events as ev
from trader.core.positions.machine import apply, can_apply
from trader.core.positions.protection import RESTING, PositionContext, working_id
from trader.core.positions.state import Position, PositionStatus, Working

D = Decimal
STEP = D("0.0001")


@dataclass
class Venue:
    """Resting orders by client id, and events the venue owes the machine (cancel confirmations)."""

    orders: dict[str, list[object]] = field(default_factory=dict)  # id -> [request, filled]
    owed: list[ev.PositionEvent] = field(default_factory=list)

    def execute(self, commands: tuple[Command, ...]) -> None:
        for cmd in commands:
            if isinstance(cmd, PlaceOrder):
                assert cmd.request.client_order_id not in self.orders, "client order id reused"
                self.orders[cmd.request.client_order_id] = [cmd.request, D(0)]
            elif isinstance(cmd, CancelOrder):
                gone = self.orders.pop(cmd.client_order_id, None)
                if gone is not None and _req(gone).purpose is OrderPurpose.ENTRY:
                    self.owed.append(ev.EntryCancelled())
            elif isinstance(cmd, ReplaceStop):
                assert cmd.cancel_client_order_id in self.orders, "replacing an order that is not resting"
                del self.orders[cmd.cancel_client_order_id]
                self.orders[cmd.request.client_order_id] = [cmd.request, D(0)]

    def closing(self) -> list[tuple[OrderRequest, Decimal]]:
        return [(_req(o), _filled(o)) for o in self.orders.values()
                if _req(o).purpose is not OrderPurpose.ENTRY]


def _req(order: list[object]) -> OrderRequest:
    r = order[0]
    assert isinstance(r, OrderRequest)
    return r


def _filled(order: list[object]) -> Decimal:
    f = order[1]
    assert isinstance(f, Decimal)
    return f


def _fill_event(request: OrderRequest, amount: Decimal, price: Decimal, oco_tp: bool,
                fee_in_base: bool) -> ev.PositionEvent:
    fee = (amount * D("0.001")).quantize(D("0.00000001")) if fee_in_base else amount * price * D("0.001")
    if request.purpose is OrderPurpose.ENTRY:
        return ev.EntryFilled(amount, price, fee, fee_in_base)
    if request.purpose is OrderPurpose.EXIT:
        return ev.ExitFilled(amount, price, fee)
    if request.purpose is OrderPurpose.TAKE_PROFIT or (request.type is OrderType.OCO and oco_tp):
        return ev.TakeProfitFilled(amount, price, fee)
    return ev.StopFilled(amount, price, fee)


def _venue_events(data: st.DataObject, venue: Venue, position: Position) -> ev.PositionEvent:
    """Draw one event the venue (or the market, or a user) could produce now."""
    if venue.owed:
        return venue.owed.pop(0)
    options = ["price"] * 4 + ["exit"] + [f"order:{cid}" for cid in venue.orders] * 3
    choice = data.draw(st.sampled_from(options))
    if choice == "price":
        low = data.draw(st.decimals(min_value=D(80), max_value=D(120), places=2))
        high = low + data.draw(st.decimals(min_value=D(0), max_value=D(10), places=2))
        close = data.draw(st.decimals(min_value=low, max_value=high, places=2))
        return ev.PriceUpdated(high, low, close)
    if choice == "exit":
        return ev.ExitRequested(data.draw(st.sampled_from(list(ExitReason))))
    cid = choice.split(":", 1)[1]
    order = venue.orders[cid]
    request, filled = _req(order), _filled(order)
    actions = ["fill", "partial", "partial", "reject", "cancel", "trigger"]
    if request.purpose is OrderPurpose.ENTRY:  # mostly fills, so most runs get past the entry
        actions = ["fill"] * 4 + ["partial"] * 4 + ["reject", "cancel"]
    action = data.draw(st.sampled_from(actions))
    if action in ("fill", "partial"):
        remaining = request.amount - filled
        amount = remaining
        if action == "partial" and remaining > STEP:
            steps = int(remaining / STEP)
            amount = STEP * data.draw(st.integers(min_value=1, max_value=max(steps - 1, 1)))
        price = data.draw(st.decimals(min_value=D(85), max_value=D(115), places=2))
        event = _fill_event(request, amount, price, data.draw(st.booleans()),
                            data.draw(st.booleans()) and request.purpose is OrderPurpose.ENTRY)
        if amount == remaining:
            del venue.orders[cid]
        else:
            order[1] = filled + amount
        return event
    if action == "trigger" and request.type in (OrderType.STOP, OrderType.OCO):
        return ev.StopTriggered()
    del venue.orders[cid]
    purpose = request.purpose
    rejected = action == "reject" and filled == 0
    if purpose is OrderPurpose.ENTRY:
        return ev.EntryRejected("no") if rejected else ev.EntryCancelled()
    if purpose is OrderPurpose.EXIT:
        return ev.ExitFailed("no")
    if purpose is OrderPurpose.TAKE_PROFIT:
        return ev.TakeProfitRejected("no") if rejected else ev.TakeProfitCancelled()
    return ev.StopRejected("no") if rejected else ev.StopCancelled()


def _check_invariants(p: Position, venue: Venue, ctx: PositionContext) -> None:
    assert p.status in PositionStatus
    assert 0 <= p.entry_executed <= p.amount
    assert 0 <= p.filled <= p.entry_executed
    assert 0 <= p.exit_filled <= p.filled, "sold more than held"
    closing = venue.closing()
    assert len(closing) <= 1, f"more than one closing order rests: {closing}"
    locked = sum((r.amount - f for r, f in closing), D(0))
    assert locked <= p.open_amount, f"orders for {locked} but only {p.open_amount} held"
    if p.status.is_terminal:
        assert not venue.orders, f"{p.status} position left orders on the venue: {venue.orders}"
        assert p.working is Working.NONE
    if p.status is PositionStatus.PENDING_ENTRY:
        assert p.working is Working.NONE and p.exit_filled == 0
    if p.status in (PositionStatus.OPEN, PositionStatus.EXITING):
        assert p.entry_price is not None and p.filled > 0
        wid = working_id(p)
        if p.working in RESTING or p.working is Working.EXIT:
            assert wid in venue.orders, f"machine thinks {p.working} works but the venue lacks it"
        else:
            assert not closing, f"venue holds {closing} the machine does not know"
    if p.status is PositionStatus.CLOSED:
        assert p.open_amount == 0 or "dust" in p.note, "closed while holding a sellable amount"
        assert p.exit_reason is not None or "dust" in p.note


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans(), st.booleans(), st.booleans(), st.booleans(),
       st.sampled_from([Direction.LONG, Direction.SHORT]), st.booleans())
def test_random_venue_behaviour_keeps_every_invariant(
    data: st.DataObject, native: bool, oco: bool, with_tp: bool, trailing: bool, direction: Direction,
    limit: bool,
) -> None:
    trail = TrailingConfig(enabled=trailing, distance=D("0.03"), min_step=D("0.002"),
                           breakeven_at=D("0.02") if trailing else None)
    ctx = context(native_stop=native, oco=oco, trailing=trail, swap="0.01")
    stop, tp = ("95", "110") if direction is Direction.LONG else ("105", "90")
    position, commands = pending(ctx, amount=data.draw(st.sampled_from(["1", "0.5", "0.0123"])), stop=stop,
                                 tp=tp if with_tp else None, direction=direction, limit=limit)
    venue = Venue()
    venue.execute(commands)
    for _ in range(data.draw(st.integers(min_value=1, max_value=60))):
        if position.status.is_terminal:
            break
        step = _venue_events(data, venue, position)
        if not can_apply(position, step):
            continue  # e.g. a price candle after close; illegal pairs are covered by unit tests
        position, commands = apply(position, step, ctx)
        for cmd in commands:
            request = cmd.request if isinstance(cmd, PlaceOrder | ReplaceStop) else None
            if request is not None and request.purpose is not OrderPurpose.ENTRY:
                assert request.amount <= position.open_amount, "ordered more than the position holds"
                assert request.side is direction.exit_side
        venue.execute(commands)
        _check_invariants(position, venue, ctx)
    event(f"final status {position.status}")
