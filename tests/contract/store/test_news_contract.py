"""Contract: news headlines on every store: stored once per key, newest first, filtered by ticker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trader.ports.news import NewsItem
from trader.ports.store import UnitOfWorkFactory

T = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def item(key: str, minutes: int, *assets: str) -> NewsItem:
    return NewsItem(key, "CoinDesk", f"title {key}", f"https://example.org/{key}",
                    T + timedelta(minutes=minutes), assets)


async def test_items_are_stored_once_and_come_back_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        added = await uow.news.add_new([item("a", 0, "BTC"), item("b", 5, "ETH", "BTC"), item("a", 0, "SOL")])
        assert [i.key for i in added] == ["a", "b"]
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.news.add_new([item("b", 5, "ETH"), item("c", 10)]) == [item("c", 10)]
        await uow.commit()
    async with uow_factory() as uow:
        latest = await uow.news.latest(10)
        assert [i.key for i in latest] == ["c", "b", "a"]
        assert latest[1] == item("b", 5, "ETH", "BTC") and latest[0].published_at.tzinfo is not None
        assert [i.key for i in await uow.news.latest(2)] == ["c", "b"]
        assert [i.key for i in await uow.news.latest(10, "btc")] == ["b", "a"]
        assert await uow.news.latest(10, "BT") == []  # a whole ticker, not a prefix


async def test_a_rolled_back_fetch_stores_nothing(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.news.add_new([item("x", 0)])  # no commit
    async with uow_factory() as uow:
        assert await uow.news.latest() == []
