"""CcxtExchange market data through the real ccxt async client against the fake Binance server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.config.sections import ExchangeConfig
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, RateLimited

BTC = Symbol("BTC/USDT")


async def test_market_returns_precision_limits_and_native_stop(ccxt_exchange: CcxtExchange) -> None:
    spec = await ccxt_exchange.market(BTC)
    assert (spec.base, spec.quote) == ("BTC", "USDT")
    assert spec.amount_step == Decimal("0.00001")
    assert spec.price_step == Decimal("0.01")
    assert spec.min_amount == Decimal("0.00001")
    assert spec.min_cost == Decimal("5")
    assert spec.capabilities.native_stop is True
    assert spec.capabilities.oco is True  # the OCO order list (trader.adapters.exchange.brackets)


async def test_market_for_unknown_pair_raises_data_error(ccxt_exchange: CcxtExchange) -> None:
    with pytest.raises(DataError, match="DOGE/USDT"):
        await ccxt_exchange.market(Symbol("DOGE/USDT"))


async def test_candles_since_returns_bundled_rows_in_order(ccxt_exchange: CcxtExchange) -> None:
    since = datetime(2022, 1, 1, tzinfo=UTC)
    frame = await ccxt_exchange.candles(BTC, "1h", since=since, limit=3)
    assert frame.timestamp.tolist() == [1640995200000, 1640998800000, 1641002400000]
    assert frame.open[0] == 46216.93
    assert frame.close[2] == 46811.77


async def test_candles_page_is_capped_at_venue_maximum(ccxt_exchange: CcxtExchange) -> None:
    frame = await ccxt_exchange.candles(BTC, "1h", since=datetime(2022, 1, 1, tzinfo=UTC), limit=5000)
    assert len(frame) == 1000
    assert (frame.timestamp[1:] - frame.timestamp[:-1]).min() > 0


async def test_candles_served_from_given_arrays(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    rows = [[1_700_000_000_000 + i * 60_000, 10 + i, 11 + i, 9 + i, 10.5 + i, 1.0] for i in range(5)]
    fake_exchange.set_candles("BTC/USDT", "1m", rows)
    since = datetime.fromtimestamp(1_700_000_060, tz=UTC)
    frame = await ccxt_exchange.candles(BTC, "1m", since=since, limit=10)
    assert frame.timestamp.tolist() == [r[0] for r in rows[1:]]


async def test_candles_retry_after_rate_limit(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    fake_exchange.inject(Fault(FaultKind.RATE_LIMIT, route="GET /api/v3/klines", retry_after=0))
    fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, route="GET /api/v3/klines"))
    frame = await ccxt_exchange.candles(BTC, "1h", since=datetime(2022, 1, 1, tzinfo=UTC), limit=2)
    assert len(frame) == 2
    assert fake_exchange.requests.count("GET /api/v3/klines") == 3


async def test_candles_give_up_after_bounded_retries(fake_exchange: FakeExchange,
                                                     ccxt_exchange: CcxtExchange) -> None:
    fake_exchange.inject(Fault(FaultKind.RATE_LIMIT, route="GET /api/v3/klines", retry_after=0, times=10))
    with pytest.raises(RateLimited):
        await ccxt_exchange.candles(BTC, "1h", since=datetime(2022, 1, 1, tzinfo=UTC), limit=2)
    assert fake_exchange.requests.count("GET /api/v3/klines") == 5


def test_fake_serves_synchronous_callers_like_a_cli(fake_exchange_config: ExchangeConfig) -> None:
    async def fetch() -> int:
        exchange = CcxtExchange(fake_exchange_config, rate_limit=False)
        try:
            frame = await exchange.candles(BTC, "1m", since=datetime(2024, 7, 27, tzinfo=UTC), limit=1000)
            return len(frame)
        finally:
            await exchange.close()

    assert asyncio.run(fetch()) == 1000  # the server runs on its own thread, so asyncio.run works
