"""News: refresh the configured feeds into the store (deduplicated, tagged with assets) and read them.

A feed that fails, times out or returns garbage is skipped with one log line; the others still count.
A headline's key is its link (else the feed's id), hashed, so the same story from a second fetch or a
second feed is stored once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from trader.core.analytics.news_tags import NAMES, mentioned_assets
from trader.core.domain.alerts import Alert
from trader.core.errors import DataError, InputError
from trader.ports.clock import Clock
from trader.ports.news import FeedReader, NewsItem
from trader.ports.store import ResearchUnitOfWorkFactory
from trader.services.dto import NewsView

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewsRefresh:
    """What one refresh did: headlines added, and the feeds that could not be read."""

    added: int
    failed: tuple[str, ...] = ()


class NewsService:
    """Refresh feeds and answer ``/news [ASSET]``."""

    def __init__(self, uow_factory: ResearchUnitOfWorkFactory, reader: FeedReader, clock: Clock, *,
                 feeds: tuple[tuple[str, str], ...], tickers: tuple[str, ...],
                 on_new: Callable[[list[NewsItem]], Awaitable[None]] | None = None) -> None:
        self._uow = uow_factory
        self._on_new = on_new
        self._reader = reader
        self._clock = clock
        self._feeds = feeds
        self._tickers = tuple(sorted({*tickers, *NAMES}))

    async def refresh(self) -> NewsRefresh:
        """Read every feed; store the headlines not seen before."""
        items: list[NewsItem] = []
        failed: list[str] = []
        for name, url in self._feeds:
            try:
                _, entries = await self._reader.read(url)
            except DataError as exc:
                logger.warning("news feed %s skipped: %s", name, exc)
                failed.append(name)
                continue
            now = self._clock.now()
            for entry in entries:
                identity = entry.link or entry.guid
                key = hashlib.sha256(identity.encode()).hexdigest()[:40]
                assets = mentioned_assets(f"{entry.title} {entry.summary}", self._tickers)
                items.append(NewsItem(key, name, entry.title[:500], entry.link, entry.published_at or now,
                                      assets))
        async with self._uow() as uow:
            added = await uow.news.add_new(items)
            await uow.commit()
        if added:
            logger.info("news: %d new headline(s)", len(added))
            if self._on_new is not None:
                await self._on_new(added)
        return NewsRefresh(len(added), tuple(failed))

    async def latest(self, asset: str | None = None, limit: int = 10) -> tuple[NewsView, ...]:
        """Return the newest headlines, optionally those mentioning ``asset`` (a ticker)."""
        if not 1 <= limit <= 50:
            raise InputError(f"limit {limit}", user_message="Ask for 1 to 50 headlines.")
        async with self._uow() as uow:
            found = await uow.news.latest(limit, asset.upper() if asset else None)
        return tuple(NewsView(i.title, i.source, i.link, i.published_at, i.assets) for i in found)


class HeldNewsAlerts:
    """Alert once per new headline that mentions an asset a basket holds (``news.alert_held``)."""

    def __init__(self, held: Callable[[], Awaitable[frozenset[str]]],
                 publish: Callable[[Alert], Awaitable[object]]) -> None:
        self._held = held
        self._publish = publish

    async def __call__(self, items: list[NewsItem]) -> None:
        """Publish an alert for each item that mentions a held asset."""
        tagged = [i for i in items if i.assets]
        if not tagged:
            return
        held = await self._held()
        for item in tagged:
            hits = sorted(set(item.assets) & held)
            if hits:
                text = f"News about {', '.join(hits)} (held): {item.title} ({item.source}) {item.link}"
                await self._publish(Alert("news", text, dedupe_key=f"news:{item.key}"))
