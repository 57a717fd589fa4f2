"""A tracked-only basket against the fake CoinGecko: PnL of a known price path by hand, snapshots, and a
stale price shown as STALE in every output (CLI/Telegram text, the PNG, the API JSON, /portfolio)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import running_bot
from tests.fakes.fake_coingecko import FakeCoinGecko, running_fake
from tests.fakes.memory_services import MemoryState, memory_services
from trader.adapters.charts.portfolio import portfolio_figure
from trader.adapters.charts.renderer import MatplotlibChartRenderer
from trader.adapters.prices.coingecko import CoinGeckoPrices
from trader.adapters.store.memory.uow import MemoryStore
from trader.config import PortfolioConfig, PricesConfig
from trader.core.domain.money import D
from trader.runtime.clock import SimClock
from trader.services.baskets import BasketCatalog
from trader.services.portfolio import PortfolioService
from trader.services.portfolio_dto import BasketValuation
from trader.services.portfolio_text import holdings_text, valuation_text

DAY = date(2026, 1, 11)
NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
WATCH = """
[basket]
name = "watch"
quote = "USD"
[[categories]]
id = "majors"
title = "Majors"
[[assets]]
symbol = "BTC"
category = "majors"
amount = 60
coingecko_id = "bitcoin"
[[assets]]
symbol = "ETH"
category = "majors"
amount = 40
coingecko_id = "ethereum"
"""


@pytest.fixture
def fake() -> Iterator[FakeCoinGecko]:
    fake = next(gen := running_fake())
    # a daily path from Jan 1: BTC 39,000 + 100 a day (40,000 on Jan 11), ETH 2,100 - 10 a day (2,000)
    fake.price_path("bitcoin", "usd", date(2026, 1, 1), 40, D(39_000), D(100))
    fake.price_path("ethereum", "usd", date(2026, 1, 1), 40, D(2_100), D(-10))
    fake.spot[("bitcoin", "usd")] = D(44_000)
    fake.spot[("ethereum", "usd")] = D(1_800)
    yield fake
    next(gen, None)


@dataclasses.dataclass
class Setup:
    service: PortfolioService
    clock: SimClock
    fake: FakeCoinGecko
    state: MemoryState


@pytest.fixture
async def setup(fake: FakeCoinGecko, tmp_path: Path) -> AsyncIterator[Setup]:
    (tmp_path / "watch.toml").write_text(WATCH)
    config = PricesConfig(coingecko_base_url=fake.base_url, calls_per_minute=1000, max_retries=0)
    source = CoinGeckoPrices(config)
    clock = SimClock(NOW)
    state = MemoryState(store=MemoryStore())
    service = PortfolioService(state.store.uow_factory, BasketCatalog.load(tmp_path), clock,
                               PortfolioConfig(stale_seconds=900, refresh_seconds=300), exchange=None,
                               exchange_name="none", exchange_quote="USDT", source=source,
                               renderer=MatplotlibChartRenderer())
    yield Setup(service, clock, fake, state)
    await source.close()


async def test_a_tracked_basket_shows_the_pnl_of_a_known_price_path(setup: Setup) -> None:
    tracked = await setup.service.track("watch", DAY)
    assert tracked.tracked == ("BTC", "ETH") and tracked.missing == () and tracked.cost == D(100)
    again = await setup.service.track("watch", DAY)  # the same day twice is stored once
    assert len(await setup.service.holdings("watch")) == 2 and again.tracked == ("BTC", "ETH")
    held = {h.asset: h for h in await setup.service.holdings("watch")}
    # 60 USD at 40,000 = 0.0015 BTC; 40 USD at 2,000 = 0.02 ETH
    assert (held["BTC"].quantity, held["ETH"].quantity) == (D("0.0015"), D("0.02"))
    assert held["BTC"].kind == "virtual" and held["BTC"].acquired_at == datetime(2026, 1, 11, tzinfo=UTC)
    v = await setup.service.value("watch")
    # now 0.0015 x 44,000 = 66 (+6, +10 %) and 0.02 x 1,800 = 36 (-4, -10 %): 102 for 100, +2 %
    assert (v.value, v.cost, v.pnl, v.pnl_fraction) == (D(102), D(100), D(2), D("0.02"))
    btc, eth = v.assets
    assert btc.price is not None and btc.price.source == "coingecko"
    assert (btc.value, btc.pnl, btc.pnl_fraction) == (D(66), D(6), D("0.1"))
    assert (eth.value, eth.pnl, eth.pnl_fraction) == (D(36), D(-4), D("-0.1"))
    assert btc.drift == D(66) / D(102) - D("0.6")
    assert v.stale == () and "STALE" not in valuation_text(v, assets=True)
    assert "Value 102.00 USD  cost 100.00 USD  PnL +2.00 USD (+2.00%)" in valuation_text(v)
    assert "0.0015" in holdings_text(await setup.service.holdings())
    assert await setup.service.snapshot() == 1
    shots = await setup.service.history("watch")
    assert [(s.day, s.value, s.cost, s.stale) for s in shots] == [(NOW.date(), D(102), D(100), 0)]
    # 66 of 102 against a 60 % target: sell 4.80 of BTC, buy 4.80 of ETH; both under the 5 USD minimum
    plan = await setup.service.rebalance("watch")
    assert [(line.symbol, line.side, line.skipped) for line in plan.lines] == [
        ("BTC", "sell", "below the minimum order"), ("ETH", "buy", "below the minimum order")]
    assert (plan.buys, plan.sells, plan.fees) == (D(0), D(0), D(0))


async def test_a_stale_price_is_shown_as_stale_in_every_output(setup: Setup,
                                                               fake_botapi: FakeBotApiCore) -> None:
    await setup.service.track("watch", DAY)
    fresh = await setup.service.value("watch")
    assert fresh.stale == ()
    calls = len(setup.fake.seen)
    setup.clock.advance(timedelta(minutes=10))  # past refresh (5 min), within the limit (15 min)
    setup.fake.throttle_next = 10**6  # CoinGecko answers nothing from now on
    still = await setup.service.value("watch")
    assert still.stale == () and len(setup.fake.seen) == calls + 1  # tried once, kept the cached price
    setup.clock.advance(timedelta(minutes=6))  # now 16 minutes old: past the 15-minute limit
    v = await setup.service.value("watch")
    assert v.stale == ("BTC", "ETH") and v.value == D(102)  # valued, never presented as fresh
    assert all(a.stale and a.price is not None and a.price.stale for a in v.assets)
    assert v.categories[0].stale == 2
    text = valuation_text(v, assets=True)
    assert "STALE prices (2): BTC, ETH" in text
    assert text.count("STALE") >= 2 + 1 + 1  # header, each asset row, the category row
    figure = portfolio_figure(v)
    shown = [t.get_text() for t in figure.texts] + [
        label.get_text() for ax in figure.axes for label in ax.get_yticklabels()]
    assert any("STALE prices: BTC, ETH" in t for t in shown)
    assert any(t.startswith("BTC") and "STALE" in t for t in shown)
    png = await setup.service.chart(v)
    assert png.startswith(b"\x89PNG")
    as_json = TypeAdapter(BasketValuation).dump_python(v, mode="json")  # what /api/v1/portfolio returns
    assert as_json["stale"] == ["BTC", "ETH"] and as_json["categories"][0]["stale"] == 2
    assert all(a["stale"] and a["price"]["stale"] for a in as_json["assets"])
    services = dataclasses.replace(memory_services(setup.state), portfolio=setup.service)
    async with running_bot(fake_botapi, services) as bot:
        photo = await bot.send("/portfolio watch", within=20)
        assert photo.method == "sendPhoto" and "STALE prices (2): BTC, ETH" in photo.shown
        table = await bot.fake.next_call(within=10)
        assert "STALE prices (2): BTC, ETH" in table.shown and "STALE 2" in table.shown
        held = await bot.send("/holdings watch")
        assert "BTC" in held.shown and "0.0015" in held.shown and "cost 60.00 USD  virtual" in held.shown
