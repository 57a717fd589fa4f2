"""The default basket end to end on the real runtime in paper mode: tracked at CoinGecko's (fake) prices of
a day, valued from the paper exchange where it lists the pair and from CoinGecko elsewhere, over the API;
then bought through the engine like /buy (risk limits, audit), holdings settled from the fills."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.fake_coingecko import FakeCoinGecko, running_fake
from tests.fixtures.live_runtime import ADMIN_ACTOR, MakeRuntime
from tests.integration.web.conftest import serve
from trader.config import PricesConfig
from trader.core.domain.ids import PositionId, Symbol
from trader.core.domain.money import D
from trader.services.baskets import BasketCatalog
from trader.services.dto import Role

DEFAULT = BasketCatalog.load(None).get("default")
ON_EXCHANGE = {"BTC": D(50_000), "ETH": D(2_500)}  # the replay venue lists BTC/USDT and ETH/USDT


@pytest.fixture
def fake() -> Iterator[FakeCoinGecko]:
    fake = next(gen := running_fake())
    start = datetime.now(UTC).date() - timedelta(days=5)
    for asset in DEFAULT.assets:
        assert asset.coingecko_id is not None
        first = ON_EXCHANGE.get(asset.symbol, D(2))  # 10 USD buys 5 of every other asset
        fake.price_path(asset.coingecko_id, "usd", start, 6, first, D(0))
        fake.spot[(asset.coingecko_id, "usd")] = D("2.2")  # +10 % on each
    yield fake
    next(gen, None)


async def test_the_default_basket_values_end_to_end_in_paper_mode(make_runtime: MakeRuntime,
                                                                  fake: FakeCoinGecko) -> None:
    live = await make_runtime(prices=PricesConfig(coingecko_base_url=fake.base_url, calls_per_minute=1000,
                                                  fetch_aud_rates=False))
    service = live.runtime.services.portfolio
    day = datetime.now(UTC).date() - timedelta(days=2)
    tracked = await service.track("default", day)
    assert len(tracked.tracked) == 103 and tracked.missing == () and tracked.cost == D(1030)
    exchange = live.runtime.lifecycle.parts.exchange
    last = {a: await exchange.last_price(Symbol(f"{a}/USDT")) for a in ON_EXCHANGE}
    async for api in serve(live):
        body = (await api.get("/portfolio", basket="default")).json()
        news = await api.get("/news")
        baskets = (await api.get("/portfolio/baskets")).json()
        # a basket buy goes through the engine like /buy: only the pairs the venue lists, each judged by risk
        viewer = await api.post("/portfolio/buy-basket", Role.VIEWER, {"basket": "default", "amount": "100"})
        bought = (await api.post("/portfolio/buy-basket", Role.TRADER,
                                 {"basket": "default", "quote": "USDT", "amount": "100"})).json()
    assert news.status_code == 200 and news.json() == []
    assert [(b["name"], b["held"], len(b["categories"])) for b in baskets] == [("default", 103, 8)]
    # 101 assets: 5 each at 2.20 = 11.00; BTC 10/50,000 = 0.0002 and ETH 10/2,500 = 0.004 at the venue's price
    expected = D(11) * 101 + D("0.0002") * last["BTC"] + D("0.004") * last["ETH"]
    assert D(body["value"]) == expected and D(body["cost"]) == D(1030)
    sources = {a["symbol"]: a["price"]["source"] for a in body["assets"]}
    assert sources["BTC"] == sources["ETH"] == "exchange:binance"
    assert {s for a, s in sources.items() if a not in ON_EXCHANGE} == {"coingecko"}
    assert body["stale"] == [] and body["unpriced"] == []
    assert len(body["categories"]) == 8 and sum(c["stale"] for c in body["categories"]) == 0
    assert [a["symbol"] for a in body["best"]][:1] != []
    assert viewer.status_code == 403
    assert len(bought["not_listed"]) == 101 and bought["refused"] == []
    # 100 USDT of each: 100 / last price, rounded down to the market's step by the preview, as /buy does
    sent = {a: D(m.split()[1]) for a, m in bought["bought"]}
    assert set(sent) == {"BTC", "ETH"}
    for asset, amount in sent.items():
        assert D(90) / last[asset] < amount <= D(100) / last[asset], (asset, amount)
    async with live.uow() as uow:
        audit = [(e.action, e.result) for e in await uow.audit.recent(50)]
    assert audit.count(("control.buy", "ok")) == 2 and ("api.command", "received") in audit
    estimated = {h.asset: h for h in await service.holdings("default") if h.kind == "fill"}
    assert {a: h.quantity for a, h in estimated.items()} == sent
    await live.advance(1)  # the market orders fill at the next candle's open
    settled = {h.asset: h for h in await service.holdings("default") if h.kind == "fill"}
    for asset, holding in settled.items():  # quantity and cost now from the fills (fees included)
        assert D(0) < holding.quantity <= sent[asset], (asset, holding)
        assert holding.cost != estimated[asset].cost, (asset, holding)
    # a bought asset closed (here by hand; a stop or take-profit alike) is no longer held, and what the
    # sale brought back stays in the basket's result
    btc = settled["BTC"]
    async with live.uow() as uow:
        bought_btc = PositionId(next(h.reference for h in await uow.portfolio.holdings("default")
                                     if h.asset == "BTC" and h.kind == "fill"))
    await live.runtime.services.control.close(bought_btc, ADMIN_ACTOR)
    await live.advance(1)
    after = {h.asset: h for h in await service.holdings("default") if h.kind == "fill"}
    assert after["BTC"].quantity == 0 and after["ETH"].quantity == settled["ETH"].quantity
    assert D(0) < after["BTC"].proceeds < btc.cost * 2 and after["ETH"].proceeds == 0
    async with live.uow() as uow:
        exit_fills = [f for o in await uow.orders.for_position(bought_btc) if o.purpose != "entry"
                      for f in await uow.fills.for_order(o.client_order_id)]
    assert after["BTC"].proceeds == sum(f.amount * f.price - f.fee for f in exit_fills)
    valued = await service.value("default")
    row = next(a for a in valued.assets if a.symbol == "BTC")
    tracked = sum(h.quantity for h in await service.holdings("default")
                  if h.asset == "BTC" and h.kind != "fill")
    assert row.quantity == tracked and row.proceeds == after["BTC"].proceeds  # the tracked part still held
    assert row.pnl == row.value + row.proceeds - row.cost
