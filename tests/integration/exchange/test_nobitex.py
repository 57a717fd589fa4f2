"""Nobitex ccxt class against a fake speaking Nobitex's documented public formats."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.fake_exchange.nobitex_app import NobitexState, start_fake_nobitex
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.retry import RetryPolicy
from trader.config.sections import ExchangeConfig
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, RateLimited

T0 = 1_700_000_000_000
HOUR = 3_600_000


@pytest.fixture
def nobitex_state() -> Iterator[tuple[NobitexState, str]]:
    state = NobitexState(prices={"BTCIRT": 60_000_000_000.0, "BTCUSDT": 60_000.0})
    state.candles[("BTCIRT", "60")] = [
        (T0 + i * HOUR, 60_000_000_000.0 + i * 10, 60_100_000_000.0, 59_900_000_000.0, 60_000_000_010.0, 1.5)
        for i in range(1200)
    ]
    server = start_fake_nobitex(state)
    try:
        yield state, server.base_url
    finally:
        server.stop()


@pytest.fixture
async def nobitex(nobitex_state: tuple[NobitexState, str]) -> CcxtExchange:
    config = ExchangeConfig(name="nobitex", api_base_url=nobitex_state[1], quote_currency="IRT")
    exchange = CcxtExchange(config, rate_limit=False, retry=RetryPolicy(attempts=2, base_delay=0.0))
    yield exchange  # type: ignore[misc]
    await exchange.close()


async def test_markets_map_irt_symbols_and_have_no_native_stop(nobitex: CcxtExchange) -> None:
    markets = await nobitex.markets()
    assert set(markets) == {"BTC/IRT", "BTC/USDT"}
    spec = markets[Symbol("BTC/IRT")]
    assert spec.capabilities.native_stop is False
    assert spec.min_cost == Decimal(300_000)


async def test_candles_are_converted_from_rial_to_toman(nobitex: CcxtExchange) -> None:
    since = datetime.fromtimestamp(T0 / 1000, tz=UTC)
    frame = await nobitex.candles(Symbol("BTC/IRT"), "1h", since=since, limit=3)
    assert frame.timestamp.tolist() == [T0, T0 + HOUR, T0 + 2 * HOUR]
    assert frame.open.tolist() == [6_000_000_000.0, 6_000_000_001.0, 6_000_000_002.0]


async def test_candle_page_is_capped_at_500(nobitex: CcxtExchange) -> None:
    frame = await nobitex.candles(Symbol("BTC/IRT"), "1h", since=datetime.fromtimestamp(T0 / 1000, tz=UTC),
                                  limit=2000)
    assert len(frame) == 500


async def test_no_data_is_an_empty_frame(nobitex: CcxtExchange) -> None:
    frame = await nobitex.candles(Symbol("BTC/USDT"), "1h", since=datetime(2024, 1, 1, tzinfo=UTC), limit=5)
    assert len(frame) == 0


async def test_ticker_and_book_in_toman(nobitex: CcxtExchange) -> None:
    assert await nobitex.last_price(Symbol("BTC/IRT")) == Decimal(6_000_000_000)
    bid, ask = await nobitex.order_book_top(Symbol("BTC/IRT"))
    assert (bid, ask) == (Decimal(5_999_999_999), Decimal(6_000_000_001))
    assert await nobitex.last_price(Symbol("BTC/USDT")) == Decimal(60_000)


async def test_rate_limit_is_retried_then_reported(nobitex: CcxtExchange,
                                                   nobitex_state: tuple[NobitexState, str]) -> None:
    await nobitex.markets()
    nobitex_state[0].rate_limited = 1
    assert await nobitex.last_price(Symbol("BTC/USDT")) == Decimal(60_000)
    nobitex_state[0].rate_limited = 5
    with pytest.raises(RateLimited):
        await nobitex.last_price(Symbol("BTC/USDT"))


async def test_unknown_pair_is_data_error(nobitex: CcxtExchange) -> None:
    with pytest.raises(DataError):
        await nobitex.candles(Symbol("ETH/IRT"), "1h")


async def test_latest_candles_without_since_use_countback(nobitex: CcxtExchange,
                                                          nobitex_state: tuple[NobitexState, str]) -> None:
    frame = await nobitex.candles(Symbol("BTC/IRT"), "1h", limit=3)
    assert frame.timestamp.tolist() == [T0 + i * HOUR for i in (1197, 1198, 1199)]
    assert any("udf/history" in r for r in nobitex_state[0].requests)
