"""Portfolio port: basket holdings (real fills or virtual purchases), cached prices, daily snapshots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from trader.core.domain.money import ZERO


class HoldingKind(StrEnum):
    """Where a holding came from: an order that filled, or a purchase only tracked (never traded)."""

    FILL = "fill"
    VIRTUAL = "virtual"


@dataclass(frozen=True, slots=True)
class Holding:
    """``quantity`` of ``asset`` held in ``basket`` at a ``cost`` in ``quote`` (fees included).

    ``reference`` makes a purchase idempotent: the position id of a fill, the purchase date of a
    virtual one, so tracking or buying the same thing twice stores it once. ``proceeds`` is what the
    sold part of a bought position brought back (its exit fills less their fees): computed from the
    fills when holdings are settled, never stored; ``quantity`` is then what is still held and ``cost``
    stays what the whole purchase cost.
    """

    basket: str
    asset: str
    quantity: Decimal
    cost: Decimal
    quote: str
    kind: HoldingKind
    acquired_at: datetime
    reference: str
    proceeds: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """The last price of one ``asset`` in ``quote``, where it came from and when it was read."""

    asset: str
    quote: str
    price: Decimal
    source: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BasketSnapshot:
    """A basket's value and cost on one UTC day; ``stale`` counts assets valued at a stale price."""

    basket: str
    day: date
    value: Decimal
    cost: Decimal
    quote: str
    stale: int = 0


class PortfolioRepository(Protocol):
    """Holdings by basket, the price cache and the daily basket snapshots."""

    async def add_holdings(self, items: Iterable[Holding]) -> int:
        """Store holdings not stored yet (by basket, asset and reference); return how many were new."""
        ...

    async def holdings(self, basket: str | None = None) -> list[Holding]:
        """Return the holdings of ``basket`` (every basket when None), by basket, asset and time."""
        ...

    async def remove_basket(self, basket: str) -> int:
        """Forget every holding of ``basket``; return how many were removed."""
        ...

    async def put_prices(self, quotes: Iterable[PriceQuote]) -> int:
        """Insert or replace the cached price of each (asset, quote); return how many were written."""
        ...

    async def prices(self, quote: str, assets: Iterable[str]) -> dict[str, PriceQuote]:
        """Return the cached prices in ``quote`` of those ``assets`` that have one."""
        ...

    async def put_snapshot(self, snapshot: BasketSnapshot) -> None:
        """Insert or replace the snapshot of (basket, day)."""
        ...

    async def snapshots(self, basket: str, since: date | None = None) -> list[BasketSnapshot]:
        """Return the basket's snapshots from ``since`` on (all when None), oldest first."""
        ...
