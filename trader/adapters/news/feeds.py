"""Read RSS and Atom feeds: aiohttp fetches (timeout, size cap), feedparser parses in a worker thread.

feedparser is the field's standard for the many dialects of RSS and Atom in the wild; it never raises
on bad input but flags it (``bozo``), so a feed that is garbage and yields no entries is a DataError
here, and the news service skips it with a log line.
"""

from __future__ import annotations

import asyncio
import calendar
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
import feedparser

from trader.core.errors import DataError
from trader.ports.news import FeedEntry

MAX_BYTES: Final = 2_000_000  # a news feed is tens of KB; a larger answer is not a feed


class HttpFeedReader:
    """``FeedReader`` over HTTP; one session, opened on first use."""

    def __init__(self, timeout_seconds: float = 10.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def read(self, url: str) -> tuple[str, list[FeedEntry]]:
        """Return the feed's title and entries; DataError when unreachable, too large or not a feed."""
        body = await self._fetch(url)
        parsed = await asyncio.to_thread(feedparser.parse, body)
        entries = [e for e in (_entry(raw) for raw in parsed.entries) if e is not None]
        if not entries and parsed.get("bozo"):
            why = type(parsed.get("bozo_exception")).__name__
            raise DataError(f"feed {url} is not valid RSS/Atom ({why})")
        return str(parsed.feed.get("title") or url), entries

    async def _fetch(self, url: str) -> bytes:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout,
                                                  headers={"User-Agent": "tradebot news reader"})
        try:
            async with self._session.get(url) as resp:
                if resp.status != 200:
                    raise DataError(f"feed {url} answered HTTP {resp.status}")
                body = await resp.content.read(MAX_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DataError(f"feed {url} unreachable ({type(exc).__name__})") from None
        if len(body) > MAX_BYTES:
            raise DataError(f"feed {url} is larger than {MAX_BYTES:,} bytes")
        return body

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def _entry(raw: Any) -> FeedEntry | None:
    title = str(raw.get("title") or "").strip()
    link = str(raw.get("link") or "").strip()
    if not title or not (link or raw.get("id")):
        return None
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC) if stamp else None
    return FeedEntry(str(raw.get("id") or link), title, link, published, str(raw.get("summary") or ""))
