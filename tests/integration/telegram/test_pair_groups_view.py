"""/positions and /status show an open pair group with both legs, through the real bot and the REAL
services: the group is read from the engine's memory in the store and each leg marked at the venue's price."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tests.integration.telegram.test_real_services import CONFIRM, RealBot, real_bot  # noqa: F401 - the fixture
from tests.unit.core.engine.test_step_pairs import open_group
from trader.core.engine.memory import EngineMemory
from trader.core.positions.pair_group import GroupStatus

T0 = datetime(2024, 1, 1, tzinfo=UTC)


async def test_positions_and_status_show_a_pair_group_leg_by_leg(real_bot: RealBot) -> None:  # noqa: F811
    group = open_group()
    async with real_bot.live.uow() as uow:
        memory = await uow.engine.get() or EngineMemory()
        await uow.engine.save(replace(memory, groups={group.id: group}), T0)
        await uow.commit()
    for command in ("/positions", "/status"):
        shown = (await real_bot.bot.send(command)).shown
        assert group.id in shown and "long spread ETH/USDT / BTC/USDT" in shown
        assert "ETH/USDT buy 1.5" in shown and "BTC/USDT sell 0.06" in shown
        assert "No open positions" not in shown


async def test_close_of_a_group_id_asks_with_both_legs_and_closes_them_together(
        real_bot: RealBot) -> None:  # noqa: F811
    group = open_group()
    async with real_bot.live.uow() as uow:
        memory = await uow.engine.get() or EngineMemory()
        await uow.engine.save(replace(memory, groups={group.id: group}), T0)
        await uow.commit()
    trading = real_bot.live.runtime.lifecycle.parts.engine.trading
    trading.runner.forget()  # the group was written behind the engine's back: read the store again
    question = await real_bot.bot.send(f"/close {group.id}")
    assert f"pair group {group.id}: ETH/USDT buy 1.5 + BTC/USDT sell 0.06" in question.shown
    done = await real_bot.bot.press(question, CONFIRM)
    assert "closing both legs" in done.shown
    closing = (await trading.engine_state()).groups[group.id]
    assert closing.group.status is GroupStatus.CLOSING and closing.exit_reason == "manual"
    assert all(book.exits_sent == 1 for book in closing.books)  # both closing orders went out together
