"""Protection plan: native vs watched, OCO, take-profit swap distance and hysteresis, order ids, evolve."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from tests.unit.core.positions.make import context, opened
from trader.core.domain.enums import Direction, OrderPurpose, ProtectionKind
from trader.core.domain.ids import client_order_id
from trader.core.domain.market import Capabilities
from trader.core.positions.protection import (
    base_resting,
    closing_order,
    desired_resting,
    protection_kind,
    working_id,
)
from trader.core.positions.state import Working, evolve

D = Decimal


def test_protection_kind_follows_capabilities() -> None:
    assert protection_kind(Capabilities(native_stop=True)) is ProtectionKind.NATIVE
    assert protection_kind(Capabilities(native_stop=False)) is ProtectionKind.WATCHED


@pytest.mark.parametrize(
    ("native", "oco", "stop", "tp", "expected"),
    [
        (True, True, D(95), D(110), Working.OCO),
        (True, False, D(95), D(110), Working.STOP),
        (True, True, D(95), None, Working.STOP),
        (True, False, None, D(110), Working.TAKE_PROFIT),
        (False, True, D(95), D(110), Working.TAKE_PROFIT),
        (False, False, D(95), None, Working.NONE),
    ],
)
def test_base_resting_order(native: bool, oco: bool, stop: Decimal | None, tp: Decimal | None,
                            expected: Working) -> None:
    ctx = context(native_stop=native, oco=oco)
    p, _ = opened(ctx)
    p = evolve(p, stop_price=stop, take_profit=tp)
    assert base_resting(p, ctx.market.capabilities) is expected


def test_short_swaps_take_profit_in_when_price_falls_near_target() -> None:
    ctx = context(swap="0.01")
    p, _ = opened(ctx, stop="105", tp="90", direction=Direction.SHORT)
    assert desired_resting(p, D("90.91"), ctx) is Working.STOP
    assert desired_resting(p, D("90.90"), ctx) is Working.TAKE_PROFIT
    swapped = evolve(p, working=Working.TAKE_PROFIT)
    assert desired_resting(swapped, D("91.8"), ctx) is Working.TAKE_PROFIT  # within 2 %
    assert desired_resting(swapped, D("91.81"), ctx) is Working.STOP


def test_working_id_matches_the_last_placed_order() -> None:
    ctx = context()
    p, _ = opened(ctx)
    assert working_id(p) == client_order_id(p.id, OrderPurpose.STOP, 0)
    assert working_id(evolve(p, working=Working.NONE)) is None


def test_closing_order_amount_rounds_down_and_counts_the_attempt() -> None:
    ctx = context()
    p, _ = opened(ctx)
    p = evolve(p, filled=D("0.99999"))
    moved, request = closing_order(p, Working.EXIT, ctx.market)
    assert request.amount == D("0.9999") and moved.working_amount == D("0.9999")
    assert moved.exit_attempt == p.exit_attempt + 1 and moved.working is Working.EXIT


def test_evolve_equals_replace_and_rejects_unknown_fields() -> None:
    p, _ = opened(context())
    assert evolve(p, filled=D(2), note="x") == dataclasses.replace(p, filled=D(2), note="x")
    with pytest.raises(KeyError):
        evolve(p, not_a_field=1)
