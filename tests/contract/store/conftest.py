"""One store contract, three implementations: in-memory, a real SQLite file, real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from trader.adapters.store import migrate
from trader.adapters.store.memory.uow import MemoryStore
from trader.adapters.store.sql.uow import Database
from trader.ports.store import UnitOfWorkFactory


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    """Return a unit-of-work factory over an empty, migrated store."""
    if request.param == "memory":
        yield MemoryStore().uow
        return
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'trader.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    await migrate.upgrade_async(url)
    db = Database.from_url(url)
    try:
        yield db.uow
    finally:
        await db.dispose()
