"""Run the real bot (bot.build_application + bot.serve) against the fake Bot API and talk to it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import SecretStr

import bot
from handlers.context import BotApplication
from tests.fakes.fake_botapi.core import SENDING, BotCall, FakeBotApiCore
from tests.fakes.fake_botapi.server import CoreRequest
from trader.config.sections import TelegramConfig, TelegramUser
from trader.services.api import Services

ADMIN, TRADER, VIEWER, STRANGER, GROUP = 42, 43, 44, 666, -100200300
ALLOWED = (TelegramUser(id=ADMIN, role="admin"), TelegramUser(id=TRADER, role="trader"),
           TelegramUser(id=VIEWER, role="viewer"), TelegramUser(id=GROUP, role="admin"))
NO_LIMITS = bot.RateLimits(overall_per_second=0, group_per_minute=0, max_retries=3)


@dataclass
class ManualClock:
    """Monotonic seconds a test moves by hand (expires buttons without sleeping)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class BotHarness:
    """Send commands and button presses as users; return what the bot sent back."""

    def __init__(self, fake: FakeBotApiCore, app: BotApplication, clock: ManualClock) -> None:
        self.fake, self.app, self.clock = fake, app, clock

    async def send(self, text: str, *, chat_id: int = ADMIN, user_id: int | None = None,
                   chat_type: str = "private", within: float = 5.0) -> BotCall:
        """Send ``text`` as a user and return the bot's first reply."""
        self.fake.skip_pending()
        self.fake.inject_message(text, chat_id=chat_id, user_id=user_id, chat_type=chat_type)
        return await self.fake.next_call(within=within, chat_id=chat_id)

    async def press(self, call: BotCall, label: str, *, user_id: int | None = None,
                    within: float = 5.0) -> BotCall:
        """Press button ``label`` on message ``call`` and return the bot's next send or edit."""
        self.fake.skip_pending()
        self.fake.press_button(call, label, user_id=user_id)
        return await self.fake.next_call(within=within)

    async def silence(self, seconds: float = 0.3) -> None:
        """Assert the bot sends nothing for ``seconds``."""
        try:
            call = await self.fake.next_call(within=seconds)
        except AssertionError:
            return
        raise AssertionError(f"expected silence, the bot sent {call.method}: {call.text!r}")


def telegram_config(fake: FakeBotApiCore, allowed: tuple[TelegramUser, ...] = ALLOWED) -> TelegramConfig:
    """Return a TelegramConfig pointing at the fake."""
    return TelegramConfig(token=SecretStr(fake.token), allowed_chats=allowed,
                          api_base_url=fake.base_url or "http://in-process/bot")


@contextlib.asynccontextmanager
async def running_bot(fake: FakeBotApiCore, services: Services, *,
                      allowed: tuple[TelegramUser, ...] = ALLOWED, in_process: bool = False,
                      lifecycle: bot.Lifecycle | None = None,
                      limits: bot.RateLimits = NO_LIMITS,
                      dashboard_url: str | None = None,
                      totp_secret: str | None = None) -> AsyncIterator[BotHarness]:
    """Build the application like production does, serve it until the block ends."""
    fake.known_chats.update(u.id for u in allowed)  # allow-listed users have talked to the bot before
    request = CoreRequest(fake) if in_process else None
    config = telegram_config(fake, allowed)
    if totp_secret is not None:
        config = config.model_copy(update={"admin_totp_secret": SecretStr(totp_secret)})
    app = bot.build_application(config, services, lifecycle, limits=limits, request=request,
                                dashboard_url=dashboard_url)
    clock = ManualClock()
    app.bot_data.clock = clock
    stop = asyncio.Event()
    task = asyncio.create_task(bot.serve(app, stop, poll_timeout=1))
    try:
        await fake.next_call("deleteWebhook", within=10)  # polling has started
        yield BotHarness(fake, app, clock)
    finally:
        await fake.release_polls()
        stop.set()
        await asyncio.wait_for(task, 15)


__all__ = ["ADMIN", "ALLOWED", "GROUP", "SENDING", "STRANGER", "TRADER", "VIEWER", "BotHarness",
           "ManualClock", "running_bot", "telegram_config"]
