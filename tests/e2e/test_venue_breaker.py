"""Outage: the venue stops answering for a while under the real service (container, lifecycle, scheduler,
ccxt against the fake Binance venue, PTB against the fake Bot API, /health and the REST API served).

A manual long is bought; its stop cannot be placed, then the venue stops answering altogether. Done
means: exactly one "venue down" alert reaches the chat, /buy is refused with the breaker's reason,
/health (Telegram, ops and REST) shows the breaker open and since when, the stop placement is retried
with backoff (and the unprotected position is alarmed once); when the venue answers again exactly one
"venue back" alert arrives, the stop rests on the venue and /buy goes through again. No fault alert:
the breaker owns venue outages, so nothing else is sent for the failures while it was open.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

import bot
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.core import BotCall
from tests.fakes.fake_botapi.harness import ADMIN, telegram_config
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from tests.fixtures.venue_accounts import service_settings
from trader.adapters.store.sql.uow import Database
from trader.config import BreakerConfig, ExchangeConfig, Settings
from trader.core.domain.commands import PlaceOrder
from trader.core.domain.enums import OrderPurpose, OrderStatus
from trader.core.risk.breaker import BreakerState
from trader.live.fault_alerts import FAULT_KIND
from trader.live.venue_breaker import BACK_KIND, DOWN_KIND, VenueBreaker
from trader.runtime.clock import SystemClock
from trader.runtime.container import RunOptions, Runtime, build_runtime
from trader.services.api_tokens import ApiTokenService
from trader.services.audit import AuditService
from trader.services.dto import Role

pytestmark = pytest.mark.slow

PLACE = "POST /api/v3/order"
LOOKUP = "GET /api/v3/order"
CONFIRM = "✅ Confirm"
DOWN_TEXT = "Venue binance down"
BACK_TEXT = "Venue binance back"


def _settings(tmp_path: Path, exchange: ExchangeConfig) -> Settings:
    return service_settings(
        tmp_path, "outage.db",
        exchange=exchange.model_copy(update={"max_retries": 0, "timeout_seconds": 1.0}),
        breaker=BreakerConfig(failures=3, open_seconds=1.0, probe_seconds=0.2, probes_to_close=2,
                              retry_seconds=0.2, retry_max_seconds=0.8))


async def _until(what: str, check: Callable[[], Awaitable[bool] | bool], within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        done = check()
        if not isinstance(done, bool):
            done = await done
        if done:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.05)


class Chat:
    """The admin's chat with the running bot: send commands, press buttons, read what arrived."""

    def __init__(self, fake: FakeBotApiCore) -> None:
        self.fake = fake

    def messages(self) -> list[BotCall]:
        return [c for c in self.fake.sent() if c.chat_id == ADMIN]

    def count(self, text: str) -> int:
        return sum(1 for c in self.messages() if text in c.shown)

    async def _reply(self, before: int, expect: str) -> BotCall:
        found: list[BotCall] = []

        def arrived() -> bool:
            found[:] = [c for c in self.messages()[before:]
                        if expect in c.shown or expect in [label for label, _ in c.buttons]]
            return bool(found)
        await _until(f"a reply with {expect!r}", arrived, within=15)
        return found[0]

    async def ask(self, text: str, expect: str) -> BotCall:
        before = len(self.messages())
        self.fake.inject_message(text, chat_id=ADMIN)
        return await self._reply(before, expect)

    async def press(self, call: BotCall, label: str, expect: str) -> BotCall:
        before = len(self.messages())
        self.fake.press_button(call, label)
        return await self._reply(before, expect)


@asynccontextmanager
async def _service(runtime: Runtime, fake: FakeBotApiCore) -> AsyncIterator[int]:
    """Run ``bot.run`` (engine, HTTP server, Telegram) and yield the HTTP port once trading runs."""
    stop = asyncio.Event()
    task = asyncio.create_task(bot.run(telegram_config(fake), runtime, stop))

    def up() -> bool:
        if task.done():
            task.result()
        return runtime.lifecycle._health is not None and runtime.lifecycle.facts().scheduler_running
    try:
        await _until("the service", up, within=30)
        assert runtime.lifecycle._health is not None
        yield runtime.lifecycle._health.port
    finally:
        stop.set()
        await fake.release_polls()
        await asyncio.wait_for(task, 30)


async def _json(client: httpx.AsyncClient, url: str, **headers: str) -> tuple[int, Any]:
    resp = await client.get(url, headers=headers)
    return resp.status_code, resp.json()


async def _viewer_token(db: Database) -> str:
    clock = SystemClock()
    tokens = ApiTokenService(db.uow, clock, AuditService(db.uow, clock))
    return (await tokens.create("outage-test", Role.VIEWER, "test")).token


async def _stop_rests(db: Database) -> bool:
    async with db.uow() as uow:
        records = await uow.orders.open()
    return any(r.purpose is OrderPurpose.STOP and r.status is OrderStatus.OPEN for r in records)


def _kinds(path: Path) -> list[str]:
    """Return the kind of every alert the outbox ever held, delivered or not."""
    with sqlite3.connect(path) as conn:
        return [str(k) for (k,) in conn.execute("SELECT kind FROM alert_outbox")]


async def test_an_outage_opens_the_breaker_once_refuses_entries_retries_protection_and_closes_once(
        tmp_path: Path, fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig,
        fake_botapi: FakeBotApiCore) -> None:
    fake_exchange.venue.now_ms = int(time.time() * 1000)  # the live engine runs on the system clock
    settings = _settings(tmp_path, fake_exchange_config)
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    breaker = runtime.lifecycle.parts.breaker
    assert isinstance(breaker, VenueBreaker)
    chat = Chat(fake_botapi)
    db = Database.from_url(settings.database.url)
    try:
        async with _service(runtime, fake_botapi) as port, httpx.AsyncClient(timeout=10) as http:
            base = f"http://127.0.0.1:{port}"
            token = await _viewer_token(db)
            question = await chat.ask("/buy BTC/USDT 0.01", CONFIRM)
            # the entry goes through; its stop placement, and then every call, get no answer
            fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, route=PLACE, after=1, times=10**6))
            fake_exchange.faults.fired.clear()
            fake_botapi.press_button(question, CONFIRM)
            await _until("the stop's failed placement", lambda: (PLACE, FaultKind.SERVER_ERROR)
                         in fake_exchange.faults.fired)
            fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, times=10**6))  # the whole venue is down

            await _until("the venue-down alert", lambda: chat.count(DOWN_TEXT) == 1)
            refused = await chat.ask("/buy ETH/USDT 0.05", "Cannot buy")
            assert "venue_down: venue binance is down since" in refused.shown, refused.shown
            assert refused.buttons == []
            runner = runtime.lifecycle.parts.engine.trading.runner  # strategy ticks and webhook signals:
            assert runner.config("breakout", {}).venue_down.startswith("venue binance is down since")  # step
            health = await chat.ask("/health", "venue breaker")
            assert "entries paused" in health.shown and "venue down since" in health.shown, health.shown
            status, ops = await _json(http, f"{base}/health")
            assert status == 200 and ops["venue_breaker"]["state"] in ("open", "half_open")
            assert ops["venue_breaker"]["down_since"] is not None
            status, ready = await _json(http, f"{base}/ready")
            assert status == 503 and "breaker" in ready["reasons"]["exchange"]
            status, api = await _json(http, f"{base}/api/v1/health", Authorization=f"Bearer {token}")
            assert status == 200 and api["venue_breaker"] in ("open", "half_open") and api["venue_since"]
            assert api["exchange_ok"] is False

            # protection: the stop placement is retried with backoff, the naked position alarmed once
            # (an unknown outcome is first looked up by its client id, then sent again with the same id)
            await _until("the stop retried", lambda: breaker.retries >= 3
                         and fake_exchange.faults.fired.count((LOOKUP, FaultKind.SERVER_ERROR)) >= 3)
            waiting = (await runtime.lifecycle.parts.engine.trading.runner.snapshot()).outbox
            assert [c.request.purpose for c in waiting if isinstance(c, PlaceOrder)] == [OrderPurpose.STOP]
            assert len(waiting) == 1
            await _until("the unprotected alarm", lambda: chat.count("UNPROTECTED") == 1)
            assert not await _stop_rests(db)
            assert chat.count(DOWN_TEXT) == 1  # many failures while open, still one alert

            def reopened() -> bool:  # a half-open probe got no answer: open again, the same outage
                state = breaker.state
                return state.state is BreakerState.OPEN and state.since != state.down_since
            await _until("a failed probe", reopened)
            assert chat.count(DOWN_TEXT) == 1
            fake_exchange.faults.clear()  # the venue answers again
            await _until("the venue-back alert", lambda: chat.count(BACK_TEXT) == 1)
            await _until("the stop resting on the venue", lambda: _stop_rests(db))
            health = await chat.ask("/health", "venue breaker")
            assert "venue breaker closed" in health.shown and "entries paused" not in health.shown
            status, ops = await _json(http, f"{base}/health")
            assert ops["venue_breaker"]["state"] == "closed"

            assert runner.config("breakout", {}).venue_down == ""
            again = await chat.ask("/buy ETH/USDT 0.05", CONFIRM)  # entries resume by themselves
            done = await chat.press(again, CONFIRM, "Buying")
            assert "ETH/USDT" in done.shown
            await asyncio.sleep(0.5)  # a few more monitor and breaker runs: nothing more to say
            assert (chat.count(DOWN_TEXT), chat.count(BACK_TEXT), chat.count("UNPROTECTED")) == (1, 1, 1)
        kinds = _kinds(tmp_path / "outage.db")
        assert kinds.count(DOWN_KIND) == 1 and kinds.count(BACK_KIND) == 1 and FAULT_KIND not in kinds
    finally:
        await db.dispose()
