"""The console of a start and a replayed stretch says what a trader needs, once; the rest is DEBUG."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fixtures.live_runtime import MakeRuntime
from trader.adapters.ops.log_setup import configure_logging
from trader.adapters.store.migrate import upgrade_async
from trader.config import LoggingConfig


def _info(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.INFO]


async def test_a_migration_is_one_info_line_and_an_up_to_date_database_none(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    configure_logging(LoggingConfig())
    caplog.set_level(logging.INFO)
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    await upgrade_async(url)
    lines = [r.getMessage() for r in _info(caplog)]
    assert [r.name for r in _info(caplog)] == ["trader.adapters.store.migrate"], lines  # no alembic INFO
    assert lines[0].startswith(f"database sqlite+aiosqlite:///{tmp_path}/fresh.db upgraded from empty to ")
    caplog.clear()
    await upgrade_async(url)  # every later start
    assert _info(caplog) == []


async def test_a_long_only_replay_logs_no_exit_short_and_says_entries_are_allowed_once(
        make_runtime: MakeRuntime, caplog: pytest.LogCaptureFixture) -> None:
    live = await make_runtime()  # breakout: long-only on spot; its "exit short" fires below the slow EMA
    caplog.set_level(logging.INFO)
    lifecycle = live.runtime.lifecycle
    lifecycle.parts = replace(lifecycle.parts, max_candles=60)
    await lifecycle.start()
    await asyncio.wait_for(lifecycle.finished.wait(), 60)
    for _ in range(50):  # the dispatcher prints the reconciliation alert on the console
        if "econcil" in live.console.getvalue():
            break
        await asyncio.sleep(0.05)
    await lifecycle.stop()
    logged = "\n".join(r.getMessage() for r in _info(caplog))
    assert "signal" in logged  # the decisions are there...
    assert "exit short" not in logged  # ...but not the signal to leave a short nobody holds
    shown = logged + "\n" + live.console.getvalue()
    assert shown.count("New entries are allowed.") == 1, shown
