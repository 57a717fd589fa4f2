"""Trading and protection never depend on Telegram: with the Bot API unreachable, slow or rejecting the
token, the real runtime starts and trades, alerts wait in the outbox, /ready says Telegram is degraded,
and the bot connects in the background once the Bot API answers (the queued alerts then arrive)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

import bot
from tests.fakes.fake_botapi import FakeBotApiCore, FakeBotApiServer
from tests.fakes.fake_botapi.harness import ADMIN, telegram_config
from tests.fixtures.live_runtime import LiveRuntime, MakeRuntime
from trader.adapters.ops.secret_store import SecretStore, build_cipher, generate_key
from trader.adapters.store.sql.uow import Database
from trader.config import OpsConfig
from trader.config.sections import TelegramConfig
from trader.runtime.clock import SystemClock

FAST = bot.ConnectBackoff(first=0.1, cap=0.3)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until(what: str, check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not seen within {within}s")
        await asyncio.sleep(0.05)


async def _ready(live: LiveRuntime) -> tuple[int, dict[str, object]]:
    health = live.runtime.lifecycle._health
    assert health is not None
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{health.port}/ready") as resp:
        return resp.status, await resp.json()


async def _telegram_degraded(live: LiveRuntime) -> bool:
    """Return whether /ready lists Telegram as degraded; it never makes the service unready.

    (A bounded replay that ran out leaves the engine check failing, which is not what is tested.)
    """
    _, body = await _ready(live)
    assert "telegram" not in body.get("failing", [])  # type: ignore[operator]
    return "telegram" in body.get("degraded", {})  # type: ignore[operator]


async def _pending_alerts(live: LiveRuntime) -> int:
    async with live.uow() as uow:
        return len(await uow.alerts.pending(limit=1000))


@asynccontextmanager
async def _running(live: LiveRuntime, config: TelegramConfig) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(bot.run(config, live.runtime, stop, backoff=FAST))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def _replay_runtime(make_runtime: MakeRuntime) -> LiveRuntime:
    live = await make_runtime(ops=OpsConfig(health_port=0))
    lifecycle = live.runtime.lifecycle
    lifecycle.parts = replace(lifecycle.parts, max_candles=40)
    return live


async def test_unreachable_bot_api_the_engine_trades_alerts_queue_and_arrive_once_it_is_up(
        make_runtime: MakeRuntime) -> None:
    live = await _replay_runtime(make_runtime)
    port = _free_port()  # nobody listens: connection refused
    core = FakeBotApiCore()
    core.base_url = f"http://127.0.0.1:{port}/bot"
    async with _running(live, telegram_config(core)):
        await asyncio.wait_for(live.runtime.lifecycle.finished.wait(), 60)  # the replay ran to the end
        assert live.driver.fed == 40 and live.runtime.lifecycle.fatal is None
        assert await _telegram_degraded(live)
        queued = await _pending_alerts(live)
        assert queued > 0, "the replay should have queued trade alerts"
        server = FakeBotApiServer(core, port)  # the Bot API comes back
        core.known_chats.add(ADMIN)
        await server.start()
        try:
            async def delivered() -> bool:
                return await _pending_alerts(live) == 0
            await _until("the queued alerts delivered", delivered)
            assert any(c.chat_id == ADMIN for c in core.sent("sendMessage"))

            async def recovered() -> bool:  # /ready reuses one run of its checks for 0.5 s
                return not await _telegram_degraded(live)
            await _until("Telegram no longer degraded on /ready", recovered)
        finally:
            await core.release_polls()
    await server.stop()


async def test_a_slow_bot_api_does_not_hold_the_engine_back(make_runtime: MakeRuntime,
                                                             fake_botapi: FakeBotApiCore) -> None:
    live = await _replay_runtime(make_runtime)
    fake_botapi.delays["getMe"] = 30.0  # longer than PTB's read timeout: every attempt times out
    async with _running(live, telegram_config(fake_botapi)):
        await asyncio.wait_for(live.runtime.lifecycle.finished.wait(), 60)
        assert live.driver.fed == 40 and live.runtime.lifecycle.fatal is None
        assert await _telegram_degraded(live)


async def test_a_rejected_token_keeps_the_service_up_and_never_prints_the_token(
        make_runtime: MakeRuntime, fake_botapi: FakeBotApiCore, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    planted = "5550001:planted-rejected-TOKEN-value"  # not the fake's token: it answers 401
    config = telegram_config(fake_botapi).model_copy(update={"token": SecretStr(planted)})
    live = await make_runtime(ops=OpsConfig(health_port=0), telegram=config)
    live.runtime.lifecycle.parts = replace(live.runtime.lifecycle.parts, max_candles=40)
    caplog.set_level(logging.WARNING)

    async def rejected() -> bool:
        return any("InvalidToken" in r.getMessage() for r in caplog.records)
    async with _running(live, live.runtime.telegram):
        await asyncio.wait_for(live.runtime.lifecycle.finished.wait(), 60)
        assert live.driver.fed == 40 and live.runtime.lifecycle.fatal is None
        await _until("a rejected attempt", rejected)
        assert await _telegram_degraded(live)
    out = capsys.readouterr()
    assert "was rejected" in caplog.text
    assert planted not in out.out + out.err + caplog.text


async def test_a_rejected_token_stored_encrypted_is_never_printed_either(
        make_runtime: MakeRuntime, fake_botapi: FakeBotApiCore, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    planted = "5550002:planted-ENCRYPTED-token-value"  # known only after the secret store is decrypted
    key = generate_key()
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'trader.db'}")  # make_runtime's database
    try:
        await SecretStore(db.uow_factory, build_cipher([key]), SystemClock()).set("telegram.token", planted)
    finally:
        await db.dispose()
    config = telegram_config(fake_botapi).model_copy(update={"token": None})
    live = await make_runtime(ops=OpsConfig(health_port=0, secrets_key=SecretStr(key)), telegram=config)
    assert live.runtime.telegram.token is not None  # overlaid from the store
    live.runtime.lifecycle.parts = replace(live.runtime.lifecycle.parts, max_candles=20)
    caplog.set_level(logging.WARNING)

    async def rejected() -> bool:
        return any("InvalidToken" in r.getMessage() for r in caplog.records)
    async with _running(live, live.runtime.telegram):
        await _until("a rejected attempt", rejected)
        await asyncio.wait_for(live.runtime.lifecycle.finished.wait(), 60)
        assert live.runtime.lifecycle.fatal is None
    out = capsys.readouterr()
    assert "was rejected" in caplog.text and "[REDACTED]" in caplog.text
    assert planted not in out.out + out.err + caplog.text
