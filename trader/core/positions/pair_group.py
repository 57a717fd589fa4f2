"""A pair trade as one position group: two legs opened together, closed together, never left half open.

Pure state machine (no I/O), like ``positions.machine``: each event returns the new group and the leg
orders to send. Opening sends both legs at once. When a leg is rejected (or cancelled) the other is
cancelled if it has not filled and unwound (an opposite market order for what it holds) if it has, so
the group ends FAILED and flat. Closing sends the opposite order of both legs. A leg order here is a
market order; ``amount`` is base units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from trader.core.domain.enums import Side
from trader.core.errors import InvariantViolation


class GroupStatus(StrEnum):
    """Lifecycle of a pair group."""

    OPENING = "opening"  # both legs sent, not both filled yet
    OPEN = "open"  # both legs filled: the hedge is on
    UNWINDING = "unwinding"  # a leg failed: what the other holds is being sold back
    CLOSING = "closing"  # both legs are being closed
    CLOSED = "closed"  # closed after being open
    FAILED = "failed"  # never fully opened and now flat


class LegPurpose(StrEnum):
    """Why a leg order is sent."""

    OPEN = "open"
    UNWIND = "unwind"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of the pair: what was asked, what is held (signed by ``side``), whether it failed."""

    symbol: str
    side: Side  # the opening side: BUY for the long leg, SELL for the short leg
    amount: Decimal
    held: Decimal = Decimal(0)
    failed: bool = False
    flat_sent: Decimal = Decimal(0)  # amount already sent back (unwind or close)

    @property
    def complete(self) -> bool:
        """Return True when the whole amount filled."""
        return self.held >= self.amount


@dataclass(frozen=True, slots=True)
class LegOrder:
    """A market order for one leg; the executor sends it and reports fills/rejections back."""

    leg: int
    symbol: str
    side: Side
    amount: Decimal
    purpose: LegPurpose


@dataclass(frozen=True, slots=True)
class CancelLeg:
    """Cancel the still-working opening order of one leg."""

    leg: int
    symbol: str


GroupCommand = LegOrder | CancelLeg


@dataclass(frozen=True, slots=True)
class PairGroup:
    """Two legs and the group status."""

    id: str
    legs: tuple[Leg, Leg]
    status: GroupStatus = GroupStatus.OPENING

    @property
    def held(self) -> tuple[Decimal, Decimal]:
        """Return what each leg holds after what was sent back (fills of unwinds are booked as sent)."""
        return self.legs[0].held - self.legs[0].flat_sent, self.legs[1].held - self.legs[1].flat_sent


Result = tuple[PairGroup, tuple[GroupCommand, ...]]


def open_group(group_id: str, first: Leg, second: Leg) -> Result:
    """Return a new OPENING group and the two opening orders, sent together."""
    group = PairGroup(group_id, (first, second))
    return group, tuple(LegOrder(i, leg.symbol, leg.side, leg.amount, LegPurpose.OPEN)
                        for i, leg in enumerate(group.legs))


def on_open_fill(group: PairGroup, leg: int, amount: Decimal) -> Result:
    """Book an opening fill; the group is OPEN once both legs are complete (or unwinds the new coins
    at once if the group already failed)."""
    current = group.legs[leg]
    if amount <= 0 or current.held + amount > current.amount:
        left = current.amount - current.held
        raise InvariantViolation(f"{group.id}: leg {leg} fill {amount} outside (0, {left}]")
    legs = _with(group.legs, leg, replace(current, held=current.held + amount))
    if group.status is not GroupStatus.OPENING:  # filled after the group gave up: sell it back too
        return _unwind(replace(group, legs=legs), (leg,))
    if all(x.complete for x in legs):
        return PairGroup(group.id, legs, GroupStatus.OPEN), ()
    return replace(group, legs=legs), ()


def on_open_failed(group: PairGroup, leg: int) -> Result:
    """A leg's opening order was rejected or cancelled: cancel the other, unwind whatever is held."""
    if group.status not in (GroupStatus.OPENING, GroupStatus.UNWINDING):
        return group, ()
    legs = _with(group.legs, leg, replace(group.legs[leg], failed=True))
    other = 1 - leg
    commands: list[GroupCommand] = []
    if not legs[other].complete and not legs[other].failed:
        commands.append(CancelLeg(other, legs[other].symbol))
    unwound, more = _unwind(replace(group, legs=legs), (0, 1))
    return unwound, (*commands, *more)


def close_group(group: PairGroup) -> Result:
    """Close both legs of an OPEN group together."""
    if group.status is not GroupStatus.OPEN:
        raise InvariantViolation(f"{group.id}: only an open group can be closed (it is {group.status})")
    orders = []
    legs = list(group.legs)
    for i, leg in enumerate(group.legs):
        orders.append(LegOrder(i, leg.symbol, leg.side.opposite, leg.held, LegPurpose.CLOSE))
        legs[i] = replace(leg, flat_sent=leg.held)
    return PairGroup(group.id, (legs[0], legs[1]), GroupStatus.CLOSING), tuple(orders)


def on_flat(group: PairGroup) -> PairGroup:
    """Both closing (or unwinding) orders filled: the group is CLOSED (was open) or FAILED (never was)."""
    was_open = group.status is GroupStatus.CLOSING
    return replace(group, status=GroupStatus.CLOSED if was_open else GroupStatus.FAILED)


def _unwind(group: PairGroup, legs_to_check: tuple[int, ...]) -> Result:
    orders: list[GroupCommand] = []
    legs = list(group.legs)
    for i in legs_to_check:
        leg = legs[i]
        left = leg.held - leg.flat_sent
        if left > 0:
            orders.append(LegOrder(i, leg.symbol, leg.side.opposite, left, LegPurpose.UNWIND))
            legs[i] = replace(leg, flat_sent=leg.held)
    return PairGroup(group.id, (legs[0], legs[1]), GroupStatus.UNWINDING), tuple(orders)


def _with(legs: tuple[Leg, Leg], i: int, leg: Leg) -> tuple[Leg, Leg]:
    return (leg, legs[1]) if i == 0 else (legs[0], leg)
