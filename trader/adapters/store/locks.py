"""Single-instance lock: two bots trading one account would double every order.

PostgreSQL: a session advisory lock held on a dedicated connection (released by the server if the
process dies). SQLite: an exclusive ``flock`` on ``<database>.lock`` next to the file (released by the
kernel if the process dies; POSIX only, which is where the service runs).
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from trader.adapters.store.db import sqlite_path
from trader.core.errors import StoreError

logger = logging.getLogger(__name__)

# Advisory lock keys are bigint; this one is the ASCII of "tradebot" so it is recognisable in pg_locks.
ADVISORY_KEY = int.from_bytes(b"tradebot", "big") & 0x7FFF_FFFF_FFFF_FFFF


class InstanceLock(Protocol):
    """A held single-instance lock."""

    async def release(self) -> None:
        """Release the lock (idempotent)."""
        ...


class SqliteFileLock:
    """Exclusive flock on ``<database>.lock``; the file records the holder's pid."""

    def __init__(self, lock_path: Path) -> None:
        self.path = lock_path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise StoreError naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(
                f"another instance (pid {holder}) is using {self.path.with_suffix('')}; stop it first",
                user_message="Another instance of the bot is already running on this database.",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    async def release(self) -> None:
        """Unlock and close the lock file (the file stays; an unlocked file means no holder)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class PostgresAdvisoryLock:
    """Session-level advisory lock on a connection kept open while the lock is held."""

    def __init__(self, engine: AsyncEngine, key: int = ADVISORY_KEY) -> None:
        self._engine = engine
        self._key = key
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> None:
        """Take the lock or raise StoreError."""
        conn = await self._engine.connect()
        got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key})).scalar_one()
        await conn.commit()  # end the implicit transaction; the session lock outlives it
        if not got:
            await conn.close()
            await self._engine.dispose()
            raise StoreError(
                "another instance holds the advisory lock on this PostgreSQL database; stop it first",
                user_message="Another instance of the bot is already running on this database.",
            )
        self._conn = conn

    async def release(self) -> None:
        """Unlock and close the connection."""
        if self._conn is not None:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            await self._conn.close()
            self._conn = None
            await self._engine.dispose()


async def acquire_instance_lock(url: str) -> InstanceLock:
    """Return the held lock for the database at ``url``; StoreError if another instance holds it.

    Keep the returned object for the life of the process: once it is garbage-collected the lock goes.
    """
    path = sqlite_path(url)
    if path is not None:
        file_lock = SqliteFileLock(path.with_name(path.name + ".lock"))
        file_lock.acquire()
        logger.info("instance lock taken: %s", file_lock.path)
        return file_lock
    if url.startswith("sqlite"):
        raise StoreError("an in-memory SQLite database cannot be shared, so it needs no instance lock")
    # NullPool: closing the connection must really end the session that holds the lock.
    pg_lock = PostgresAdvisoryLock(create_async_engine(url, poolclass=NullPool))
    await pg_lock.acquire()
    logger.info("instance lock taken: PostgreSQL advisory lock %d", ADVISORY_KEY)
    return pg_lock
