"""Allow-list, roles, group chats, and the stranger rate limit, through the real stack."""

from __future__ import annotations

from tests.fakes.fake_botapi.harness import ADMIN, GROUP, STRANGER, TRADER, VIEWER, BotHarness
from tests.fakes.memory_services import MemoryState
from trader.core.domain.enums import TradingState


async def test_stranger_gets_one_polite_refusal_and_an_audit_entry(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    reply = await telegram_bot.send("/status", chat_id=STRANGER)
    assert "not on its allow-list" in reply.shown and str(STRANGER) in reply.shown
    assert memory_state.audit == [
        (
            f"telegram:{STRANGER}",
            "telegram.refused",
            f"chat={STRANGER} command=status name='Tester'",
            "refused",
        )
    ]
    telegram_bot.fake.inject_message("/pause", chat_id=STRANGER)
    telegram_bot.fake.inject_message("hello?", chat_id=STRANGER)
    await telegram_bot.silence(0.5)
    await telegram_bot.send("/status")  # updates run in order: the stranger's are done by now
    assert len(memory_state.audit) == 1 and memory_state.changes == 0


async def test_stranger_is_answered_again_after_the_quiet_period_with_the_dropped_count(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    await telegram_bot.send("/halt", chat_id=STRANGER)
    for _ in range(3):
        telegram_bot.fake.inject_message("/buy BTC/USDT", chat_id=STRANGER)
    await telegram_bot.silence(0.3)
    telegram_bot.clock.advance(61)
    reply = await telegram_bot.send("/status", chat_id=STRANGER)
    assert "not on its allow-list" in reply.shown
    assert "(+3 earlier refusals not logged)" in memory_state.audit[-1][2]


async def test_a_flood_of_strangers_is_capped_per_window(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    telegram_bot.fake.skip_pending()
    for i in range(60):
        telegram_bot.fake.inject_message("/status", chat_id=10_000 + i)
    await telegram_bot.send("/status")  # updates run in order: all 60 are done when this is answered
    refusals = [c for c in telegram_bot.fake.sent("sendMessage") if c.chat_id != ADMIN]
    assert len(refusals) == 20  # StrangerGate.max_per_window
    assert len(memory_state.audit) == 20


async def test_stranger_whoami_gets_the_chat_id(telegram_bot: BotHarness, memory_state: MemoryState) -> None:
    reply = await telegram_bot.send("/whoami", chat_id=STRANGER)
    assert f"Chat id {STRANGER}" in reply.shown and "not on the allow-list" in reply.shown
    assert memory_state.audit == []


async def test_viewer_cannot_pause_and_the_refusal_is_audited(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    reply = await telegram_bot.send("/pause", chat_id=VIEWER)
    assert reply.shown == "This needs the trader role; you are viewer."
    assert memory_state.state is TradingState.ACTIVE
    assert memory_state.audit == [
        (f"telegram:{VIEWER}", "telegram.role_refused", "needs trader, has viewer", "refused")
    ]


async def test_trader_may_pause_but_not_change_settings(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    assert (await telegram_bot.send("/pause", chat_id=TRADER)).shown.startswith("✅ Paused")
    reply = await telegram_bot.send("/settings risk.risk_per_trade 0.02", chat_id=TRADER)
    assert reply.shown == "This needs the admin role; you are trader."
    assert memory_state.audit[:2] == [
        (f"telegram:{TRADER}", "telegram.command", "/pause", "received"),
        (f"telegram:{TRADER}", "pause", "", "ok"),
    ]


async def test_group_serves_listed_users_with_the_lower_role_and_refuses_others(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    ok = await telegram_bot.send("/status", chat_id=GROUP, user_id=ADMIN, chat_type="group")
    assert "Trading active" in ok.shown
    viewer = await telegram_bot.send("/pause", chat_id=GROUP, user_id=VIEWER, chat_type="group")
    assert viewer.shown == "This needs the trader role; you are viewer."
    stranger = await telegram_bot.send("/status", chat_id=GROUP, user_id=STRANGER, chat_type="group")
    assert "not on its allow-list" in stranger.shown
    unlisted_group = await telegram_bot.send("/status", chat_id=-999, user_id=ADMIN, chat_type="group")
    assert "not on its allow-list" in unlisted_group.shown
    assert memory_state.state is TradingState.ACTIVE


async def test_reads_are_not_audited_but_commands_that_act_are(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    await telegram_bot.send("/status")
    await telegram_bot.send("/halt flatten")
    assert memory_state.audit == [(f"telegram:{ADMIN}", "telegram.command", "/halt flatten", "received")]
