"""Both directions through the same machine (hypothesis): a short mirrors a long.

A short's stop starts above its entry and only ever moves down, staying above the best (lowest) price
seen; a long's mirror image holds; the PnL of a short is the negative of the long's over the same
prices and equals the long's over the mirrored prices; funding is booked into the realised PnL.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.core.positions.make import NOW, context, opened
from trader.config.sections import TrailingConfig
from trader.core.domain.enums import Direction, ExitReason
from trader.core.positions import position_events as ev
from trader.core.positions.machine import apply
from trader.core.positions.pnl import unrealised_pnl
from trader.core.positions.state import Position, PositionStatus

D = Decimal
moves = st.lists(st.decimals(min_value=D("-0.04"), max_value=D("0.04"), places=3), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(direction=st.sampled_from(list(Direction)), path=moves,
       stop_pct=st.decimals(min_value=D("0.005"), max_value=D("0.2"), places=3),
       distance=st.decimals(min_value=D("0.005"), max_value=D("0.1"), places=3),
       breakeven=st.one_of(st.none(), st.decimals(min_value=D("0.001"), max_value=D("0.05"), places=3)))
def test_the_stop_starts_on_the_losing_side_and_only_tightens(
        direction: Direction, path: list[Decimal], stop_pct: Decimal, distance: Decimal,
        breakeven: Decimal | None) -> None:
    long = direction is Direction.LONG
    entry = D(100)
    stop = entry * (1 - stop_pct) if long else entry * (1 + stop_pct)
    trailing = TrailingConfig(enabled=True, distance=distance, min_step=D(0), breakeven_at=breakeven)
    ctx = context(trailing=trailing)
    position, _ = opened(ctx, price="100", stop=str(stop.quantize(D("0.01"))), direction=direction)
    assert position.stop_price is not None
    assert (position.stop_price < entry) if long else (position.stop_price > entry)  # short: above entry
    price = entry
    for move in path:
        previous = position.stop_price
        assert previous is not None
        price = max(price * (1 + move), D(1)).quantize(D("0.01"))
        high, low = max(price, price * D("1.002")), min(price, price * D("0.998"))
        position, _ = apply(position, ev.PriceUpdated(high.quantize(D("0.01")), low.quantize(D("0.01")),
                                                      price, NOW), ctx)
        if position.status is not PositionStatus.OPEN:
            break
        assert position.stop_price is not None and position.high_water is not None
        if long:
            assert position.stop_price >= previous and position.stop_price < position.high_water
        else:
            assert position.stop_price <= previous and position.stop_price > position.high_water


def _round_trip(direction: Direction, entry: Decimal, exit_price: Decimal,
                funding: Decimal | None = None) -> Position:
    ctx = context()
    stop = entry * (D("0.5") if direction is Direction.LONG else 2)
    position, _ = opened(ctx, price=str(entry), stop=str(stop), direction=direction)
    if funding:
        position, _ = apply(position, ev.FundingPaid(funding, NOW), ctx)
    position, _ = apply(position, ev.ExitRequested(ExitReason.SIGNAL, NOW), ctx)
    position, _ = apply(position, ev.ExitFilled(position.open_amount, exit_price, at=NOW), ctx)
    assert position.status is PositionStatus.CLOSED
    return position


prices = st.decimals(min_value=D(10), max_value=D(1000), places=2)


@settings(max_examples=200, deadline=None)
@given(entry=prices, exit_price=prices, funding=st.decimals(min_value=D(-5), max_value=D(5), places=2))
def test_pnl_of_a_short_mirrors_the_long(entry: Decimal, exit_price: Decimal, funding: Decimal) -> None:
    long = _round_trip(Direction.LONG, entry, exit_price)
    short = _round_trip(Direction.SHORT, entry, exit_price)
    assert long.realised_pnl == -short.realised_pnl
    assert (long.realised_pnl > 0) == (exit_price > entry)
    assert (short.realised_pnl > 0) == (exit_price < entry)
    mirrored = 2 * entry - exit_price
    if mirrored > 0:
        assert _round_trip(Direction.SHORT, entry, mirrored).realised_pnl == long.realised_pnl
    paying = _round_trip(Direction.SHORT, entry, exit_price, funding)
    assert paying.funding == funding and paying.realised_pnl == short.realised_pnl - funding


@given(entry=prices, mark=prices)
def test_unrealised_pnl_is_signed_by_direction(entry: Decimal, mark: Decimal) -> None:
    ctx = context()
    long, _ = opened(ctx, price=str(entry), stop=str(entry / 2))
    short, _ = opened(ctx, price=str(entry), stop=str(entry * 2), direction=Direction.SHORT)
    assert unrealised_pnl(long, mark) == -unrealised_pnl(short, mark) == (mark - entry) * long.open_amount
