"""News port: stored headlines (deduplicated by key) and the feed reader that fetches them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One headline: ``key`` identifies it across feeds and fetches; ``assets`` are tickers it mentions."""

    key: str
    source: str
    title: str
    link: str
    published_at: datetime
    assets: tuple[str, ...] = ()


class NewsRepository(Protocol):
    """Headlines, newest first."""

    async def add_new(self, items: Iterable[NewsItem]) -> list[NewsItem]:
        """Store the items whose key is not stored yet (the first of a repeated key wins); return those."""
        ...

    async def latest(self, limit: int = 10, asset: str | None = None) -> list[NewsItem]:
        """Return the newest items, optionally only those mentioning ``asset``."""
        ...


class FeedReader(Protocol):
    """Fetch one RSS/Atom feed."""

    async def read(self, url: str) -> tuple[str, list[FeedEntry]]:
        """Return the feed's title and its entries; raise DataError when it cannot be read or parsed."""
        ...


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """An entry as the feed gives it (before tagging and deduplication)."""

    guid: str
    title: str
    link: str
    published_at: datetime | None
    summary: str = ""
