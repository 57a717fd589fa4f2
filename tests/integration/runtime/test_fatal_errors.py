"""A fatal error ends the service loudly: exit code 1, one clear last line, an alert where a channel works.

The disk fills up for real as far as SQLite can tell: ``PRAGMA max_page_count`` at the current size
makes the next page the store needs fail with "database or disk is full" (SQLITE_FULL).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.pool import Pool

import bot
from tests.fixtures.live_runtime import runtime_settings
from trader.runtime.container import RunOptions


class DiskFull:
    """From the ``after``-th connection checkout on, every SQLite connection may not grow its file."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.checkouts = 0

    def __call__(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        self.checkouts += 1
        if self.checkouts >= self.after:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA max_page_count = 1")  # clamped to the current size: no page more
            cursor.close()


@pytest.fixture
def disk_full() -> Iterator[DiskFull]:
    full = DiskFull(after=10**9)
    event.listen(Pool, "checkout", full)
    try:
        yield full
    finally:
        event.remove(Pool, "checkout", full)


async def test_a_full_disk_during_the_replay_exits_1_with_one_line_and_a_console_alert(
        replay_template: Path, tmp_path: Path, disk_full: DiskFull, capsys: pytest.CaptureFixture[str],
        restore_root_logging: None) -> None:
    path = tmp_path / "trader.db"
    shutil.copy(replay_template, path)
    settings = runtime_settings(f"sqlite+aiosqlite:///{path}", tmp_path, ("breakout",))
    console = io.StringIO()
    disk_full.after = 60  # past start-up and a few candles
    code = await bot.main_async(settings, RunOptions(replay=True, speed=1e9, max_candles=2000,
                                                     console=console))
    err = capsys.readouterr().err
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("tradebot: the engine stopped on") and "full" in last, last
    assert "Engine stopped on a fatal error" in console.getvalue()  # the console channel still works
