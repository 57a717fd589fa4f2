"""TOTP for admin actions: with ``telegram.admin_totp_secret`` set, a confirmed /halt, /close, /buy or
/settings change waits for a current code from the authenticator; wrong codes are counted and lock the
user out; a code works once. Real bot against the fake Bot API, codes from pyotp as an app makes them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pyotp
import pytest

from handlers.totp import ASK, EXPIRED
from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.harness import BotHarness, running_bot
from tests.fakes.memory_services import MemoryState, memory_services
from trader.core.domain.enums import TradingState

CONFIRM = "✅ Confirm"
SECRET = pyotp.random_base32()


def current_code() -> str:
    return pyotp.TOTP(SECRET).now()


def wrong_code() -> str:
    valid = {pyotp.TOTP(SECRET).at(time.time() + d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


@pytest.fixture
async def guarded_bot(fake_botapi: FakeBotApiCore, memory_state: MemoryState) -> AsyncIterator[BotHarness]:
    async with running_bot(fake_botapi, memory_services(memory_state), totp_secret=SECRET) as harness:
        yield harness


async def test_halt_waits_for_a_valid_code_after_the_button(guarded_bot: BotHarness,
                                                           memory_state: MemoryState) -> None:
    question = await guarded_bot.send("/halt")
    asked = await guarded_bot.press(question, CONFIRM)
    assert asked.shown == ASK and memory_state.state is TradingState.ACTIVE
    wrong = await guarded_bot.send(wrong_code())
    assert "Wrong code (2 attempt(s) left)" in wrong.shown and memory_state.state is TradingState.ACTIVE
    done = await guarded_bot.send(current_code())
    assert done.shown == "✅ Trading halted." and memory_state.state is TradingState.HALTED
    gate = guarded_bot.app.bot_data.totp
    assert gate is not None and gate.wrong_codes == 1


async def test_a_code_is_good_once(guarded_bot: BotHarness, memory_state: MemoryState) -> None:
    code = current_code()
    first = await guarded_bot.press(await guarded_bot.send("/halt"), CONFIRM)
    assert first.shown == ASK
    assert (await guarded_bot.send(code)).shown == "✅ Trading halted."
    memory_state.state = TradingState.ACTIVE
    await guarded_bot.press(await guarded_bot.send("/halt"), CONFIRM)
    replay = await guarded_bot.send(code)  # the same code again: refused
    assert "Wrong code" in replay.shown and memory_state.state is TradingState.ACTIVE


async def test_three_wrong_codes_drop_the_action_and_lock_the_user_out(guarded_bot: BotHarness,
                                                                       memory_state: MemoryState) -> None:
    memory_state.open_position("BTC/USDT", Decimal("0.01"), Decimal(59_000))
    await guarded_bot.press(await guarded_bot.send("/close all"), CONFIRM)
    for _ in range(2):
        await guarded_bot.send(wrong_code())
    locked = await guarded_bot.send(wrong_code())
    assert "Too many wrong codes" in locked.shown
    after = await guarded_bot.send(current_code())  # nothing waits any more
    assert "I only understand commands" in after.shown
    assert memory_state.positions  # nothing was closed
    again = await guarded_bot.press(await guarded_bot.send("/close all"), CONFIRM)
    assert "locked" in again.shown  # no new prompt while locked out
    assert memory_state.positions


async def test_buy_and_settings_also_wait_for_the_code(guarded_bot: BotHarness,
                                                      memory_state: MemoryState) -> None:
    buy = await guarded_bot.press(await guarded_bot.send("/buy BTC/USDT 0.01"), CONFIRM)
    assert buy.shown == ASK and not memory_state.positions
    assert (await guarded_bot.send(current_code())).shown.startswith("✅")
    assert memory_state.positions
    changes = memory_state.changes
    setting = await guarded_bot.press(await guarded_bot.send("/settings risk.risk_per_trade 0.02"), CONFIRM)
    assert setting.shown == ASK and memory_state.changes == changes


async def test_an_expired_prompt_runs_nothing(guarded_bot: BotHarness, memory_state: MemoryState) -> None:
    await guarded_bot.press(await guarded_bot.send("/halt"), CONFIRM)
    guarded_bot.clock.advance(301)  # past the button lifetime
    assert (await guarded_bot.send(current_code())).shown == EXPIRED
    assert memory_state.state is TradingState.ACTIVE
