"""Scheduled backups: success prunes to the retention; a failure is alerted once and kept in the status."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trader.adapters.store.backup import SqlDatabaseBackup
from trader.adapters.store.memory.uow import MemoryStore
from trader.config import BackupConfig
from trader.live.alerts import AlertService
from trader.runtime.clock import SimClock
from trader.services.backups import BackupService

T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


class Silent:
    """A notifier that keeps nothing: these tests read the outbox itself."""

    async def send(self, alert: object) -> None:
        return None


def database(tmp_path: Path) -> str:
    path = tmp_path / "trader.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
    return f"sqlite+aiosqlite:///{path}"


async def outbox(memory: MemoryStore) -> list[str]:
    async with memory.uow() as uow:
        return [row.alert.text for row in await uow.alerts.pending(100)]


async def test_daily_runs_keep_the_newest_backups(tmp_path: Path) -> None:
    memory, clock = MemoryStore(), SimClock(T0)
    store = SqlDatabaseBackup(database(tmp_path), tmp_path / "bk")
    service = BackupService(store, BackupConfig(keep=3), AlertService(memory.uow, Silent(), clock), clock)
    for _ in range(5):
        status = await service.run()
        clock.advance(timedelta(days=1))
    assert status.error is None and status.last is not None
    assert status.last.taken_at == T0 + timedelta(days=4)
    assert len(list((tmp_path / "bk").iterdir())) == 3
    assert await outbox(memory) == []


async def test_a_failed_backup_is_alerted_and_shown(tmp_path: Path) -> None:
    memory, clock = MemoryStore(), SimClock(T0)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    store = SqlDatabaseBackup(database(tmp_path), blocker / "bk")
    service = BackupService(store, BackupConfig(), AlertService(memory.uow, Silent(), clock), clock)
    status = await service.run()
    assert status.failed_at == T0 and status.error is not None and "backup folder" in status.error
    assert status.last is None
    alerts = await outbox(memory)
    assert len(alerts) == 1
    assert alerts[0].startswith("Database backup failed: cannot create the backup folder")
