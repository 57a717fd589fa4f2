"""Fetch through the real ccxt client against the fake Binance server: pagination, resume, gaps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.fakes.fake_exchange import FakeExchange
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.store import migrate
from trader.adapters.store.sql.uow import Database
from trader.core.domain.candles import CandleFrame, datetime_to_ms
from trader.core.domain.ids import Symbol
from trader.core.errors import ExchangeUnavailable
from trader.ports.store import UnitOfWorkFactory
from trader.runtime.clock import SimClock
from trader.services.candle_csv import read_candle_csv
from trader.services.market_data import Gap, MarketDataService, sample_files

BTC = Symbol("BTC/USDT")
HOUR = 3_600_000
SINCE = datetime(2024, 4, 1, tzinfo=UTC)


@pytest.fixture
async def uow_factory(sqlite_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    await migrate.upgrade_async(sqlite_url)
    db = Database.from_url(sqlite_url)
    yield db.uow
    await db.dispose()


def sample(start: datetime, end: datetime) -> CandleFrame:
    frame = read_candle_csv(next(p for p in sample_files() if p.name == "BTC_USDT-1h.csv.gz"))
    mask = (frame.timestamp >= datetime_to_ms(start)) & (frame.timestamp < datetime_to_ms(end))
    return CandleFrame(frame.timestamp[mask], frame.open[mask], frame.high[mask], frame.low[mask],
                       frame.close[mask], frame.volume[mask])


def assert_same(a: CandleFrame, b: CandleFrame) -> None:
    assert np.array_equal(a.timestamp, b.timestamp)
    for col in ("open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(a, col), getattr(b, col)), col


class StopAfterPages:
    """Lets ``pages`` candle requests through to the real venue, then fails like a dropped network."""

    def __init__(self, venue: CcxtExchange, pages: int) -> None:
        self._venue = venue
        self._left = pages

    async def candles(self, symbol: Symbol, timeframe: str, since: datetime | None = None,
                      limit: int | None = None) -> CandleFrame:
        if self._left == 0:
            raise ExchangeUnavailable("connection lost")
        self._left -= 1
        return await self._venue.candles(symbol, timeframe, since, limit)


async def test_fetch_pages_until_now_and_stores_only_closed_candles(
    ccxt_exchange: CcxtExchange, fake_exchange: FakeExchange, uow_factory: UnitOfWorkFactory
) -> None:
    now = datetime(2024, 4, 10, 0, 30, tzinfo=UTC)  # the 00:00 candle is still open
    service = MarketDataService(uow_factory, SimClock(now), page=100)
    report = await service.fetch(ccxt_exchange, "binance", BTC, "1h", SINCE)
    assert (report.rows, report.pages) == (9 * 24, 3)
    assert fake_exchange.requests.count("GET /api/v3/klines") == 3
    stored = await service.load("binance", BTC, "1h")
    assert_same(stored, sample(SINCE, datetime(2024, 4, 10, tzinfo=UTC)))


async def test_second_fetch_resumes_at_the_last_stored_candle(
    ccxt_exchange: CcxtExchange, fake_exchange: FakeExchange, uow_factory: UnitOfWorkFactory
) -> None:
    clock = SimClock(datetime(2024, 4, 10, tzinfo=UTC))
    service = MarketDataService(uow_factory, clock, page=100)
    await service.fetch(ccxt_exchange, "binance", BTC, "1h", SINCE)
    clock.advance(timedelta(days=2))
    again = await service.fetch(ccxt_exchange, "binance", BTC, "1h", SINCE)
    assert again.start_ms == datetime_to_ms(datetime(2024, 4, 9, 23, tzinfo=UTC))
    assert (again.rows, again.pages) == (1 + 48, 1)  # the last stored candle is refreshed, then 48 new
    assert_same(await service.load("binance", BTC, "1h"), sample(SINCE, clock.now()))


async def test_interrupted_fetch_keeps_finished_pages_and_resumes(
    ccxt_exchange: CcxtExchange, uow_factory: UnitOfWorkFactory
) -> None:
    now = datetime(2024, 4, 10, tzinfo=UTC)
    service = MarketDataService(uow_factory, SimClock(now), page=50)
    with pytest.raises(ExchangeUnavailable):
        venue = StopAfterPages(ccxt_exchange, 2)
        await service.fetch(venue, "binance", BTC, "1h", SINCE)  # type: ignore[arg-type]
    assert len(await service.load("binance", BTC, "1h")) == 100
    resumed = await service.fetch(ccxt_exchange, "binance", BTC, "1h", SINCE)
    assert resumed.start_ms == datetime_to_ms(SINCE) + 99 * HOUR
    assert_same(await service.load("binance", BTC, "1h"), sample(SINCE, now))


async def test_fetch_over_an_exchange_outage_reports_the_gap(
    ccxt_exchange: CcxtExchange, uow_factory: UnitOfWorkFactory
) -> None:
    start, end = datetime(2023, 3, 24, tzinfo=UTC), datetime(2023, 3, 25, tzinfo=UTC)
    service = MarketDataService(uow_factory, SimClock(end), page=1000)
    await service.fetch(ccxt_exchange, "binance", BTC, "1h", start)
    report = await service.gaps("binance", BTC, "1h")
    assert report.count == 23
    assert report.gaps == (Gap(datetime_to_ms(datetime(2023, 3, 24, 13, tzinfo=UTC)), 1),)


async def test_fetch_until_stops_early(ccxt_exchange: CcxtExchange, uow_factory: UnitOfWorkFactory) -> None:
    service = MarketDataService(uow_factory, SimClock(datetime(2024, 4, 20, tzinfo=UTC)), page=1000)
    report = await service.fetch(ccxt_exchange, "binance", BTC, "1h", SINCE,
                                 until=datetime(2024, 4, 2, tzinfo=UTC))
    assert report.rows == 24 and report.last_ms == datetime_to_ms(datetime(2024, 4, 1, 23, tzinfo=UTC))


async def test_fetch_since_before_stored_history_backfills_it(
    ccxt_exchange: CcxtExchange, uow_factory: UnitOfWorkFactory
) -> None:
    clock = SimClock(datetime(2024, 4, 12, tzinfo=UTC))
    service = MarketDataService(uow_factory, clock, page=100)
    await service.fetch(ccxt_exchange, "binance", BTC, "1h", datetime(2024, 4, 10, tzinfo=UTC))
    report = await service.fetch(ccxt_exchange, "binance", BTC, "1h", SINCE)
    assert report.backfilled == 9 * 24
    assert report.start_ms == datetime_to_ms(datetime(2024, 4, 11, 23, tzinfo=UTC))
    assert_same(await service.load("binance", BTC, "1h"), sample(SINCE, clock.now()))


async def test_fill_gaps_refetches_holes_and_leaves_real_outages(
    ccxt_exchange: CcxtExchange, uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    start, end = datetime(2023, 3, 23, tzinfo=UTC), datetime(2023, 3, 26, tzinfo=UTC)
    full = sample(start, end)
    holes = np.ones(len(full), dtype=bool)
    holes[[5, 6, 7, 40]] = False  # drop four candles the venue does have
    csv = tmp_path / "BTC_USDT-1h.csv"
    csv.write_text("\n".join(
        ",".join(repr(x) for x in row)
        for row in zip(full.timestamp[holes].tolist(), full.open[holes].tolist(), full.high[holes].tolist(),
                       full.low[holes].tolist(), full.close[holes].tolist(), full.volume[holes].tolist(),
                       strict=True)))
    service = MarketDataService(uow_factory, SimClock(end))
    await service.import_csv(csv)
    assert len((await service.gaps("binance", BTC, "1h")).gaps) == 3  # two holes + the real outage
    report = await service.fetch(ccxt_exchange, "binance", BTC, "1h", start, fill_gaps=True)
    assert report.rows == 1 + 4  # the refreshed last candle, then the four holes
    after = await service.gaps("binance", BTC, "1h")
    assert after.gaps == (Gap(datetime_to_ms(datetime(2023, 3, 24, 13, tzinfo=UTC)), 1),)
    assert_same(await service.load("binance", BTC, "1h"), full)
