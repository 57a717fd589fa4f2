"""/news through the real bot (PTB against the fake Bot API) over the real news service in memory."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes.fake_botapi.harness import BotHarness
from tests.fakes.memory_services import NOW, MemoryState
from trader.ports.news import NewsItem


async def test_news_lists_linked_headlines_and_filters_by_asset(telegram_bot: BotHarness,
                                                                memory_state: MemoryState) -> None:
    empty = await telegram_bot.send("/news")
    assert "No headlines yet" in empty.shown
    async with memory_state.store.uow() as uow:
        await uow.news.add_new([
            NewsItem("k1", "CoinDesk", "Bitcoin <breaks> $100k", "https://news.example/a?x=1&y=2",
                     NOW - timedelta(hours=2), ("BTC",)),
            NewsItem("k2", "Decrypt", "Ethereum fork date set", "https://news.example/b", NOW, ("ETH",)),
        ])
        await uow.commit()
    reply = await telegram_bot.send("/news")
    lines = reply.shown.splitlines()
    assert lines[0] == "News" and "Ethereum fork date set" in lines[1]
    assert "Bitcoin <breaks> $100k" in lines[3] and lines[4].strip().startswith("CoinDesk · ")
    assert lines[2].strip() == f"Decrypt · {NOW:%Y-%m-%d %H:%M} UTC · ETH"
    assert '<a href="https://news.example/a?x=1&amp;y=2">Bitcoin &lt;breaks&gt; $100k</a>' in reply.text
    only_btc = await telegram_bot.send("/news btc")
    assert "News about BTC" in only_btc.shown and "Ethereum" not in only_btc.shown
    none = await telegram_bot.send("/news XRP")
    assert "No headlines about XRP yet" in none.shown
