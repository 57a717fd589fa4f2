"""/metrics and /ready over real HTTP on the real runtime: paper and live against the fake exchange, the
real bot polling the fake Bot API. Metrics move with real ticks, orders and alert deliveries; the
"telegram" check follows the bot's getMe/getUpdates."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

import bot
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import telegram_config
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.config import DatabaseConfig, ExchangeConfig, NotifyConfig, OpsConfig, SchedulerConfig, Settings
from trader.core.domain.enums import Direction
from trader.runtime.container import RunOptions, Runtime, build_runtime

CREATE_ORDER = "POST /api/v3/order"


def _settings(tmp_path: Path, exchange: ExchangeConfig) -> Settings:
    # A fast order monitor (it fills paper orders) but a slow risk job: the equity job, which also sets
    # equity and open positions, must not be what moves them in these tests.
    return Settings(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"),
                    exchange=exchange, ops=OpsConfig(health_port=0, data_dir=str(tmp_path)),
                    notify=NotifyConfig(console=False),
                    scheduler=SchedulerConfig(monitor_interval_seconds=0.2, risk_interval_seconds=3600))


async def _paper_runtime(tmp_path: Path, fake_exchange: FakeExchange) -> Runtime:
    paper = ExchangeConfig(api_base_url=fake_exchange.base_url, timeout_seconds=2.0)
    return await build_runtime(_settings(tmp_path, paper), RunOptions(probe_timeout=5, console=io.StringIO()))


async def _get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as resp:
        return resp.status, await resp.text()


async def _scrape(port: int) -> dict[str, float]:
    status, text = await _get(port, "/metrics")
    assert status == 200
    return {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}


async def _ready(port: int) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/ready") as resp:
        return resp.status, await resp.json()


async def _until(what: str, check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not seen within {within}s")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def _with_bot(runtime: Runtime, fake: FakeBotApiCore) -> AsyncIterator[int]:
    """Run ``bot.run`` (which starts the lifecycle) and yield the health server's port."""
    stop = asyncio.Event()
    task = asyncio.create_task(bot.run(telegram_config(fake), runtime, stop))

    async def health_up() -> bool:
        if task.done():
            task.result()  # raise what stopped the bot
        # the engine has started too: reconciled, scheduler running (the health server comes up first)
        return runtime.lifecycle._health is not None and runtime.lifecycle.facts().scheduler_running
    try:
        await _until("the health server", health_up, within=30)
        assert runtime.lifecycle._health is not None
        yield runtime.lifecycle._health.port
    finally:
        await fake.release_polls()
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_metrics_follow_a_paper_tick_an_entry_and_a_failed_alert_delivery(
        tmp_path: Path, fake_exchange: FakeExchange, fake_botapi: FakeBotApiCore) -> None:
    runtime = await _paper_runtime(tmp_path, fake_exchange)
    assert runtime.mode == "paper"
    async with _with_bot(runtime, fake_botapi) as port:
        before = await _scrape(port)
        assert before["trader_orders_placed_total"] == 0 and before["trader_tick_latency_seconds_count"] == 0
        assert before["trader_open_positions"] == 0
        trading = runtime.lifecycle.parts.engine.trading
        await trading.run_tick("breakout", "BTC/USDT", "1h")  # what the scheduler runs at a candle close
        assert (await _scrape(port))["trader_tick_latency_seconds_count"] >= 1
        fake_botapi.fail_next("sendMessage", 500, times=1)  # the entry alert's first delivery fails
        result = await trading.force_entry("BTC/USDT", Direction.LONG, Decimal("0.01"), "breakout")
        assert result.ok, result.message

        async def alerts_pending(wanted: Callable[[float], bool]) -> bool:
            return wanted((await _scrape(port))["trader_alerts_pending"])
        await _until("an undelivered alert", lambda: alerts_pending(lambda n: n >= 1))
        await _until("the retried delivery", lambda: alerts_pending(lambda n: n == 0))
        assert any("Opened long" in c.text for c in fake_botapi.sent("sendMessage"))
        after = await _scrape(port)
        equity = (await runtime.lifecycle.parts.exchange.balances()).equity
        assert after["trader_orders_placed_total"] >= 2  # the entry and its stop
        assert after["trader_orders_failed_total"] == 0
        assert after["trader_open_positions"] == 1
        assert abs(after["trader_equity"] - float(equity)) < 1 and 9_900 < after["trader_equity"] < 10_000


async def test_a_rejected_live_order_counts_as_failed(
        tmp_path: Path, fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig,
        fake_botapi: FakeBotApiCore) -> None:
    runtime = await build_runtime(_settings(tmp_path, fake_exchange_config),
                                  RunOptions(probe_timeout=5, console=io.StringIO()))
    assert runtime.mode == "live"
    async with _with_bot(runtime, fake_botapi) as port:
        fake_exchange.inject(Fault(FaultKind.ERROR, route=CREATE_ORDER, status=400, code=-2010,
                                   msg="Account has insufficient balance for requested action."))
        await runtime.lifecycle.parts.engine.trading.force_entry("BTC/USDT", Direction.LONG, Decimal("0.01"),
                                                                 "breakout")
        metrics = await _scrape(port)
        assert metrics["trader_orders_failed_total"] == 1 and metrics["trader_orders_placed_total"] == 0
        assert metrics["trader_open_positions"] == 0
        assert metrics["trader_equity"] == 10_000


async def test_ready_reports_telegram_connected_then_failing_then_back(
        tmp_path: Path, fake_exchange: FakeExchange, fake_botapi: FakeBotApiCore) -> None:
    runtime = await _paper_runtime(tmp_path, fake_exchange)
    async with _with_bot(runtime, fake_botapi) as port:
        status, body = await _ready(port)
        assert status == 200 and "telegram" in body["checks"] and "notes" not in body
        fake_botapi.fail_next("getUpdates", 502, times=2)  # the Bot API answers polls with errors
        await fake_botapi.release_polls()  # end the poll in flight so the next one meets the fault

        async def telegram_degraded() -> bool:  # trading goes on without Telegram: degraded, still ready
            status, body = await _ready(port)
            return status == 200 and list(body.get("degraded", {})) == ["telegram"]
        await _until("telegram degraded on /ready", telegram_degraded)

        async def connected_again() -> bool:
            status, body = await _ready(port)
            return status == 200 and "degraded" not in body
        await _until("telegram connected again", connected_again, within=30)


def test_telegram_link_goes_stale_without_a_recent_answer() -> None:
    now = [100.0]
    link = bot.TelegramLink(fresh_seconds=60, now=lambda: now[0])
    assert not link.connected  # nothing answered yet
    link.record(True)
    now[0] += 59
    assert link.connected
    now[0] += 2
    assert not link.connected  # the last answer is too old
    link.record(True)
    link.record(False)
    assert not link.connected  # the last call failed


async def test_paper_service_schedules_daily_backups_and_health_shows_the_last(
        tmp_path: Path, fake_exchange: FakeExchange) -> None:
    runtime = await _paper_runtime(tmp_path, fake_exchange)
    lifecycle = runtime.lifecycle
    await lifecycle.start()
    try:
        assert lifecycle._scheduler is not None and "backup" in lifecycle._scheduler.job_ids()
        assert lifecycle._health is not None
        status, text = await _get(lifecycle._health.port, "/health")
        assert status == 200 and '"backup":{"last_at":null' in text.replace(" ", "")
        backups = lifecycle.parts.backups
        assert backups is not None
        await backups.run()  # what the daily job runs
        made = sorted((tmp_path / "backups").iterdir())
        assert len(made) == 1 and made[0].suffix == ".db"
        status, text = await _get(lifecycle._health.port, "/health")
        assert f'"size_bytes":{made[0].stat().st_size}' in text.replace(" ", "")
        health = await runtime.services.queries.health()
        assert health.last_backup_bytes == made[0].stat().st_size
    finally:
        await lifecycle.stop()


async def test_jobs_show_each_scheduled_job_with_its_last_and_next_run(
        tmp_path: Path, fake_exchange: FakeExchange) -> None:
    runtime = await _paper_runtime(tmp_path, fake_exchange)
    await runtime.lifecycle.start()
    try:
        async def monitored() -> bool:  # the monitor runs every 0.2 s in these settings
            jobs = {j.id: j for j in await runtime.services.queries.jobs()}
            return jobs["monitor"].last_run_at is not None
        await _until("a monitor run", monitored)
        jobs = {j.id: j for j in await runtime.services.queries.jobs()}
        assert {"monitor", "risk", "heartbeat", "daily_summary", "backup", "candle_refresh"} <= set(jobs)
        assert any(name.startswith("tick|") for name in jobs)
        monitor = jobs["monitor"]
        assert monitor.error is None and monitor.duration_seconds is not None
        assert monitor.next_run_at is not None and monitor.next_run_at > monitor.last_run_at  # type: ignore[operator]
        backup = jobs["backup"]
        assert backup.last_run_at is None and backup.next_run_at is not None
        assert (backup.next_run_at.hour, backup.next_run_at.minute) == (3, 0)
    finally:
        await runtime.lifecycle.stop()
