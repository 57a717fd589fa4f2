"""Live start-up against a venue that is briefly down, and a /ready that never calls the venue.

Real runtime (container + lifecycle + health server), real ccxt client, the fake Binance venue with
scripted faults.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.config import DatabaseConfig, ExchangeConfig, NotifyConfig, OpsConfig, SchedulerConfig, Settings
from trader.runtime.container import RunOptions, Runtime, build_runtime

SIGNED = ("GET /api/v3/account", "POST /api/v3/order", "GET /api/v3/order", "DELETE /api/v3/order",
          "GET /api/v3/openOrders", "GET /api/v3/myTrades")


def _settings(tmp_path: Path, exchange: ExchangeConfig) -> Settings:
    return Settings(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'venue.db'}"),
                    exchange=exchange.model_copy(update={"max_retries": 0}),
                    ops=OpsConfig(health_port=0, data_dir=str(tmp_path)), notify=NotifyConfig(console=True),
                    scheduler=SchedulerConfig(monitor_interval_seconds=0.2, venue_retry_seconds=0.05,
                                              venue_retry_max_seconds=0.2))


async def _ready(runtime: Runtime) -> tuple[int, dict[str, object]]:
    health = runtime.lifecycle._health
    assert health is not None
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{health.port}/ready") as resp:
        return resp.status, await resp.json()


async def _until(what: str, check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not seen within {within}s")
        await asyncio.sleep(0.02)


async def test_live_start_waits_for_a_venue_outage_then_reconciles_and_runs_the_monitor(
        tmp_path: Path, fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig) -> None:
    console = io.StringIO()
    runtime = await build_runtime(_settings(tmp_path, fake_exchange_config), RunOptions(console=console))
    assert runtime.mode == "live"
    fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, times=8))  # every route: the venue is down
    lifecycle = runtime.lifecycle
    await lifecycle.start()  # returns although the venue does not answer
    try:
        status, body = await _ready(runtime)
        assert status == 503 and {"exchange", "engine"} <= set(body["failing"])  # type: ignore[arg-type]
        assert "waiting for the venue" in str(body["reasons"])
        assert lifecycle.fatal is None and not lifecycle.facts().scheduler_running

        async def running() -> bool:
            return lifecycle.facts().scheduler_running
        await _until("the scheduler after the outage", running)
        assert fake_exchange.faults.pending() == 0  # the whole outage was waited out

        async def reconciled() -> bool:  # its report reaches the console channel
            return "Reconciliation:" in console.getvalue()
        await _until("the reconciliation report", reconciled)
        before = len(fake_exchange.requests)
        await asyncio.sleep(0.5)  # the protection monitor and friends now talk to the venue
        assert len(fake_exchange.requests) > before

        async def ready() -> bool:
            return (await _ready(runtime))[0] == 200
        await _until("/ready after the outage", ready)
        _, body = await _ready(runtime)
        assert "last answer" in body["details"]["exchange"]  # type: ignore[index]
    finally:
        await lifecycle.stop()


async def test_ready_never_calls_the_venue(tmp_path: Path, fake_exchange: FakeExchange,
                                           fake_exchange_config: ExchangeConfig) -> None:
    runtime = await build_runtime(_settings(tmp_path, fake_exchange_config).model_copy(
        update={"scheduler": SchedulerConfig(monitor_interval_seconds=600, risk_interval_seconds=600)}),
        RunOptions(console=io.StringIO()))
    await runtime.lifecycle.start()
    try:
        signed_before = sum(1 for r in fake_exchange.requests if r in SIGNED)
        health = runtime.lifecycle._health
        assert health is not None
        url = f"http://127.0.0.1:{health.port}/ready"
        async with aiohttp.ClientSession() as http:
            async def probe() -> int:
                async with http.get(url) as resp:
                    return resp.status
            statuses = await asyncio.gather(*(probe() for _ in range(300)))
        assert set(statuses) == {200}
        signed_after = sum(1 for r in fake_exchange.requests if r in SIGNED)
        assert signed_after == signed_before, f"/ready made {signed_after - signed_before} venue call(s)"
    finally:
        await runtime.lifecycle.stop()
