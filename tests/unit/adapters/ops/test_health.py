"""Health server over real HTTP on 127.0.0.1: liveness, readiness checks, Prometheus metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from trader.adapters.ops.health import (
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    HealthServer,
    Metrics,
    database_check,
)
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.config import OpsConfig


@pytest.fixture
async def server() -> AsyncIterator[HealthServer]:
    srv = HealthServer(OpsConfig(health_port=0), Metrics(), check_timeout=0.2)
    await srv.start()
    yield srv
    await srv.stop()


async def _get(srv: HealthServer, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{srv.port}{path}") as resp:
        return resp.status, resp.headers["Content-Type"], await resp.text()


async def _get_json(srv: HealthServer, path: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{srv.port}{path}") as resp:
        return resp.status, await resp.json()


async def test_health_answers_ok_while_process_alive(server: HealthServer) -> None:
    status, body = await _get_json(server, HEALTH_PATH)
    assert status == 200
    assert body["status"] == "ok"


async def test_ready_with_all_checks_passing_is_200(server: HealthServer) -> None:
    async def ok() -> bool:
        return True

    async def ok_none() -> None:
        return None

    server.add_check("database", ok)
    server.add_check("scheduler", ok_none)
    status, body = await _get_json(server, READY_PATH)
    assert status == 200
    assert body == {"status": "ready", "checks": ["database", "scheduler"]}


async def test_ready_names_every_failing_check_with_503(server: HealthServer) -> None:
    async def ok() -> bool:
        return True

    async def db_down() -> bool:
        raise ConnectionRefusedError("postgres://user:pw@db refused")

    async def telegram_disconnected() -> bool:
        return False

    async def exchange_hangs() -> bool:
        await asyncio.sleep(5)
        return True

    server.add_check("database", db_down)
    server.add_check("telegram", telegram_disconnected)
    server.add_check("exchange", exchange_hangs)
    server.add_check("scheduler", ok)
    status, body = await _get_json(server, READY_PATH)
    assert status == 503
    assert body["failing"] == ["database", "exchange", "telegram"]
    assert body["reasons"] == {
        "database": "ConnectionRefusedError", "telegram": "not ready", "exchange": "timeout"
    }
    assert "pw@db" not in str(body)  # connection details stay in the (redacted) log


async def test_removed_check_no_longer_blocks_readiness(server: HealthServer) -> None:
    async def down() -> bool:
        return False

    server.add_check("telegram", down)
    assert (await _get_json(server, READY_PATH))[0] == 503
    server.remove_check("telegram")
    assert (await _get_json(server, READY_PATH))[0] == 200


async def test_metrics_expose_engine_updates_in_prometheus_format(server: HealthServer) -> None:
    metrics = server.metrics
    metrics.set_open_positions(3)
    metrics.set_equity(Decimal("10250.75"))
    metrics.order_placed()
    metrics.order_placed()
    metrics.order_failed()
    metrics.observe_tick(0.03)
    metrics.observe_tick(2.0)
    metrics.set_alerts_pending(4)

    status, content_type, text = await _get(server, METRICS_PATH)
    assert status == 200
    assert content_type.startswith("text/plain")
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.labels
    }
    assert samples["trader_open_positions"] == 3
    assert samples["trader_equity"] == 10250.75
    assert samples["trader_orders_placed_total"] == 2
    assert samples["trader_orders_failed_total"] == 1
    assert samples["trader_tick_latency_seconds_count"] == 2
    assert samples["trader_tick_latency_seconds_sum"] == pytest.approx(2.03)
    assert samples["trader_alerts_pending"] == 4
    assert "python_gc_objects_collected_total" not in text  # own registry, not the global one


async def test_two_metrics_objects_do_not_share_state() -> None:
    a, b = Metrics(), Metrics()
    a.order_placed()
    assert b"trader_orders_placed_total 1.0" in a.render()
    assert b"trader_orders_placed_total 0.0" in b.render()


async def test_stop_releases_the_port() -> None:
    srv = HealthServer(OpsConfig(health_port=0), Metrics())
    await srv.start()
    port = srv.port
    await srv.stop()
    with pytest.raises(RuntimeError):
        _ = srv.port
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectorError):
            await http.get(f"http://127.0.0.1:{port}{HEALTH_PATH}")


async def test_server_binds_loopback_by_default() -> None:
    assert OpsConfig().health_host == "127.0.0.1"
    srv = HealthServer(OpsConfig(health_port=0), Metrics())
    await srv.start()
    try:
        assert srv.address[0] == "127.0.0.1"
    finally:
        await srv.stop()


async def test_database_check_passes_on_a_migrated_store_and_fails_without_schema(tmp_path: Path) -> None:
    good_url = f"sqlite+aiosqlite:///{tmp_path / 'good.db'}"
    await upgrade_async(good_url)
    good = Database.from_url(good_url)
    empty = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    srv = HealthServer(OpsConfig(health_port=0), Metrics())
    srv.add_check("database", database_check(good.uow))
    await srv.start()
    try:
        assert (await _get_json(srv, READY_PATH))[0] == 200
        srv.add_check("database", database_check(empty.uow))
        status, body = await _get_json(srv, READY_PATH)
        assert status == 503
        assert body["failing"] == ["database"]
    finally:
        await srv.stop()
        await good.dispose()
        await empty.dispose()
