"""``bot.run`` with the real runtime: lifecycle hooks start the replay, and trade alerts reach Telegram."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import bot
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import ADMIN, telegram_config
from tests.fixtures.live_runtime import MakeRuntime


async def test_entry_alert_is_delivered_to_the_admin_chat_and_shutdown_stops_the_engine(
        fake_botapi: FakeBotApiCore, make_runtime: MakeRuntime) -> None:
    live = await make_runtime()
    lifecycle = live.runtime.lifecycle
    lifecycle.parts = replace(lifecycle.parts, max_candles=12)
    config = telegram_config(fake_botapi)
    stop = asyncio.Event()
    task = asyncio.create_task(bot.run(config, live.runtime, stop))
    try:
        text = ""
        for _ in range(200):
            call = await fake_botapi.next_call("sendMessage", within=15)
            if call.chat_id == ADMIN and "Opened long" in call.text:
                text = call.text
                break
        assert "Opened long" in text and "[breakout]" in text
        await asyncio.wait_for(lifecycle.finished.wait(), 30)
        assert live.driver.fed == 12
    finally:
        await fake_botapi.release_polls()
        stop.set()
        await asyncio.wait_for(task, 20)
    assert lifecycle._scheduler is None and not lifecycle._tasks  # stopped by post_shutdown
