"""Benchmark the store's candle paths and order writes on SQLite, PostgreSQL and in memory.

Run: .venv/bin/python bench/store.py [--rows 60000] [--repeat 5] [--pg postgresql+asyncpg://...]
Prints median seconds per operation: upsert of N candles in one transaction, loading them back as a
CandleFrame, the CSV import of the bundled BTC 1m sample (43,209 rows) through MarketDataService,
and 200 order intents each in its own committed unit of work (the live path's persist-before-send).
PostgreSQL is skipped when the server does not answer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from trader.adapters.store import migrate
from trader.adapters.store.memory.uow import MemoryStore
from trader.adapters.store.sql.uow import Database
from trader.core.domain.candles import CandleFrame
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.ports.store import OrderRecord, UnitOfWorkFactory
from trader.runtime.clock import SystemClock
from trader.services.market_data import MarketDataService, sample_files

BTC = Symbol("BTC/USDT")


def synthetic(rows: int) -> CandleFrame:
    rng = np.random.default_rng(7)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.001, rows)))
    ts = 1_640_995_200_000 + np.arange(rows, dtype=np.int64) * 60_000
    return CandleFrame(ts, close, close * 1.001, close * 0.999, close, rng.uniform(0, 5, rows))


async def timed(repeat: int, setup: Callable[[], Awaitable[UnitOfWorkFactory]],
                work: Callable[[UnitOfWorkFactory], Awaitable[object]]) -> float:
    times = []
    for _ in range(repeat):
        factory = await setup()
        start = time.perf_counter()
        await work(factory)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def bench_backend(name: str, make: Callable[[], Awaitable[UnitOfWorkFactory]], frame: CandleFrame,
                        repeat: int) -> list[tuple[str, str, float]]:
    async def upsert(f: UnitOfWorkFactory) -> None:
        async with f() as uow:
            await uow.candles.upsert("binance", BTC, "1m", frame)
            await uow.commit()

    async def filled() -> UnitOfWorkFactory:
        factory = await make()
        await upsert(factory)
        return factory

    async def load(f: UnitOfWorkFactory) -> None:
        async with f() as uow:
            loaded = await uow.candles.load("binance", BTC, "1m")
        assert len(loaded) == len(frame)

    async def import_sample(f: UnitOfWorkFactory) -> None:
        path = next(p for p in sample_files() if p.name == "BTC_USDT-1m.csv.gz")
        await MarketDataService(f, SystemClock()).import_csv(path)

    async def orders(f: UnitOfWorkFactory) -> None:
        now = datetime.now(UTC)
        for i in range(200):
            async with f() as uow:
                await uow.orders.add(OrderRecord(
                    ClientOrderId(f"c{i}"), PositionId("p"), BTC, Side.BUY, OrderType.MARKET,
                    OrderPurpose.ENTRY, Decimal("0.001"), OrderStatus.PENDING, now, now))
                await uow.commit()

    n = len(frame)
    return [
        (name, f"upsert {n:,} candles (1 transaction)", await timed(repeat, make, upsert)),
        (name, f"load {n:,} candles as CandleFrame", await timed(repeat, filled, load)),
        (name, "import BTC 1m sample CSV (43,209 rows)", await timed(repeat, make, import_sample)),
        (name, "200 order intents, 1 commit each", await timed(repeat, make, orders)),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    frame = synthetic(args.rows)
    results: list[tuple[str, str, float]] = []
    databases: list[Database] = []
    with tempfile.TemporaryDirectory() as tmp:
        async def memory() -> UnitOfWorkFactory:
            return MemoryStore().uow_factory

        async def sqlite() -> UnitOfWorkFactory:
            url = f"sqlite+aiosqlite:///{Path(tmp) / uuid.uuid4().hex}.db"
            await migrate.upgrade_async(url)
            databases.append(Database.from_url(url))
            return databases[-1].uow_factory

        results += await bench_backend("memory", memory, frame, args.repeat)
        results += await bench_backend("sqlite", sqlite, frame, args.repeat)
        for db in databases:
            await db.dispose()
        results += await bench_postgres(args.pg, frame, args.repeat)
    print(f"{'backend':<9} {'operation':<42} {'median s':>9}")
    for backend, op, seconds in results:
        print(f"{backend:<9} {op:<42} {seconds:>9.3f}")


async def bench_postgres(admin_url: str, frame: CandleFrame, repeat: int) -> list[tuple[str, str, float]]:
    from sqlalchemy import text

    admin = Database.from_url(admin_url)
    names: list[str] = []
    databases: list[Database] = []
    try:
        async with admin.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except OSError as exc:
        print(f"PostgreSQL skipped: {exc}")
        return []

    async def make() -> UnitOfWorkFactory:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        names.append(name)
        async with admin.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text(f'CREATE DATABASE "{name}"'))
        url = admin_url.rsplit("/", 1)[0] + "/" + name
        await migrate.upgrade_async(url)
        databases.append(Database.from_url(url))
        return databases[-1].uow_factory

    try:
        return await bench_backend("postgres", make, frame, repeat)
    finally:
        for db in databases:
            await db.dispose()
        async with admin.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for name in names:
                await auto.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
