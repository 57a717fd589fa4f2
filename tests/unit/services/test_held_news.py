"""news.alert_held: a new headline about an asset a basket holds becomes one alert; others do not."""

from __future__ import annotations

from datetime import UTC, datetime

from trader.core.domain.alerts import Alert
from trader.ports.news import NewsItem
from trader.services.news import HeldNewsAlerts

T = datetime(2026, 3, 1, tzinfo=UTC)


async def test_only_headlines_about_held_assets_are_alerted() -> None:
    sent: list[Alert] = []
    reads = 0

    async def held() -> frozenset[str]:
        nonlocal reads
        reads += 1
        return frozenset({"SOL", "ETH"})

    async def publish(alert: Alert) -> None:
        sent.append(alert)

    alerts = HeldNewsAlerts(held, publish)
    await alerts([NewsItem("k1", "CoinDesk", "Solana and Ethereum rally", "https://x/1", T, ("ETH", "SOL")),
                  NewsItem("k2", "Decrypt", "Bitcoin flat", "https://x/2", T, ("BTC",)),
                  NewsItem("k3", "Decrypt", "Markets", "https://x/3", T)])
    assert [(a.kind, a.text, a.dedupe_key) for a in sent] == [
        ("news", "News about ETH, SOL (held): Solana and Ethereum rally (CoinDesk) https://x/1", "news:k1")]
    await alerts([NewsItem("k4", "Decrypt", "Markets", "https://x/4", T)])
    assert reads == 1  # untagged headlines never read the holdings
