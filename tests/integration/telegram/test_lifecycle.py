"""bot.py: lifecycle hooks around polling, headless mode without a token, alerts wired when a token is set."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

import bot
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import ADMIN, NO_LIMITS, running_bot, telegram_config
from tests.fakes.memory_services import MemoryState, memory_services
from trader.config.sections import TelegramConfig, TelegramUser
from trader.core.domain.alerts import Alert
from trader.ports.notify import Notifier
from trader.services.api import Services


@dataclass
class RecordingLifecycle:
    """Records start/stop and how many Bot API calls had happened at start."""

    fake: FakeBotApiCore | None = None
    events: list[str] = field(default_factory=list)
    calls_at_start: list[str] = field(default_factory=list)

    async def start(self) -> None:
        self.events.append("start")
        if self.fake is not None:
            self.calls_at_start = [c.method for c in self.fake.calls]

    async def stop(self) -> None:
        self.events.append("stop")


@dataclass
class RecordingRuntime:
    """A Runtime for bot.run: the service test double plus a recording lifecycle."""

    services: Services
    lifecycle: RecordingLifecycle
    notifiers: list[Notifier] = field(default_factory=list)
    retried: int = 0

    def use_telegram(self, notifier: Notifier) -> None:
        self.notifiers.append(notifier)

    def retry_alerts(self) -> None:
        self.retried += 1


async def test_engine_starts_after_commands_are_published_and_stops_after_polling(
    fake_botapi: FakeBotApiCore,
) -> None:
    lifecycle = RecordingLifecycle(fake_botapi)
    async with running_bot(fake_botapi, memory_services(MemoryState()), lifecycle=lifecycle) as harness:
        assert lifecycle.events == ["start"]
        assert lifecycle.calls_at_start[:2] == ["getMe", "setMyCommands"]
        await harness.send("/status")
    assert lifecycle.events == ["start", "stop"]


async def test_without_a_token_the_engine_runs_headless_and_explains_setup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = RecordingRuntime(memory_services(MemoryState()), RecordingLifecycle())
    stop = asyncio.Event()
    task = asyncio.create_task(bot.run(TelegramConfig(), runtime, stop))
    await asyncio.sleep(0.05)
    assert runtime.lifecycle.events == ["start"]
    stop.set()
    await asyncio.wait_for(task, 5)
    assert runtime.lifecycle.events == ["start", "stop"]
    assert not runtime.notifiers
    out = capsys.readouterr().out
    assert "TRADER_TELEGRAM__TOKEN" in out and "/whoami" in out and "TRADER_TELEGRAM__ALLOWED_CHATS" in out


async def test_with_a_token_alerts_are_routed_to_telegram(fake_botapi: FakeBotApiCore) -> None:
    runtime = RecordingRuntime(memory_services(MemoryState()), RecordingLifecycle())
    stop = asyncio.Event()
    task = asyncio.create_task(bot.run(telegram_config(fake_botapi), runtime, stop))
    await fake_botapi.next_call("deleteWebhook", within=10)
    (notifier,) = runtime.notifiers
    await notifier.send(Alert("entry", "bought BTC"))
    assert fake_botapi.sent("sendMessage")[-1].text.endswith("bought BTC")
    assert {c.chat_id for c in fake_botapi.sent("sendMessage")} >= {ADMIN}
    await fake_botapi.release_polls()
    stop.set()
    await asyncio.wait_for(task, 10)
    assert runtime.lifecycle.events == ["start", "stop"]


def test_build_application_refuses_a_missing_token() -> None:
    with pytest.raises(ValueError, match=r"needs telegram\.token"):
        bot.build_application(TelegramConfig(), memory_services(MemoryState()))


async def test_bot_starts_when_an_allow_listed_user_never_opened_the_chat(
    fake_botapi: FakeBotApiCore,
) -> None:
    allowed = (TelegramUser(id=ADMIN, role="admin"), TelegramUser(id=777, role="viewer"))
    services = memory_services(MemoryState())
    fake_botapi.known_chats.clear()
    app = bot.build_application(telegram_config(fake_botapi, allowed), services, limits=NO_LIMITS)
    fake_botapi.known_chats.add(ADMIN)
    stop = asyncio.Event()
    task = asyncio.create_task(bot.serve(app, stop, poll_timeout=1))
    await fake_botapi.next_call("deleteWebhook", within=10)
    scopes = [
        (c.params.get("scope") or {}).get("chat_id")
        for c in fake_botapi.calls
        if c.method == "setMyCommands" and c.status == 200
    ]
    assert scopes == [None, ADMIN]
    await fake_botapi.release_polls()
    stop.set()
    await asyncio.wait_for(task, 10)
