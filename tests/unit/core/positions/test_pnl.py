"""PnL and fee accounting: quote and base fees, averages, realised and unrealised."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.unit.core.positions.make import context, opened, pending
from trader.core.domain.enums import Direction, ExitReason
from trader.core.positions import position_events as ev
from trader.core.positions.machine import apply
from trader.core.positions.pnl import (
    average_price,
    cost_basis,
    exposure,
    fee_split,
    price_gain,
    return_fraction,
    total_pnl,
    unrealised_pnl,
)
from trader.core.positions.state import PositionStatus

D = Decimal


def test_fee_in_quote_keeps_amount() -> None:
    assert fee_split(D(1), D(100), D("0.1"), False, True) == (D(1), D("0.1"))


def test_fee_in_base_reduces_long_holding_and_is_valued_in_quote() -> None:
    assert fee_split(D(1), D(100), D("0.001"), True, True) == (D("0.999"), D("0.100"))


def test_fee_in_base_on_a_closing_fill_only_costs_quote() -> None:
    assert fee_split(D(1), D(100), D("0.001"), True, False) == (D(1), D("0.100"))


def test_average_price_is_volume_weighted() -> None:
    assert average_price(D(0), None, D(1), D(100)) == D(100)
    assert average_price(D(1), D(100), D(3), D(200)) == D(175)


def test_price_gain_sign_by_direction() -> None:
    assert price_gain(Direction.LONG, D(100), D(110), D(2)) == D(20)
    assert price_gain(Direction.SHORT, D(100), D(110), D(2)) == D(-20)


def test_base_fee_entry_then_exit_loses_exactly_the_fees() -> None:
    ctx = context()
    p, _ = pending(ctx)
    p, _ = apply(p, ev.EntryFilled(D(1), D(100), fee=D("0.001"), fee_in_base=True), ctx)
    assert p.filled == D("0.999") and p.entry_price == D(100) and p.fees == D("0.1")
    assert p.realised_pnl == D("-0.1")
    p, _ = apply(p, ev.ExitRequested(reason=ExitReason.MANUAL), ctx)
    p, _ = apply(p, ev.ExitFilled(D("0.999"), D(100), fee=D("0.0999")), ctx)
    assert p.status is PositionStatus.CLOSED
    assert p.realised_pnl == D("-0.1999") and p.fees == D("0.1999")


def test_unrealised_and_total_pnl_at_mark() -> None:
    ctx = context()
    p, _ = opened(ctx, amount="2", price="100")
    p = replace(p, fees=D(1), realised_pnl=D(-1))
    assert unrealised_pnl(p, D(105)) == D(10)
    assert total_pnl(p, D(105)) == D(9)
    assert cost_basis(p) == D(200)
    assert return_fraction(p, D(105)) == D("0.045")


def test_pending_position_has_no_pnl_but_counts_requested_exposure() -> None:
    ctx = context()
    p, _ = pending(ctx, amount="2", entry="100")
    assert unrealised_pnl(p, D(120)) == 0 and return_fraction(p, D(120)) == 0
    assert exposure(p) == D(200)


def test_exposure_of_open_position_is_held_amount_at_entry_and_zero_once_closed() -> None:
    ctx = context()
    p, _ = opened(ctx, amount="2", price="100")
    assert exposure(p) == D(200)
    assert exposure(replace(p, status=PositionStatus.CLOSED)) == 0
