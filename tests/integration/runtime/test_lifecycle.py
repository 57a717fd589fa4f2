"""Lifecycle over the real container: paper and live against the fake exchange (scheduler, health,
reconciliation), the replay task, the single-instance lock, and a stop that releases everything."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.fake_exchange import FakeExchange
from tests.fixtures.live_runtime import ADMIN_ACTOR, LiveRuntime, MakeRuntime
from trader.config import DatabaseConfig, ExchangeConfig, NotifyConfig, OpsConfig, SchedulerConfig, Settings
from trader.core.engine.actions import BlockEntries
from trader.core.errors import StoreError
from trader.live.engine_runner import CycleInput
from trader.runtime.container import RunOptions, Runtime, build_runtime


def _settings(tmp_path: Path, exchange: ExchangeConfig) -> Settings:
    return Settings(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'life.db'}"),
                    exchange=exchange, ops=OpsConfig(health_port=0, data_dir=str(tmp_path)),
                    notify=NotifyConfig(console=True),
                    scheduler=SchedulerConfig(monitor_interval_seconds=0.2))


async def _build(settings: Settings, console: io.StringIO | None = None) -> Runtime:
    return await build_runtime(settings, RunOptions(probe_timeout=5, console=console or io.StringIO()))


async def test_paper_runtime_schedules_every_job_serves_ready_and_stops_cleanly(
        tmp_path: Path, fake_exchange: FakeExchange) -> None:
    paper = ExchangeConfig(api_base_url=fake_exchange.base_url, timeout_seconds=2.0)
    runtime = await _build(_settings(tmp_path, paper))
    assert runtime.mode == "paper"
    lifecycle = runtime.lifecycle
    await lifecycle.start()
    try:
        scheduler = lifecycle._scheduler
        assert scheduler is not None
        jobs = set(scheduler.job_ids())
        assert {"tick|breakout|BTC/USDT|1h", "tick|bollinger_reversion|ETH/USDT|1h", "monitor", "risk",
                "heartbeat", "daily_summary", "drift", "candle_refresh", "portfolio_snapshot"} <= jobs
        health = lifecycle._health
        assert health is not None
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{health.port}/ready") as resp:
            body = await resp.json()
        assert resp.status == 200 and body["checks"] == ["database", "engine", "exchange", "telegram"]
        assert body["notes"] == {"telegram": "not configured"}  # headless: reported, not failing
        view = await runtime.services.queries.health()
        assert view.scheduler_ok and view.exchange_ok and view.store_ok
        await asyncio.sleep(0.6)  # the monitor runs a few times against the fake
    finally:
        await lifecycle.stop()
    assert not scheduler.running and lifecycle._health is None
    again = await _build(_settings(tmp_path, paper))  # the lock was released
    await again.lifecycle.stop()


async def test_a_second_instance_on_the_same_database_is_refused(tmp_path: Path,
                                                                 fake_exchange: FakeExchange) -> None:
    paper = ExchangeConfig(api_base_url=fake_exchange.base_url, timeout_seconds=2.0)
    first = await _build(_settings(tmp_path, paper))
    try:
        with pytest.raises(StoreError, match="another instance"):
            await _build(_settings(tmp_path, paper))
    finally:
        await first.lifecycle.stop()


async def test_live_runtime_reconciles_with_the_venue_at_start(tmp_path: Path, fake_exchange: FakeExchange,
                                                              fake_exchange_config: ExchangeConfig) -> None:
    console = io.StringIO()
    runtime = await _build(_settings(tmp_path, fake_exchange_config), console)
    assert runtime.mode == "live"
    await runtime.lifecycle.start()
    try:
        balance = await runtime.services.queries.balance()
        assert balance.free == 10_000 and balance.quote == "USDT"
        for _ in range(50):  # the dispatcher delivers the reconciliation report to the console
            if "econcil" in console.getvalue():
                break
            await asyncio.sleep(0.05)
        assert "econcil" in console.getvalue()
        assert (await runtime.lifecycle.parts.engine.entries_blocked()) == ""  # a clean start
    finally:
        await runtime.lifecycle.stop()


async def test_replay_lifecycle_runs_the_driver_until_max_candles(make_runtime: MakeRuntime) -> None:
    live = await make_runtime()
    lifecycle = live.runtime.lifecycle
    lifecycle.parts = replace(lifecycle.parts, max_candles=8)
    await lifecycle.start()
    await asyncio.wait_for(lifecycle.finished.wait(), 30)
    assert live.driver.fed == 8 and lifecycle.fatal is None
    await lifecycle.stop()


async def test_resume_lifts_a_reconciliation_entry_block(live_runtime: LiveRuntime) -> None:
    runner = live_runtime.runtime.lifecycle.parts.engine.trading.runner
    await runner.cycle(CycleInput(actions=(BlockEntries("1 unresolved difference(s)"),)), [])
    result = await live_runtime.runtime.services.control.resume(ADMIN_ACTOR)
    assert result.ok and "acknowledged" in result.message
    assert (await runner.snapshot()).state.entries_blocked == ""
