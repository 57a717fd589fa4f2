"""Start-up reconciliation of pair groups: each leg still held must be on the venue.

A group's legs are not ``Position``s, so ``Reconciler`` asks here what each unsettled group still holds
per leg (``LegClaim``: opened minus sent back and filled) and compares it, together with the single
positions on the same pair, with the venue: the signed position per pair on perpetuals, the base coins
on spot (a spot short leg sold coins the account held, so nothing on the venue proves it: left out).
A leg missing or different is reported in plain words as an unresolved difference, as a single
position whose coins vanished is: the group is left as it is and new entries stay blocked until an
admin has looked and acknowledged (``Reconciler.acknowledge``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from trader.core.domain.enums import Side
from trader.core.domain.ids import Symbol
from trader.core.engine.pair_groups import GroupPosition

LEG_NAMES = ("y", "x")


@dataclass(frozen=True, slots=True)
class LegClaim:
    """What one leg of an unsettled group still holds: ``amount`` of ``symbol`` bought or sold short."""

    group_id: str
    leg: int
    symbol: Symbol
    side: Side
    amount: Decimal

    @property
    def signed(self) -> Decimal:
        """Return the amount, negative for a short leg (as the venue signs its positions)."""
        return self.amount if self.side is Side.BUY else -self.amount

    def words(self) -> str:
        """Return the leg in words: 'its y leg ETH/USDT (long 1.62)'."""
        direction = "long" if self.side is Side.BUY else "short"
        return f"its {LEG_NAMES[self.leg]} leg {self.symbol} ({direction} {self.amount})"


def leg_claims(groups: Mapping[str, GroupPosition]) -> list[LegClaim]:
    """Return every leg of ``groups`` still holding coins (opened and not yet sent back and filled)."""
    claims = []
    for gp in groups.values():
        for i, (leg, book) in enumerate(zip(gp.group.legs, gp.books, strict=True)):
            left = leg.held - book.exit_filled
            if left > 0:
                claims.append(LegClaim(gp.id, i, Symbol(leg.symbol), leg.side, left))
    return claims


def agrees(claimed: Decimal, held: Decimal, tolerance: Decimal) -> bool:
    """Return True when the venue's signed ``held`` covers the signed ``claimed`` within ``tolerance``."""
    if claimed == 0:
        return held == 0
    return held * claimed > 0 and abs(held) >= abs(claimed) * (1 - tolerance)


def leg_problem(claim: LegClaim, claimed: Decimal, held: Decimal, venue_has: str) -> str:
    """Return in words how the venue (``held``, said as ``venue_has``) misses the leg, when every claim
    on its pair adds up to ``claimed``."""
    keep = "the group is left as it is and new entries stay blocked until an admin acknowledges"
    if held == 0 or held * claim.signed < 0:
        return f"pair group {claim.group_id}: {claim.words()} is missing on the venue ({venue_has}); {keep}"
    return (f"pair group {claim.group_id}: {claim.words()} does not match the venue: what the bot holds "
            f"there adds up to {claimed} but {venue_has}; {keep}")


def claims_by_pair(claims: Iterable[LegClaim]) -> dict[Symbol, list[LegClaim]]:
    """Return the claims grouped by pair."""
    out: dict[Symbol, list[LegClaim]] = {}
    for claim in claims:
        out.setdefault(claim.symbol, []).append(claim)
    return out
