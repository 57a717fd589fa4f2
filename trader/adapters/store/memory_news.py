"""In-memory news repository; passes the same contract suite as the SQL one."""

from __future__ import annotations

from collections.abc import Iterable

from trader.adapters.store.memory_tables import OverlayTable, normalise
from trader.ports.news import NewsItem


class MemoryNewsRepository:
    """Headlines by key."""

    def __init__(self, table: OverlayTable[str, NewsItem]) -> None:
        self._t = table

    async def add_new(self, items: Iterable[NewsItem]) -> list[NewsItem]:
        """Store the items not stored yet (by key; the first of a repeated key wins); return them."""
        added = []
        for item in items:
            if self._t.get(item.key) is None:
                stored = normalise(item)
                self._t.put(item.key, stored)
                added.append(stored)
        return added

    async def latest(self, limit: int = 10, asset: str | None = None) -> list[NewsItem]:
        """Return the newest items first, optionally only those mentioning ``asset``."""
        found = [i for i in self._t.values() if asset is None or asset.upper() in i.assets]
        return sorted(found, key=lambda i: (-i.published_at.timestamp(), i.key))[:limit]
