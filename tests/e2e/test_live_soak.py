"""Soak: the real live runtime (container, lifecycle, scheduler, ccxt) restarted again and again against
the fake venue, with faults injected at start-up and while running.

Each cycle: a fresh "process" over the same SQLite file and venue; the venue is down for a varying
number of requests when it starts (start-up must wait, never fail); once the scheduler runs, the
venue refuses the equity job's account reads for a while (one fault episode), an entry is forced
through a dropped answer once (later starts reconcile the open position and its stop), and the
episode must close before the next restart.

Done means: every start succeeded, no client order id accepted twice by the venue, every venue fill
stored exactly once, and the alert outbox holds one grouped fault alert (and one recovery note) per
running-fault episode.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from tests.fixtures.venue_accounts import service_settings
from trader.config import BreakerConfig, ExchangeConfig, SchedulerConfig, Settings
from trader.core.domain.enums import Direction
from trader.live.fault_alerts import CLEARED_KIND, FAULT_KIND
from trader.runtime.container import RunOptions, build_runtime

pytestmark = pytest.mark.slow

CYCLES = 6
ACCOUNT = "GET /api/v3/account"
PLACE = "POST /api/v3/order"


def _settings(tmp_path: Path, exchange: ExchangeConfig) -> Settings:
    return service_settings(
        tmp_path, "soak.db", console=True,
        exchange=exchange.model_copy(update={"max_retries": 1, "pairs": ("BTC/USDT",)}),
        scheduler=SchedulerConfig(monitor_interval_seconds=0.2, risk_interval_seconds=0.3,
                                  venue_retry_seconds=0.05, venue_retry_max_seconds=0.3,
                                  fault_quiet_seconds=0.6, fault_alert_interval_seconds=0),
        # the fault-episode path under test here; the venue breaker's outages: tests/e2e/test_venue_breaker.py
        breaker=BreakerConfig(enabled=False))


def _count(tmp_path: Path, kind: str) -> int:
    """Return how many alerts of ``kind`` the outbox holds, delivered or not."""
    with sqlite3.connect(tmp_path / "soak.db") as conn:
        return int(conn.execute("SELECT count(*) FROM alert_outbox WHERE kind = ?", (kind,)).fetchone()[0])


async def _until(what: str, check: Callable[[], Awaitable[bool]] | Callable[[], bool],
                 within: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        done = check()
        if isinstance(done, Awaitable):
            done = await done
        if done:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.02)


async def _one_start(cycle: int, settings: Settings, fake: FakeExchange, tmp_path: Path) -> None:
    """One "process": start under a venue outage, one running-fault episode, stop."""
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    lifecycle = runtime.lifecycle
    fake.inject(Fault(FaultKind.SERVER_ERROR, times=2 * cycle + 1))  # the venue is down at start-up
    await lifecycle.start()
    try:
        await _until("the scheduler", lambda: lifecycle.facts().scheduler_running or lifecycle.fatal)
        assert lifecycle.fatal is None, lifecycle.fatal
        assert fake.faults.pending() == 0
        if cycle == 1:  # an entry whose order answer is lost: looked up by client id, never sent twice
            fired = len(fake.faults.fired)
            fake.inject(Fault(FaultKind.DROP_AFTER_ACCEPT, route=PLACE))
            result = await lifecycle.parts.engine.trading.force_entry("BTC/USDT", Direction.LONG,
                                                                      Decimal("0.01"), "breakout")
            assert result.ok, result
            assert (PLACE, FaultKind.DROP_AFTER_ACCEPT) in fake.faults.fired[fired:]
        faults = lifecycle.parts.faults
        assert faults is not None
        fake.inject(Fault(FaultKind.SERVER_ERROR, route=ACCOUNT, times=8))  # while running
        await _until("the fault episode", lambda: faults.episode is not None)
        await _until("the faults used up", lambda: fake.faults.pending() == 0)
        await _until("the episode closed", lambda: faults.episode is None)
        await _until("its recovery note", lambda: _count(tmp_path, CLEARED_KIND) == cycle + 1)
    finally:
        await lifecycle.stop()


async def test_live_restarts_under_faults_start_every_time_lose_nothing_and_alert_once_per_episode(
        tmp_path: Path, fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig) -> None:
    settings = _settings(tmp_path, fake_exchange_config)
    fake_exchange.venue.now_ms = int(time.time() * 1000)  # the live engine runs on the system clock
    starts = episodes = 0
    for cycle in range(CYCLES):
        await _one_start(cycle, settings, fake_exchange, tmp_path)  # raises unless the start succeeded
        starts += 1
        episodes += 1

    assert starts == CYCLES
    accepted = Counter(e.client_id for e in fake_exchange.venue.accepted())
    assert accepted and all(n == 1 for n in accepted.values()), f"duplicate orders: {accepted}"
    assert _count(tmp_path, FAULT_KIND) == episodes and _count(tmp_path, CLEARED_KIND) == episodes
    from trader.adapters.store.sql.uow import Database

    db = Database.from_url(settings.database.url)
    try:
        async with db.uow() as uow:
            fills = await uow.fills.since(datetime(1970, 1, 1, tzinfo=UTC))
    finally:
        await db.dispose()
    stored = Counter(f.trade_id for f in fills)
    venue = Counter(e.detail["trade_id"] for e in fake_exchange.venue.fills())
    assert stored == venue, f"lost or doubled fills: stored {stored}, venue {venue}"
