"""TelegramNotifier through PTB's Bot and AIORateLimiter against the fake Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import RetryAfter

import bot
from handlers.context import BotApplication
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import ADMIN, VIEWER, telegram_config
from tests.fakes.memory_services import MemoryState, memory_services, render_png
from trader.adapters.notify.telegram_channel import TelegramNotifier, split_text
from trader.core.domain.alerts import Alert, Severity


@pytest.fixture
async def production_app(fake_botapi: FakeBotApiCore) -> AsyncIterator[BotApplication]:
    """The application with production rate limits (30/s, 3 retries), initialised, not polling."""
    app = bot.build_application(telegram_config(fake_botapi), memory_services(MemoryState()))
    async with app:
        yield app


async def test_alerts_arrive_in_order_after_a_429(
    fake_botapi: FakeBotApiCore, production_app: BotApplication
) -> None:
    notifier = TelegramNotifier(production_app.bot, [ADMIN])
    fake_botapi.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    for i in range(1, 4):
        await notifier.send(Alert("entry", f"alert {i}"))
    elapsed = time.monotonic() - started
    failed = [c for c in fake_botapi.calls if c.method == "sendMessage" and c.status == 429]
    assert len(failed) == 1 and failed[0].text.endswith("alert 1")
    assert [c.text.splitlines()[-1] for c in fake_botapi.sent("sendMessage")] == [
        "alert 1",
        "alert 2",
        "alert 3",
    ]
    assert elapsed >= 1.0  # the rate limiter waited retry_after before retrying


async def test_without_the_rate_limiter_a_429_is_raised_for_the_outbox_to_retry(
    fake_botapi: FakeBotApiCore,
) -> None:
    plain = Bot(fake_botapi.token, base_url=fake_botapi.base_url)
    async with plain:
        fake_botapi.fail_next("sendMessage", 429, retry_after=7)
        with pytest.raises(RetryAfter) as raised:
            await TelegramNotifier(plain, [ADMIN]).send(Alert("exit", "closed"))
    assert raised.value.retry_after in (7, timedelta(seconds=7))
    assert not fake_botapi.sent("sendMessage")


async def test_long_alert_is_split_under_the_limit_in_order(
    fake_botapi: FakeBotApiCore, production_app: BotApplication
) -> None:
    body = "\n".join(f"line {i:05d} " + "x" * 60 for i in range(300))
    await TelegramNotifier(production_app.bot, [ADMIN, VIEWER]).send(Alert("summary", body))
    to_admin = [c.text for c in fake_botapi.sent("sendMessage") if c.chat_id == ADMIN]
    assert len(to_admin) >= 5 and all(len(t) <= 4096 for t in to_admin)
    assert "\n".join(to_admin).count("line ") == 300
    assert len(fake_botapi.sent("sendMessage")) == 2 * len(to_admin)


async def test_alert_with_image_is_sent_as_a_photo_with_caption(
    fake_botapi: FakeBotApiCore, production_app: BotApplication
) -> None:
    png = render_png("equity", [1.0, 2.0, 1.5])
    await TelegramNotifier(production_app.bot, [ADMIN]).send(
        Alert("exit", "closed +2%", Severity.WARNING, png)
    )
    (photo,) = fake_botapi.sent("sendPhoto")
    assert photo.files["photo"].content == png and "closed +2%" in photo.text
    assert not fake_botapi.sent("sendMessage")


def test_split_text_prefers_line_breaks_and_hard_cuts_long_lines() -> None:
    assert split_text("short") == ["short"]
    parts = split_text("a" * 5000)
    assert [len(p) for p in parts] == [4096, 904]
    assert split_text("x" * 10 + "\n" + "y" * 10, limit=12) == ["x" * 10, "y" * 10]


def test_notifier_needs_a_chat() -> None:
    with pytest.raises(ValueError, match="at least one chat id"):
        TelegramNotifier(Bot("1:x"), [])


async def test_retry_after_a_failure_on_the_second_chat_skips_the_first(
    fake_botapi: FakeBotApiCore,
) -> None:
    class FailSecondChatOnce(Bot):
        armed = True

        async def send_message(self, chat_id, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            if chat_id == VIEWER and self.armed:  # the fake answers this request with a real 429
                type(self).armed = False
                fake_botapi.fail_next("sendMessage", 429, retry_after=1)
            return await super().send_message(chat_id, *args, **kwargs)

    plain = FailSecondChatOnce(fake_botapi.token, base_url=fake_botapi.base_url)
    async with plain:
        notifier = TelegramNotifier(plain, [ADMIN, VIEWER])
        with pytest.raises(RetryAfter):
            await notifier.send(Alert("exit", "closed"))
        await notifier.send(Alert("exit", "closed"))  # the outbox's retry
    texts = [(c.chat_id, c.text.splitlines()[-1]) for c in fake_botapi.sent("sendMessage")]
    assert texts.count((ADMIN, "closed")) == 1 and texts.count((VIEWER, "closed")) == 1


async def test_a_429_holds_every_send_for_its_retry_after_even_after_another_request_finishes(
    fake_botapi: FakeBotApiCore, production_app: BotApplication
) -> None:
    notifier = TelegramNotifier(production_app.bot, [ADMIN])
    fake_botapi.delays["sendPhoto"] = 0.3  # a chart upload still in flight when the 429 comes
    fake_botapi.fail_next("sendMessage", 429, retry_after=1)
    chart = asyncio.create_task(production_app.bot.send_photo(ADMIN, render_png("equity", [1.0, 1.1])))
    await asyncio.sleep(0.05)
    limited = asyncio.create_task(notifier.send(Alert("exit", "Closed BTC/USDT")))  # gets the 429
    await asyncio.sleep(0.5)  # the chart went through meanwhile (PTB's limiter then let everything go)
    await notifier.send(Alert("entry", "Opened ETH/USDT"))
    await asyncio.gather(chart, limited)
    [too_many] = [c for c in fake_botapi.calls if c.status == 429]
    later = [c for c in fake_botapi.sent("sendMessage") if c.at > too_many.at]
    assert sorted(c.text.splitlines()[-1] for c in later) == ["Closed BTC/USDT", "Opened ETH/USDT"]
    assert all(c.at - too_many.at >= 1.0 for c in later), [c.at - too_many.at for c in later]


async def test_a_429_that_outlasts_the_retries_still_holds_the_next_sends(
        fake_botapi: FakeBotApiCore) -> None:
    app = bot.build_application(telegram_config(fake_botapi), memory_services(MemoryState()),
                                limits=bot.RateLimits(max_retries=0))
    async with app:
        fake_botapi.fail_next("sendMessage", 429, retry_after=1)
        with pytest.raises(RetryAfter):  # no retries left: the alert outbox will retry it later
            await TelegramNotifier(app.bot, [ADMIN]).send(Alert("exit", "closed"))
        [too_many] = [c for c in fake_botapi.calls if c.status == 429]
        await app.bot.send_message(ADMIN, "a reply")
        [reply] = fake_botapi.sent("sendMessage")
        assert reply.at - too_many.at >= 1.0
