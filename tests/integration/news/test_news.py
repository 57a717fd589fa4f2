"""News refresh over HTTP (real aiohttp + feedparser) against local feeds, stored in real SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.fake_exchange.server import ServerThread
from tests.fakes.fake_feeds import running_feeds
from trader.adapters.news.feeds import HttpFeedReader
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.runtime.clock import SimClock
from trader.services.news import NewsService

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def feeds() -> Iterator[ServerThread]:
    yield from running_feeds()


async def test_feeds_are_read_deduplicated_tagged_and_bad_ones_skipped(
        feeds: ServerThread, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'news.db'}"
    await upgrade_async(url)
    db = Database.from_url(url)
    reader = HttpFeedReader(timeout_seconds=1.0)
    base = feeds.base_url
    service = NewsService(db.uow, reader, SimClock(NOW), tickers=("BTC", "ETH", "SOL"), feeds=(
        ("Fake RSS", f"{base}/rss"), ("Fake Atom", f"{base}/atom"), ("Garbage", f"{base}/garbage"),
        ("Slow", f"{base}/slow"), ("Broken", f"{base}/broken"), ("Nowhere", "http://127.0.0.1:9/feed")))
    try:
        with caplog.at_level("WARNING", logger="trader.services.news"):
            first = await service.refresh()
        assert first.added == 4  # 3 RSS + 2 Atom, one story in both
        assert first.failed == ("Garbage", "Slow", "Broken", "Nowhere")
        assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 4
        again = await service.refresh()
        assert again.added == 0
        latest = await service.latest()
        assert [n.title for n in latest] == [
            "Ethereum devs set date for next fork", "A solution for nearly everything",
            "Solana network upgrade ships", "Bitcoin tops $100,000 as ETF inflows climb"]
        assert latest[0].published_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
        assert latest[3].assets == ("BTC", "ETH") and latest[3].source == "Fake RSS"
        assert [n.title for n in await service.latest("sol")] == ["Solana network upgrade ships"]
        assert await service.latest("XRP") == ()
    finally:
        await reader.close()
        await db.dispose()
