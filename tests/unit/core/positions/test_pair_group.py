"""The pair group is never left half open: for any order of leg fills and failures it ends with both legs
held (OPEN) or with every held coin sent back (FAILED after the unwind)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core.domain.enums import Side
from trader.core.errors import InvariantViolation
from trader.core.positions import pair_group as pg

D = Decimal
# one outcome per leg: filled in 1-3 parts, or failed after 0-2 partial fills
outcomes = st.tuples(st.booleans(), st.integers(0, 2), st.integers(1, 3))


def _events(leg: int, outcome: tuple[bool, int, int], amount: Decimal) -> list[tuple[int, str, Decimal]]:
    fails, partial_fills, parts = outcome
    if fails:
        chunk = amount / 4
        return [(leg, "fill", chunk)] * partial_fills + [(leg, "fail", D(0))]
    chunk = (amount / parts).quantize(D("0.0001"))
    return [(leg, "fill", chunk)] * (parts - 1) + [(leg, "fill", amount - chunk * (parts - 1))]


@settings(max_examples=300, deadline=None)
@given(first=outcomes, second=outcomes, order=st.randoms(use_true_random=False))
def test_the_group_is_open_with_both_legs_or_flat_never_half_open(first: tuple[bool, int, int],
                                                                   second: tuple[bool, int, int],
                                                                   order: object) -> None:
    amounts = (D(2), D("0.5"))
    group, commands = pg.open_group("g", pg.Leg("ETH/USDT", Side.BUY, amounts[0]),
                                    pg.Leg("BTC/USDT", Side.SELL, amounts[1]))
    assert [c.purpose for c in commands if isinstance(c, pg.LegOrder)] == [pg.LegPurpose.OPEN] * 2
    streams = [_events(0, first, amounts[0]), _events(1, second, amounts[1])]
    sent_back = [D(0), D(0)]
    while any(streams):
        live = [s for s in streams if s]
        stream = live[order.randrange(len(live))]  # type: ignore[attr-defined]
        leg, kind, amount = stream.pop(0)
        if kind == "fill":
            if group.status is pg.GroupStatus.UNWINDING and group.legs[leg].failed:
                continue  # a failed order does not fill any more
            group, out = pg.on_open_fill(group, leg, amount)
        else:
            # the other leg's cancel may come too late: its later fills still arrive (and are unwound)
            group, out = pg.on_open_failed(group, leg)
        for command in out:
            if isinstance(command, pg.LegOrder):
                assert command.purpose is pg.LegPurpose.UNWIND
                assert command.side is group.legs[command.leg].side.opposite
                sent_back[command.leg] += command.amount
    held = [leg.held for leg in group.legs]
    if not first[0] and not second[0]:
        assert group.status is pg.GroupStatus.OPEN and held == list(amounts) and sent_back == [0, 0]
    else:
        assert group.status is pg.GroupStatus.UNWINDING
        assert sent_back == held  # every coin bought or sold short is sent back: flat
        assert group.held == (D(0), D(0))
        assert pg.on_flat(group).status is pg.GroupStatus.FAILED


def test_an_open_group_closes_both_legs_together_and_only_once_open() -> None:
    group, _ = pg.open_group("g", pg.Leg("ETH/USDT", Side.SELL, D(1)), pg.Leg("BTC/USDT", Side.BUY, D(2)))
    with pytest.raises(InvariantViolation, match="only an open group"):
        pg.close_group(group)
    group, _ = pg.on_open_fill(group, 0, D(1))
    assert group.status is pg.GroupStatus.OPENING
    group, _ = pg.on_open_fill(group, 1, D(2))
    assert group.status is pg.GroupStatus.OPEN
    closing, orders = pg.close_group(group)
    assert [(o.leg, o.side, o.amount, o.purpose) for o in orders if isinstance(o, pg.LegOrder)] == [
        (0, Side.BUY, D(1), pg.LegPurpose.CLOSE), (1, Side.SELL, D(2), pg.LegPurpose.CLOSE)]
    assert pg.on_flat(closing).status is pg.GroupStatus.CLOSED
    with pytest.raises(InvariantViolation, match="outside"):
        pg.on_open_fill(group, 0, D(1))  # more than asked for is a bug, not a fill


def test_a_leg_filling_after_the_group_failed_is_unwound_at_once() -> None:
    group, _ = pg.open_group("g", pg.Leg("ETH/USDT", Side.BUY, D(1)), pg.Leg("BTC/USDT", Side.SELL, D(2)))
    group, out = pg.on_open_failed(group, 1)
    assert out == (pg.CancelLeg(0, "ETH/USDT"),) and group.status is pg.GroupStatus.UNWINDING
    group, out = pg.on_open_fill(group, 0, D("0.4"))  # the cancel came too late for part of it
    assert out == (pg.LegOrder(0, "ETH/USDT", Side.SELL, D("0.4"), pg.LegPurpose.UNWIND),)
    assert group.held == (D(0), D(0))
