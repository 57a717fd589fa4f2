"""CoinGeckoPrices against the local fake CoinGecko: batching, 429s, keys, ids, daily history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.fakes.fake_coingecko import FakeCoinGecko, running_fake
from trader.adapters.prices.coingecko import BATCH, CoinGeckoPrices, TokenBucket
from trader.config import PricesConfig
from trader.core.errors import DataError


class Sleeps:
    """Records the waits asked for instead of sleeping (time is the one thing tests may fake)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeCoinGecko]:
    yield from running_fake()


@pytest.fixture
async def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def gecko(fake: FakeCoinGecko, sleeps: Sleeps) -> AsyncIterator[CoinGeckoPrices]:
    source = CoinGeckoPrices(PricesConfig(coingecko_base_url=fake.base_url, calls_per_minute=1000),
                             sleep=sleeps.sleep, now=sleeps.clock)
    yield source
    await source.close()


async def test_current_prices_are_batched_and_unknown_tickers_left_out(fake: FakeCoinGecko,
                                                                     gecko: CoinGeckoPrices) -> None:
    fake.spot[("bitcoin", "aud")] = Decimal("150000.5")
    fake.spot[("ethereum", "aud")] = Decimal("5000.25")
    assert await gecko.prices(["BTC", "eth", "NOPE", "SOL"], "AUD") == {
        "BTC": Decimal("150000.5"), "ETH": Decimal("5000.25")}  # SOL known but unpriced, NOPE unknown
    calls = [s for s in fake.seen if s.startswith("/api/v3/simple/price")]
    assert len(calls) == 1 and "ids=bitcoin,ethereum,solana&" in calls[0]


async def test_many_assets_go_out_in_batches(fake: FakeCoinGecko, gecko: CoinGeckoPrices) -> None:
    gecko._overrides.update({f"T{i}": f"coin-{i}" for i in range(BATCH + 20)})
    await gecko.prices([f"T{i}" for i in range(BATCH + 20)], "usd")
    assert len([s for s in fake.seen if s.startswith("/api/v3/simple/price")]) == 2


async def test_a_429_waits_out_retry_after_then_succeeds(fake: FakeCoinGecko, gecko: CoinGeckoPrices,
                                                         sleeps: Sleeps) -> None:
    fake.spot[("bitcoin", "usd")] = Decimal(100000)
    fake.throttle_next, fake.retry_after = 2, "7"
    assert await gecko.prices(["BTC"], "usd") == {"BTC": Decimal(100000)}
    assert [w for w in sleeps.waits if w >= 1] == [7.0, 7.0]


async def test_endless_429s_end_in_a_clear_error(fake: FakeCoinGecko, gecko: CoinGeckoPrices,
                                                 sleeps: Sleeps) -> None:
    fake.throttle_next, fake.retry_after = 100, None
    with pytest.raises(DataError) as raised:
        await gecko.daily_prices("BTC", "aud", date(2024, 1, 1), date(2024, 1, 3))
    assert "CoinGecko is not answering (HTTP 429 after 4 tries)" in raised.value.user_message
    assert [w for w in sleeps.waits if w >= 1] == [2.0, 4.0, 8.0]  # backoff without Retry-After


@pytest.mark.parametrize(("plan", "header"), [("demo", "x-cg-demo-api-key"), ("pro", "x-cg-pro-api-key")])
async def test_the_plan_key_goes_in_its_header(fake: FakeCoinGecko, plan: str, header: str) -> None:
    fake.key_header = header
    fake.spot[("bitcoin", "usd")] = Decimal(1)
    config = PricesConfig(coingecko_plan=plan, coingecko_api_key=SecretStr(fake.key),  # type: ignore[arg-type]
                          coingecko_base_url=fake.base_url, calls_per_minute=1000)
    source = CoinGeckoPrices(config)
    try:
        assert await source.prices(["BTC"], "usd") == {"BTC": Decimal(1)}
    finally:
        await source.close()
    assert CoinGeckoPrices(PricesConfig(coingecko_plan="pro")).base_url.startswith("https://pro-api.")


async def test_tickers_map_to_ids_with_overrides_for_shared_ones(fake: FakeCoinGecko, sleeps: Sleeps) -> None:
    source = CoinGeckoPrices(PricesConfig(coingecko_base_url=fake.base_url, calls_per_minute=1000,
                                          ids={"DUP": "uni-b"}), sleep=sleeps.sleep, now=sleeps.clock)
    try:
        assert await source._id("OSMO") == "osmosis"  # unique in /coins/list
        assert await source._id("usdt") == "tether"  # shared ticker: the built-in choice
        assert await source._id("DUP") == "uni-b"  # shared ticker: the configured choice
        with pytest.raises(DataError, match="CoinGecko lists no coin with the ticker ZZZ"):
            await source._id("ZZZ")
    finally:
        await source.close()
    bare = CoinGeckoPrices(PricesConfig(coingecko_base_url=fake.base_url, calls_per_minute=1000))
    try:
        with pytest.raises(DataError) as raised:
            await bare._id("DUP")
        message = raised.value.user_message
        assert "uni-a, uni-b" in message and "TRADER_PRICES__IDS" in message
    finally:
        await bare.close()


async def test_daily_history_keeps_one_price_per_day_over_short_and_long_ranges(
        fake: FakeCoinGecko, gecko: CoinGeckoPrices) -> None:
    fake.price_path("bitcoin", "aud", date(2023, 1, 1), 400, Decimal(25000), Decimal(10))
    short = await gecko.daily_prices("BTC", "AUD", date(2023, 6, 1), date(2023, 6, 3))
    assert short == {date(2023, 6, i): Decimal(25000) + Decimal(10) * (150 + i) for i in (1, 2, 3)}
    long = await gecko.daily_prices("BTC", "AUD", date(2023, 1, 1), date(2023, 12, 31))
    assert len(long) == 365 and long[date(2023, 12, 31)] == Decimal(25000) + Decimal(3640)
    gecko._overrides["GONE"] = "delisted-coin"  # an id CoinGecko answers 404 for
    with pytest.raises(DataError, match="not found"):
        await gecko.daily_prices("GONE", "aud", date(2023, 1, 1), date(2023, 1, 2))


async def test_the_token_bucket_spaces_calls_at_the_configured_rate() -> None:
    sleeps = Sleeps()
    bucket = TokenBucket(30, now=sleeps.clock, sleep=sleeps.sleep)  # 30 a minute: one every 2 s
    for _ in range(4):
        await bucket.acquire()
    assert sleeps.waits == pytest.approx([2.0, 2.0, 2.0])
