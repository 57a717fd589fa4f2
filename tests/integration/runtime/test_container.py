"""Composition-root decisions: which mode runs, and which database a demo replay uses."""

from __future__ import annotations

import socket
from pathlib import Path

from trader.config import DatabaseConfig, ExchangeConfig, OpsConfig, Settings
from trader.runtime.container import RunOptions, choose_mode, exchange_reachable, replay_settings


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_unreachable_exchange_is_reported_and_paper_falls_back_to_replay() -> None:
    settings = Settings(exchange=ExchangeConfig(api_base_url=_closed_port_url(), timeout_seconds=1))
    problem = await exchange_reachable(settings, 2.0)
    assert problem is not None
    assert await choose_mode(settings, RunOptions(probe_timeout=2.0)) == "replay"


async def test_live_and_explicit_replay_never_probe() -> None:
    unreachable = ExchangeConfig(api_base_url=_closed_port_url())
    live = Settings(exchange=unreachable.model_copy(update={"mode": "live"}))
    assert await choose_mode(live, RunOptions()) == "live"
    assert await choose_mode(Settings(exchange=unreachable), RunOptions(replay=True)) == "replay"


def test_demo_replay_gets_its_own_database_unless_one_is_configured(tmp_path: Path) -> None:
    default = Settings(ops=OpsConfig(data_dir=str(tmp_path)))
    assert replay_settings(default).database.url == f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    chosen = Settings(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'mine.db'}"))
    assert replay_settings(chosen).database.url.endswith("mine.db")
