"""The fake Bot API itself: long polling, offsets, limits and errors the real API enforces."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot, BotCommandScopeChat
from telegram.error import BadRequest, EndPointNotFound, InvalidToken

from tests.fakes.fake_botapi import FakeBotApiCore


@pytest.fixture
async def plain_bot(fake_botapi: FakeBotApiCore) -> Bot:
    bot = Bot(fake_botapi.token, base_url=fake_botapi.base_url)
    await bot.initialize()
    yield bot
    await bot.shutdown()


async def test_get_updates_waits_for_its_timeout_then_returns_nothing(plain_bot: Bot) -> None:
    started = time.monotonic()
    assert await plain_bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_get_updates_wakes_on_an_injected_update_and_offset_confirms(
    fake_botapi: FakeBotApiCore, plain_bot: Bot
) -> None:
    poll = asyncio.create_task(plain_bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    fake_botapi.inject_message("/status BTC/USDT")
    (update,) = await asyncio.wait_for(poll, 2)
    assert update.message.text == "/status BTC/USDT"
    assert update.message.entities[0].type == "bot_command" and update.message.entities[0].length == 7
    assert len(await plain_bot.get_updates(timeout=0)) == 1  # not confirmed yet
    assert await plain_bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


async def test_limits_and_html_are_enforced(plain_bot: Bot) -> None:
    with pytest.raises(BadRequest, match="too long"):
        await plain_bot.send_message(42, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await plain_bot.send_message(42, "a < b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await plain_bot.send_message(42, "<b>open", parse_mode="HTML")
    sent = await plain_bot.send_message(42, "<b>ok</b> &amp; <code>1 &lt; 2</code>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="not modified"):
        await plain_bot.edit_message_text(
            "<b>ok</b> &amp; <code>1 &lt; 2</code>", 42, sent.message_id, parse_mode="HTML"
        )


async def test_uploads_are_recorded_with_their_bytes(fake_botapi: FakeBotApiCore, plain_bot: Bot) -> None:
    await plain_bot.send_document(42, b"a,b\n1,2\n", filename="x.csv", caption="report")
    (call,) = fake_botapi.sent("sendDocument")
    assert call.files["document"].content == b"a,b\n1,2\n" and call.files["document"].filename == "x.csv"
    assert call.text == "report"


async def test_wrong_token_and_unknown_method(fake_botapi: FakeBotApiCore) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake_botapi.base_url):
            pass
    async with Bot(fake_botapi.token, base_url=fake_botapi.base_url) as bot:
        with pytest.raises(EndPointNotFound, match="sendFakeThing"):
            await bot.do_api_request("sendFakeThing", api_kwargs={"chat_id": 42})


async def test_command_menus_are_kept_per_scope(fake_botapi: FakeBotApiCore, plain_bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await plain_bot.set_my_commands([("halt", "Halt")], scope=BotCommandScopeChat(42))
    fake_botapi.known_chats.add(42)
    await plain_bot.set_my_commands([("status", "Status")])
    await plain_bot.set_my_commands([("halt", "Halt")], scope=BotCommandScopeChat(42))
    assert [c.command for c in await plain_bot.get_my_commands()] == ["status"]
    assert [c.command for c in await plain_bot.get_my_commands(scope=BotCommandScopeChat(42))] == ["halt"]
