"""In-memory portfolio repository; passes the same contract suite as the SQL one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from trader.adapters.store.memory.tables import OverlayTable, normalise
from trader.ports.portfolio import BasketSnapshot, Holding, PriceQuote


class MemoryPortfolioRepository:
    """Holdings by (basket, asset, reference), prices by (asset, quote), snapshots by (basket, day)."""

    def __init__(self, holdings: OverlayTable[tuple[str, str, str], Holding],
                 prices: OverlayTable[tuple[str, str], PriceQuote],
                 snapshots: OverlayTable[tuple[str, date], BasketSnapshot]) -> None:
        self._h = holdings
        self._p = prices
        self._s = snapshots

    async def add_holdings(self, items: Iterable[Holding]) -> int:
        """Store holdings not stored yet; return how many were new."""
        added = 0
        for key, item in {(h.basket, h.asset, h.reference): h for h in items}.items():
            if self._h.get(key) is None:
                self._h.put(key, normalise(item))
                added += 1
        return added

    async def holdings(self, basket: str | None = None) -> list[Holding]:
        """Return the holdings of ``basket`` (all when None), by basket, asset and time."""
        found = [h for h in self._h.values() if basket is None or h.basket == basket]
        return sorted(found, key=lambda h: (h.basket, h.asset, h.acquired_at))

    async def remove_basket(self, basket: str) -> int:
        """Forget every holding of ``basket``."""
        keys = [k for k, h in self._h.items() if h.basket == basket]
        for key in keys:
            self._h.delete(key)
        return len(keys)

    async def put_prices(self, quotes: Iterable[PriceQuote]) -> int:
        """Insert or replace the cached price of each (asset, quote)."""
        written = {(q.asset, q.quote): q for q in quotes}
        for key, quote in written.items():
            self._p.put(key, normalise(quote))
        return len(written)

    async def prices(self, quote: str, assets: Iterable[str]) -> dict[str, PriceQuote]:
        """Return the cached prices in ``quote`` of those ``assets`` that have one."""
        found = {a: self._p.get((a, quote)) for a in set(assets)}
        return {a: q for a, q in found.items() if q is not None}

    async def put_snapshot(self, snapshot: BasketSnapshot) -> None:
        """Insert or replace the snapshot of (basket, day)."""
        self._s.put((snapshot.basket, snapshot.day), normalise(snapshot))

    async def snapshots(self, basket: str, since: date | None = None) -> list[BasketSnapshot]:
        """Return the basket's snapshots from ``since`` on, oldest first."""
        found = [s for s in self._s.values() if s.basket == basket and (since is None or s.day >= since)]
        return sorted(found, key=lambda s: s.day)
