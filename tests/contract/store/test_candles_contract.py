"""Contract: candle upsert, ranged load, last candle and series listing."""

from __future__ import annotations

import numpy as np

from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.ports.store import UnitOfWorkFactory

HOUR = 3_600_000
BTC = Symbol("BTC/USDT")


def frame(start_hour: int, count: int, price: float = 100.0) -> CandleFrame:
    ts = (np.arange(start_hour, start_hour + count, dtype=np.int64) + 400_000) * HOUR
    base = price + np.arange(count, dtype=np.float64) * 0.25
    return CandleFrame(ts, base, base + 1.5, base - 1.25, base + 0.125, np.full(count, 3.0001))


def assert_same(a: CandleFrame, b: CandleFrame) -> None:
    assert np.array_equal(a.timestamp, b.timestamp)
    for col in ("open", "high", "low", "close", "volume"):
        assert np.array_equal(getattr(a, col), getattr(b, col)), col


async def test_candles_round_trip_exactly_as_float64(uow_factory: UnitOfWorkFactory) -> None:
    original = frame(0, 50, price=61234.56789)
    async with uow_factory() as uow:
        assert await uow.candles.upsert("binance", BTC, "1h", original) == 50
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.candles.load("binance", BTC, "1h")
    assert_same(loaded, original)
    assert loaded.timestamp.dtype == np.int64


async def test_upsert_overwrites_overlap_and_keeps_the_rest(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.candles.upsert("binance", BTC, "1h", frame(0, 10, price=100))
        await uow.candles.upsert("binance", BTC, "1h", frame(5, 10, price=200))
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.candles.load("binance", BTC, "1h")
    assert len(loaded) == 15
    assert_same(loaded.slice(0, 5), frame(0, 5, price=100))
    assert_same(loaded.slice(5), frame(5, 10, price=200))


async def test_load_respects_half_open_range_and_series_key(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.candles.upsert("binance", BTC, "1h", frame(0, 10))
        await uow.candles.upsert("binance", BTC, "4h", frame(0, 3))
        await uow.candles.upsert("nobitex", BTC, "1h", frame(0, 2))
        await uow.commit()
    first = (400_000 + 2) * HOUR
    async with uow_factory() as uow:
        part = await uow.candles.load("binance", BTC, "1h", start_ms=first, end_ms=first + 3 * HOUR)
        empty = await uow.candles.load("binance", Symbol("ETH/USDT"), "1h")
        last = await uow.candles.last_ms("binance", BTC, "1h")
        none = await uow.candles.last_ms("binance", BTC, "1d")
        oldest = await uow.candles.first_ms("binance", BTC, "1h")
        no_first = await uow.candles.first_ms("kraken", BTC, "1h")
        listed = await uow.candles.series()
    assert list(part.timestamp) == [first, first + HOUR, first + 2 * HOUR]
    assert len(empty) == 0
    assert last == (400_000 + 9) * HOUR and none is None
    assert oldest == 400_000 * HOUR and no_first is None
    assert [(s.exchange, s.symbol, s.timeframe, s.count) for s in listed] == [
        ("binance", "BTC/USDT", "1h", 10), ("binance", "BTC/USDT", "4h", 3), ("nobitex", "BTC/USDT", "1h", 2)]
    assert listed[0].first_ms == 400_000 * HOUR and listed[0].last_ms == last


async def test_uncommitted_candles_are_discarded(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.candles.upsert("binance", BTC, "1h", frame(0, 3))
    async with uow_factory() as uow:
        assert len(await uow.candles.load("binance", BTC, "1h")) == 0
        assert await uow.candles.series() == []


async def test_load_sees_this_transactions_own_upsert(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.candles.upsert("binance", BTC, "1h", frame(0, 4))
        assert len(await uow.candles.load("binance", BTC, "1h")) == 4
        await uow.candles.upsert("binance", BTC, "1h", frame(4, 2))
        assert len(await uow.candles.load("binance", BTC, "1h", start_ms=(400_000 + 3) * HOUR)) == 3


async def test_edges_ignore_insane_open_times_and_delete_removes_rows(uow_factory: UnitOfWorkFactory) -> None:
    good = frame(0, 5)
    far = CandleFrame(np.array([9_000_000_000_000_000_000], dtype=np.int64), *(np.ones(1) for _ in range(5)))
    async with uow_factory() as uow:
        await uow.candles.upsert("binance", BTC, "1h", good)
        await uow.candles.upsert("binance", BTC, "1h", far)  # what a version before validation let in
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.candles.first_ms("binance", BTC, "1h") == int(good.timestamp[0])
        assert await uow.candles.last_ms("binance", BTC, "1h") == int(good.timestamp[-1])
        assert await uow.candles.delete("binance", BTC, "1h", [int(far.timestamp[0]), int(good.timestamp[0]),
                                                               1]) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert_same(await uow.candles.load("binance", BTC, "1h"), good.slice(1))
        assert await uow.candles.delete("binance", BTC, "4h", [1]) == 0
