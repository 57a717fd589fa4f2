"""Parcel matching: which earlier acquisitions a disposal uses up (FIFO, highest or lowest cost first).

FIFO is the default. Highest-cost-first and lowest-cost-first are specific identification: the ATO lets
you choose which units you dispose of when your records identify them (ATO "Crypto asset investments"
record keeping; for shares, "Identifying shares or units sold"), so the chosen method must be applied
consistently and stated in the export. A parcel used in part is split in proportion to quantity, and
the remainder keeps its acquisition date and its unit cost exactly (remainder cost = cost - part cost).
Each asset's parcels sit in a heap keyed by the method, so a disposal costs O(log n) per parcel used.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from trader.core.domain.money import ZERO
from trader.core.errors import DataError


class MatchMethod(StrEnum):
    """How a disposal picks the parcels it uses."""

    FIFO = "fifo"
    HIGHEST_COST = "highest-cost"
    LOWEST_COST = "lowest-cost"

    @property
    def label(self) -> str:
        """Return the name printed in exports."""
        return {
            MatchMethod.FIFO: "first in, first out (FIFO)",
            MatchMethod.HIGHEST_COST: "specific identification: highest cost first",
            MatchMethod.LOWEST_COST: "specific identification: lowest cost first",
        }[self]


@dataclass(frozen=True, slots=True)
class Parcel:
    """Units of one asset acquired together; ``cost_aud`` is the whole cost base of ``quantity``."""

    asset: str
    acquired_at: datetime
    quantity: Decimal
    cost_aud: Decimal
    ref: str
    rate_source: str

    @property
    def unit_cost(self) -> Decimal:
        """Return the AUD cost base per unit."""
        return self.cost_aud / self.quantity

    def split(self, quantity: Decimal) -> tuple[Parcel, Parcel]:
        """Return (the part of ``quantity`` units, the remainder) with cost split pro rata."""
        part_cost = self.cost_aud * quantity / self.quantity
        part = replace(self, quantity=quantity, cost_aud=part_cost)
        rest = replace(self, quantity=self.quantity - quantity, cost_aud=self.cost_aud - part_cost)
        return part, rest


def ato_method_note(method: MatchMethod, identified: bool) -> str:
    """Return one line saying whether the ATO accepts ``method`` for records that do (not) identify parcels.

    The ATO lets you choose which units you dispose of when your records identify each parcel (its date
    and cost base); where they do not, use first in, first out (ATO "Identifying shares or units sold",
    which its "Crypto asset investments" guidance applies to crypto parcels; ATO "Keeping crypto records").
    ``identified`` is False when some parcels, e.g. opening holdings without a source, lack such records.
    """
    if not identified:
        return ("ATO: some opening holdings have no source record, so their parcels are not identified: "
                "use FIFO" + ("." if method is MatchMethod.FIFO else ", not this method, unless you hold "
                                                                    "those records."))
    if method is MatchMethod.FIFO:
        return ("ATO: FIFO is accepted; your records identify every parcel, so highest or lowest cost "
                "is accepted too if used consistently.")
    return ("ATO: accepted, as your records identify every parcel sold (date and cost base); "
            "use the same method consistently.")


_Key = tuple[Decimal | float, float, int]


class ParcelPool:
    """Holdings per asset as parcels, consumed in the order ``method`` sets."""

    def __init__(self, method: MatchMethod = MatchMethod.FIFO) -> None:
        self.method = method
        self._heaps: dict[str, list[tuple[_Key, Parcel]]] = {}
        self._held: dict[str, Decimal] = {}
        self._seq = 0

    def _key(self, parcel: Parcel) -> _Key:
        self._seq += 1
        when = parcel.acquired_at.timestamp()
        if self.method is MatchMethod.FIFO:
            return (0.0, when, self._seq)
        cost = parcel.unit_cost
        return (-cost if self.method is MatchMethod.HIGHEST_COST else cost, when, self._seq)

    def add(self, parcel: Parcel) -> None:
        """Add an acquired parcel."""
        heapq.heappush(self._heaps.setdefault(parcel.asset, []), (self._key(parcel), parcel))
        self._held[parcel.asset] = self._held.get(parcel.asset, ZERO) + parcel.quantity

    def holding(self, asset: str) -> Decimal:
        """Return the quantity of ``asset`` held."""
        return self._held.get(asset, ZERO)

    def parcels(self, asset: str) -> list[Parcel]:
        """Return the parcels of ``asset`` in the order they would be used."""
        return [p for _, p in sorted(self._heaps.get(asset, []))]

    def take(self, asset: str, quantity: Decimal, at: datetime) -> list[Parcel]:
        """Remove ``quantity`` units and return the parcels (or parts) used; DataError if too few."""
        heap = self._heaps.get(asset, [])
        held = self.holding(asset)
        if quantity > held:
            raise DataError(
                f"disposal of {quantity} {asset} on {at:%Y-%m-%d %H:%M} UTC exceeds the {held} {asset} held: "
                "add the missing acquisitions: coins held before the bot's records are opening holdings "
                "(`tradebot tax import-holdings` or --holdings FILE.csv), other purchases are buy fills")
        used: list[Parcel] = []
        left = quantity
        while left > 0:
            key, parcel = heapq.heappop(heap)
            if parcel.quantity <= left:
                used.append(parcel)
                left -= parcel.quantity
            else:
                part, rest = parcel.split(left)
                used.append(part)
                heapq.heappush(heap, (key, rest))  # same key: unit cost and date are unchanged
                left = ZERO
        self._held[asset] = held - quantity
        return used
