"""MarketDataService over a real store: import, idempotence, gap report, resampling, samples."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from trader.adapters.store import migrate
from trader.adapters.store.memory.uow import MemoryStore
from trader.adapters.store.sql.uow import Database
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, InputError
from trader.runtime.clock import SimClock
from trader.services.market_data import Gap, MarketDataService, complete_buckets, find_gaps

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
BTC = Symbol("BTC/USDT")


@pytest.fixture(params=["memory", "sqlite"])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MarketDataService]:
    clock = SimClock(datetime(2024, 6, 1, tzinfo=UTC))
    if request.param == "memory":
        yield MarketDataService(MemoryStore().uow, clock)
        return
    url = f"sqlite+aiosqlite:///{tmp_path / 'md.db'}"
    await migrate.upgrade_async(url)
    db = Database.from_url(url)
    yield MarketDataService(db.uow, clock)
    await db.dispose()


def csv_file(tmp_path: Path, hours: list[int], name: str = "BTC_USDT-1h.csv.gz", price: float = 100) -> Path:
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{T0 + h * HOUR},{price + h},{price + h + 2},{price + h - 1},{price + h + 1},{h + 1}"
              for h in hours]
    path = tmp_path / name
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    return path


async def test_import_infers_series_and_reimport_overwrites(service: MarketDataService,
                                                             tmp_path: Path) -> None:
    report = await service.import_csv(csv_file(tmp_path, list(range(10))))
    assert (report.symbol, report.timeframe, report.rows) == (BTC, "1h", 10)
    assert (report.first_ms, report.last_ms) == (T0, T0 + 9 * HOUR)
    again = await service.import_csv(csv_file(tmp_path, list(range(5, 12)), price=200))
    assert again.rows == 7
    frame = await service.load("binance", BTC, "1h")
    assert len(frame) == 12
    assert frame.close[4] == 105 and frame.close[5] == 206  # the newer file won the overlap


async def test_malformed_file_imports_nothing(service: MarketDataService, tmp_path: Path) -> None:
    await service.import_csv(csv_file(tmp_path, [0, 1]))
    bad = tmp_path / "BTC_USDT-1h.csv"
    bad.write_text(f"{T0 + 2 * HOUR},1,2,0.5,1.5,3\n{T0 + 3 * HOUR},1,2,oops,1.5,3\n")
    with pytest.raises(InputError, match=rf"{bad.name}:2: low 'oops'"):
        await service.import_csv(bad)
    assert len(await service.load("binance", BTC, "1h")) == 2


async def test_explicit_series_overrides_name_and_checks_alignment(service: MarketDataService,
                                                                 tmp_path: Path) -> None:
    path = csv_file(tmp_path, [0, 1, 2], name="export.csv.gz")
    with pytest.raises(InputError, match="--symbol and --timeframe"):
        await service.import_csv(path)
    report = await service.import_csv(path, "kraken", Symbol("BTC/USD"), "1h")
    assert (report.exchange, report.symbol) == ("kraken", "BTC/USD")
    with pytest.raises(InputError, match="not aligned to 1d"):
        await service.import_csv(path, "kraken", Symbol("BTC/USD"), "1d")


async def test_gap_report_counts_missing_candles(service: MarketDataService, tmp_path: Path) -> None:
    await service.import_csv(csv_file(tmp_path, [0, 1, 2, 5, 6, 9]))
    report = await service.gaps("binance", BTC, "1h")
    assert (report.first_ms, report.last_ms, report.count) == (T0, T0 + 9 * HOUR, 6)
    assert report.gaps == (Gap(T0 + 3 * HOUR, 2), Gap(T0 + 7 * HOUR, 2))
    assert report.missing == 4
    empty = await service.gaps("binance", Symbol("ETH/USDT"), "1h")
    assert (empty.count, empty.first_ms, empty.gaps) == (0, None, ())
    (listed,) = await service.coverage()
    assert listed == report


async def test_resample_stores_only_complete_buckets(service: MarketDataService, tmp_path: Path) -> None:
    await service.import_csv(csv_file(tmp_path, [*range(0, 8), *range(9, 13)]))  # 08:00 missing
    assert await service.resample("binance", BTC, "1h", "4h") == 2  # 00-04, 04-08; 08-12 incomplete
    four = await service.load("binance", BTC, "4h")
    assert list(four.timestamp) == [T0, T0 + 4 * HOUR]
    assert (four.open[0], four.high[0], four.low[0], four.close[0], four.volume[0]) == (100, 105, 99, 104, 10)
    with pytest.raises(DataError):
        await service.resample("binance", Symbol("ETH/USDT"), "1h", "4h")


def test_complete_buckets_refuses_non_multiples() -> None:
    frame = CandleFrame.from_arrays(np.array([[T0, 1, 1, 1, 1, 1]]))
    with pytest.raises(InputError, match="multiple"):
        complete_buckets(frame, "1h", "90m")
    with pytest.raises(InputError):
        complete_buckets(frame, "4h", "1h")


def test_find_gaps_on_contiguous_and_single_candle_series() -> None:
    assert find_gaps(np.array([T0, T0 + HOUR, T0 + 2 * HOUR]), "1h") == ()
    assert find_gaps(np.array([T0]), "1h") == ()


async def test_import_samples_loads_every_bundled_file(service: MarketDataService) -> None:
    reports = await service.import_samples()
    expected = {(BTC, "1h"), (BTC, "1m"), (Symbol("ETH/USDT"), "1h")}
    assert {(r.symbol, r.timeframe) for r in reports} == expected
    assert all(r.rows > 10_000 for r in reports)
