"""A replay says "replay demo" wherever the mode shows: replies, /config, the start-up banner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import BotHarness, running_bot
from tests.fixtures.live_runtime import LiveRuntime, MakeRuntime
from trader.config import ExchangeConfig, OpsConfig, Settings
from trader.runtime.container import replay_settings


@pytest.fixture
async def replaying(fake_botapi: FakeBotApiCore, make_runtime: MakeRuntime
                    ) -> AsyncIterator[tuple[BotHarness, LiveRuntime]]:
    live = await make_runtime()
    async with running_bot(fake_botapi, live.runtime.services) as harness:
        yield harness, live


async def test_replies_config_and_banner_say_replay_demo(replaying: tuple[BotHarness, LiveRuntime]) -> None:
    bot, live = replaying
    for command in ("/status", "/balance", "/health", "/version"):
        shown = (await bot.send(command)).shown
        assert "replay demo" in shown and "(paper" not in shown, (command, shown)
    config = (await bot.send("/config")).shown
    assert "exchange.replay = True" in config
    assert "replay demo" in live.runtime.banner and "no order reaches the exchange" in live.runtime.banner


def test_a_fallback_replay_shows_exchange_replay_true(tmp_path: Path) -> None:
    paper = Settings(ops=OpsConfig(data_dir=str(tmp_path)), exchange=ExchangeConfig(replay=False))
    assert replay_settings(paper, fallback=True).exchange.replay is True  # /config showed False
    assert replay_settings(paper).exchange.replay is True  # --replay on the command line
