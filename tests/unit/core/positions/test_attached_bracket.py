"""Position machine on a venue that attaches the protection to the entry order (Bybit's TP/SL on the
order, Kraken's conditional close): the entry carries it, the first protection is adopted under the
entry's attached id, anything after it is an ordinary resting order."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.unit.core.positions.make import NOW, market, opened, pending
from trader.config.sections import TrailingConfig
from trader.core.domain.commands import PlaceOrder, ReplaceStop
from trader.core.domain.enums import OrderPurpose, OrderType, ProtectionKind
from trader.core.domain.ids import PositionId, attached_client_id, attached_entry, client_order_id
from trader.core.domain.market import Capabilities
from trader.core.positions import position_events as ev
from trader.core.positions.machine import apply
from trader.core.positions.protection import PositionContext, working_id
from trader.core.positions.state import Working

D = Decimal
ENTRY = client_order_id(PositionId("pos1"), OrderPurpose.ENTRY, 0)
TRAIL = TrailingConfig(enabled=True, distance=D("0.02"), min_step=D("0.001"))


def ctx(*, take_profit: bool, limit_only: bool = False, trailing: TrailingConfig | None = None
        ) -> PositionContext:
    caps = Capabilities(native_stop=True, attached_bracket=True, attached_take_profit=take_profit,
                        attached_limit_only=limit_only)
    return PositionContext(replace(market(), capabilities=caps), trailing or TrailingConfig())


def test_the_attached_id_reads_back_its_entry_and_is_never_one_of_ours() -> None:
    attached = attached_client_id(ENTRY)
    assert len(attached) == len(ENTRY) and attached != ENTRY and not attached.startswith("tb")
    assert attached_entry(attached) == ENTRY and attached_entry(ENTRY) is None


def test_the_entry_carries_stop_and_target_and_the_venue_made_oco_is_adopted() -> None:
    context = ctx(take_profit=True)
    p, (cmd,) = pending(context, tp="110")
    assert isinstance(cmd, PlaceOrder) and p.protection is ProtectionKind.ATTACHED
    assert (cmd.request.attached_stop, cmd.request.attached_take_profit) == (D(95), D(110))
    p, (adopt,) = apply(p, ev.EntryFilled(D(1), D(100), at=NOW), context)
    assert isinstance(adopt, PlaceOrder)
    r = adopt.request
    assert r.client_order_id == attached_client_id(ENTRY) == working_id(p)
    assert (r.type, r.trigger_price, r.price, r.amount) == (OrderType.OCO, D(95), D(110), D(1))
    assert p.working is Working.OCO and p.protection is ProtectionKind.ATTACHED
    # near the target nothing is swapped: the venue holds both legs
    p, cmds = apply(p, ev.PriceUpdated(D(109.9), D(109.9), D(109.9), at=NOW), context)
    assert cmds == () and p.working is Working.OCO


def test_a_trailing_move_replaces_the_attached_oco_by_an_ordinary_stop() -> None:
    context = ctx(take_profit=True, trailing=TRAIL)
    p, _ = opened(context, tp="130")
    p, (cmd,) = apply(p, ev.PriceUpdated(D(110), D(110), D(110), at=NOW), context)
    assert isinstance(cmd, ReplaceStop) and cmd.cancel_client_order_id == attached_client_id(ENTRY)
    assert cmd.request.type is OrderType.STOP  # no standalone OCO on this venue: the stop rests
    assert cmd.request.client_order_id == client_order_id(PositionId("pos1"), OrderPurpose.STOP, 1)
    assert p.working is Working.STOP and working_id(p) == cmd.request.client_order_id


def test_a_stop_only_attachment_adopts_a_stop_and_swaps_for_the_target_as_before() -> None:
    context = ctx(take_profit=False)
    p, (cmd,) = pending(context, tp="110")
    assert isinstance(cmd, PlaceOrder)
    assert (cmd.request.attached_stop, cmd.request.attached_take_profit) == (D(95), None)
    p, (adopt,) = apply(p, ev.EntryFilled(D(1), D(100), at=NOW), context)
    assert isinstance(adopt, PlaceOrder) and adopt.request.type is OrderType.STOP
    assert adopt.request.client_order_id == attached_client_id(ENTRY)
    p, (swap,) = apply(p, ev.PriceUpdated(D(109.8), D(109.8), D(109.8), at=NOW), context)
    assert isinstance(swap, ReplaceStop) and swap.cancel_client_order_id == attached_client_id(ENTRY)
    assert swap.request.type is OrderType.LIMIT and p.working is Working.TAKE_PROFIT


def test_a_market_entry_on_a_limit_only_venue_carries_nothing_and_is_protected_natively() -> None:
    context = ctx(take_profit=True, limit_only=True)
    p, (cmd,) = pending(context, tp="110")
    assert isinstance(cmd, PlaceOrder) and cmd.request.attached_stop is None
    p, (stop,) = apply(p, ev.EntryFilled(D(1), D(100), at=NOW), context)
    assert p.protection is ProtectionKind.NATIVE and isinstance(stop, PlaceOrder)
    assert stop.request.type is OrderType.STOP
    assert stop.request.client_order_id == client_order_id(PositionId("pos1"), OrderPurpose.STOP, 0)
    p, (limit_cmd,) = pending(context, tp="110", limit=True)
    assert isinstance(limit_cmd, PlaceOrder) and limit_cmd.request.attached_take_profit == D(110)
