"""Composition-root decisions: which mode runs, and which database a demo replay uses."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.fixtures.live_runtime import LiveRuntime
from trader.config import DatabaseConfig, ExchangeConfig, OpsConfig, Settings
from trader.core.errors import ExchangeUnavailable
from trader.runtime.container import (
    RunOptions,
    choose_mode,
    exchange_reachable,
    holds_paper_account,
    open_database,
    replay_settings,
)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_unreachable_exchange_is_reported_and_a_fresh_install_falls_back_to_replay() -> None:
    settings = Settings(exchange=ExchangeConfig(api_base_url=_closed_port_url(), timeout_seconds=1))
    assert await exchange_reachable(settings, 1.0) is not None

    async def fresh() -> bool:
        return False

    assert await choose_mode(settings, RunOptions(probe_timeout=1.0), holds_account=fresh) == "replay"


async def test_unreachable_exchange_with_a_paper_account_in_the_store_refuses_the_demo() -> None:
    settings = Settings(exchange=ExchangeConfig(api_base_url=_closed_port_url(), timeout_seconds=1))

    async def holds() -> bool:
        return True

    with pytest.raises(ExchangeUnavailable, match="holds a paper account"):
        await choose_mode(settings, RunOptions(probe_timeout=2.0), holds_account=holds)


async def test_live_and_explicit_replay_never_probe() -> None:
    unreachable = ExchangeConfig(api_base_url=_closed_port_url())
    live = Settings(exchange=unreachable.model_copy(update={"mode": "live"}))
    assert await choose_mode(live, RunOptions()) == "live"
    assert await choose_mode(Settings(exchange=unreachable), RunOptions(replay=True)) == "replay"


def test_demo_replay_gets_its_own_database_unless_one_is_configured(tmp_path: Path) -> None:
    default = Settings(ops=OpsConfig(data_dir=str(tmp_path)))
    assert replay_settings(default).database.url == f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    chosen = Settings(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'mine.db'}"),
                      ops=OpsConfig(data_dir=str(tmp_path)))
    assert replay_settings(chosen).database.url.endswith("mine.db")  # asked for with --replay
    assert replay_settings(chosen, fallback=True).database.url.endswith("replay.db")  # never the account


async def test_holds_paper_account_is_false_on_a_fresh_store_and_true_once_the_engine_saved(
        live_runtime: LiveRuntime, tmp_path: Path) -> None:
    fresh = await open_database(DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"))
    try:
        assert not await holds_paper_account(fresh.uow_factory)
    finally:
        await fresh.dispose()
    await live_runtime.advance(1)  # the engine stores its state after its first cycle
    assert await holds_paper_account(live_runtime.uow)


async def test_a_second_instance_is_refused_before_it_migrates_or_reads_secrets(tmp_path: Path) -> None:
    # A running instance holds the lock on a database that an older release created (no schema yet
    # stands in for "an older schema"): the newcomer must stop at the lock, leaving the file untouched.
    import sqlite3

    from trader.adapters.store.locks import acquire_instance_lock
    from trader.core.errors import StoreError
    from trader.runtime.container import build_runtime

    path = tmp_path / "shared.db"
    url = f"sqlite+aiosqlite:///{path}"
    holder = await acquire_instance_lock(url)
    try:
        settings = Settings(database=DatabaseConfig(url=url),
                            exchange=ExchangeConfig(replay=True, pairs=("BTC/USDT",)),
                            ops=OpsConfig(health_enabled=False, data_dir=str(tmp_path)))
        with pytest.raises(StoreError, match="another instance"):
            await build_runtime(settings, RunOptions(replay=True))
    finally:
        await holder.release()
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == [], f"the refused instance migrated the schema: {tables}"
