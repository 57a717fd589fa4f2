"""SQL repository for news headlines (``news_items``)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trader.adapters.store.orm import NewsItemRow
from trader.ports.news import NewsItem


def _row(item: NewsItem) -> NewsItemRow:
    return NewsItemRow(key=item.key, source=item.source, title=item.title, link=item.link,
                       published_at=item.published_at, assets="," + ",".join(item.assets) + ",")


def _item(row: NewsItemRow) -> NewsItem:
    return NewsItem(row.key, row.source, row.title, row.link, row.published_at,
                    tuple(a for a in row.assets.split(",") if a))


class SqlNewsRepository:
    """Headlines in ``news_items``, keyed by their feed identity."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_new(self, items: Iterable[NewsItem]) -> list[NewsItem]:
        """Store the items not stored yet (by key; the first of a repeated key wins); return them."""
        fresh: dict[str, NewsItem] = {}
        for item in items:
            fresh.setdefault(item.key, item)
        if not fresh:
            return []
        stored = set((await self._session.scalars(
            select(NewsItemRow.key).where(NewsItemRow.key.in_(list(fresh))))).all())
        added = [item for key, item in fresh.items() if key not in stored]
        self._session.add_all(_row(item) for item in added)
        await self._session.flush()
        return added

    async def latest(self, limit: int = 10, asset: str | None = None) -> list[NewsItem]:
        """Return the newest items first, optionally only those mentioning ``asset``."""
        stmt = select(NewsItemRow).order_by(NewsItemRow.published_at.desc(), NewsItemRow.key).limit(limit)
        if asset is not None:
            stmt = stmt.where(NewsItemRow.assets.contains(f",{asset.upper()},"))
        return [_item(r) for r in (await self._session.scalars(stmt)).all()]
