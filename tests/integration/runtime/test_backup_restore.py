"""A backup taken while a replay trades, restored into a fresh database, gives the same account.

The restored service starts, reconciles, and shows the same positions, orders, fills and equity as the
running one did when the backup was taken; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.live_runtime import runtime_settings
from trader.adapters.store.backup import SqlDatabaseBackup, restore_backup
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.ports.store import UnitOfWorkFactory
from trader.runtime.clock import SystemClock
from trader.runtime.container import RunOptions, Runtime, build_runtime
from trader.services.market_data import MarketDataService, sample_files


async def seed(url: str) -> None:
    await upgrade_async(url)
    db = Database.from_url(url)
    try:
        service = MarketDataService(db.uow_factory, SystemClock())
        for sample in sample_files():
            if sample.name.startswith("BTC_USDT") and sample.name.endswith("-1h.csv.gz"):
                await service.import_csv(sample, "binance")
    finally:
        await db.dispose()


async def start(url: str, data_dir: Path) -> Runtime:
    settings = runtime_settings(url, data_dir, ("breakout", "bollinger_reversion"))
    settings = settings.model_copy(update={"exchange": settings.exchange.model_copy(
        update={"pairs": ("BTC/USDT",)})})
    return await build_runtime(settings, RunOptions(replay=True, speed=1e9, console=io.StringIO()))


async def ledger(uow_factory: UnitOfWorkFactory) -> dict[str, Any]:
    """Return every position with its orders and fills, as plain comparable values."""
    async with uow_factory() as uow:
        positions = [*await uow.positions.unfinished(),
                     *await uow.positions.closed_between(datetime(2000, 1, 1, tzinfo=UTC))]
        book: dict[str, Any] = {}
        for position in sorted(positions, key=lambda p: p.id):
            orders = await uow.orders.for_position(position.id)
            fills = [f for o in orders for f in await uow.fills.for_order(o.client_order_id)]
            book[position.id] = (position, sorted(orders, key=lambda o: o.client_order_id),
                                 sorted(fills, key=lambda f: f.trade_id))
        return book


async def snapshot(runtime: Runtime) -> tuple[Any, ...]:
    queries = runtime.services.queries
    balance = await queries.balance()
    return (await queries.positions(), balance.equity, balance.free, balance.exposure,
            await ledger(runtime.lifecycle.parts.uow_factory))


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_backup_during_a_trading_replay_restores_the_same_account(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if kind == "sqlite":
        url, fresh = (f"sqlite+aiosqlite:///{tmp_path / name}" for name in ("live.db", "restored.db"))
    else:
        url = str(request.getfixturevalue("pg_url"))
        fresh = str(request.getfixturevalue("second_pg_url"))
    await seed(url)
    live = await start(url, tmp_path)
    try:
        driver = live.lifecycle.parts.replay
        assert driver is not None
        for _ in range(400):  # trade until a position is open with its stop resting
            await driver.step()
            async with live.lifecycle.parts.uow_factory() as uow:
                if any(p.filled > 0 for p in await uow.positions.unfinished()):
                    break
        else:
            pytest.fail("the replay opened no position")
        info = SqlDatabaseBackup(url, tmp_path / "bk").take(datetime.now(UTC))  # the service is running
        before = await snapshot(live)
        await driver.step()  # the live account moves on after the backup
    finally:
        await live.lifecycle.stop()
    assert info.size_bytes > 0

    restore_backup(info.path, fresh)
    restored = await start(fresh, tmp_path / "restored")
    try:
        reconcile = restored.lifecycle.parts.reconcile
        assert reconcile is not None
        await reconcile()
        after = await snapshot(restored)
    finally:
        await restored.lifecycle.stop()
    assert after == before
    assert before[0] and before[0][0].pair == "BTC/USDT"  # an open position came back, not an empty book
