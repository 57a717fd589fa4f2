"""Single-instance lock on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap

import pytest

from trader.adapters.store.locks import acquire_instance_lock
from trader.core.errors import StoreError

HOLDER = """
import asyncio, sys
from trader.adapters.store.locks import acquire_instance_lock
async def main():
    lock = await acquire_instance_lock({url!r})  # keep a reference: a collected lock is released
    print("locked", flush=True)
    await asyncio.sleep(120)
asyncio.run(main())
"""


async def test_second_lock_on_same_database_is_refused_until_released(db_url: str) -> None:
    first = await acquire_instance_lock(db_url)
    with pytest.raises(StoreError, match="another instance"):
        await acquire_instance_lock(db_url)
    await first.release()
    await first.release()  # idempotent
    again = await acquire_instance_lock(db_url)
    await again.release()


async def test_lock_of_a_killed_process_is_freed(db_url: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", textwrap.dedent(HOLDER.format(url=db_url)), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"locked"
        with pytest.raises(StoreError, match="another instance"):
            await acquire_instance_lock(db_url)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # a crash: no release, no clean shutdown
        await proc.wait()
    for _ in range(50):  # PostgreSQL ends the dead session asynchronously
        try:
            lock = await acquire_instance_lock(db_url)
            break
        except StoreError:
            await asyncio.sleep(0.1)
    else:
        pytest.fail("the lock of a killed process was never freed")
    await lock.release()


async def test_sqlite_refusal_names_the_holder_pid(sqlite_url: str) -> None:
    first = await acquire_instance_lock(sqlite_url)
    try:
        with pytest.raises(StoreError, match=rf"pid {os.getpid()}"):
            await acquire_instance_lock(sqlite_url)
    finally:
        await first.release()


async def test_in_memory_sqlite_has_no_instance_lock() -> None:
    with pytest.raises(StoreError, match="in-memory"):
        await acquire_instance_lock("sqlite+aiosqlite:///:memory:")
