"""A slow command (backtest) does not hold up a /halt sent while it runs."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import running_bot
from tests.fakes.memory_services import MemoryBacktests, MemoryState, memory_services
from trader.services.dto import BacktestReport, BacktestRequest


class GatedBacktests(MemoryBacktests):
    """Backtests that wait until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def run(self, request: BacktestRequest) -> BacktestReport:
        await self.gate.wait()
        return await super().run(request)


async def test_halt_is_answered_while_a_backtest_runs(fake_botapi: FakeBotApiCore) -> None:
    backtests = GatedBacktests()
    services = replace(memory_services(MemoryState()), backtests=backtests)
    async with running_bot(fake_botapi, services) as harness:
        fake_botapi.inject_message("/backtest breakout BTC/USDT")
        await fake_botapi.next_call("sendChatAction")
        question = await harness.send("/halt")
        assert "Halt all trading?" in question.shown
        backtests.gate.set()
        report = await fake_botapi.next_call("sendPhoto")
        assert "Backtest breakout" in report.shown
