"""Opening a position stores its stop and take-profit on the market's price tick, as the orders carry them."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.core.positions.make import context, opened, pending
from trader.core.domain.commands import PlaceOrder
from trader.core.domain.enums import Direction, OrderType
from trader.core.positions.state import Working

D = Decimal


def test_take_profit_is_stored_rounded_to_the_price_step() -> None:
    p, _ = pending(context(), stop="95", tp="3286.6252110619757")
    assert p.take_profit == D("3286.63")


def test_stop_is_stored_rounded_toward_the_position() -> None:
    long_p, _ = pending(context(), stop="95.001")
    short_p, _ = pending(context(), stop="105.009", direction=Direction.SHORT, tp="90.004")
    assert long_p.stop_price == long_p.initial_stop == D("95.01")
    assert short_p.stop_price == short_p.initial_stop == D("105.00")
    assert short_p.take_profit == D("90.00")


def test_take_profit_order_carries_exactly_the_stored_target() -> None:
    ctx = context(native_stop=False)  # watched stop: the take-profit limit rests at once
    p, cmds = opened(ctx, amount="1", price="100", stop="95", tp="110.126")
    assert p.working is Working.TAKE_PROFIT
    (cmd,) = cmds
    assert isinstance(cmd, PlaceOrder) and cmd.request.type is OrderType.LIMIT
    assert cmd.request.price == p.take_profit == D("110.13")


@given(st.decimals(min_value=D("100.00"), max_value=D("100000"), places=6),
       st.decimals(min_value=D("1"), max_value=D("99"), places=6))
def test_stored_levels_are_whole_ticks_and_stop_never_moves_away(tp: Decimal, stop: Decimal) -> None:
    p, _ = pending(context(), entry="100", stop=str(stop), tp=str(tp))
    step = D("0.01")
    assert p.take_profit is not None and p.stop_price is not None
    assert p.take_profit % step == 0 and p.stop_price % step == 0
    assert abs(p.take_profit - tp) <= step / 2
    assert stop <= p.stop_price < stop + step  # a long's stop rounds up: tighter, never looser
