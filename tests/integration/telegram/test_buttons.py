"""Confirmations and paging by button presses; stale, expired, forged and foreign presses change nothing."""

from __future__ import annotations

from decimal import Decimal

from handlers.keyboards import STALE
from tests.fakes.fake_botapi.harness import ADMIN, GROUP, TRADER, VIEWER, BotHarness
from tests.fakes.memory_services import MemoryState
from trader.core.domain.enums import TradingState

CONFIRM, CANCEL = "✅ Confirm", "✖️ Cancel"


async def test_halt_asks_then_halts_on_confirm(telegram_bot: BotHarness, memory_state: MemoryState) -> None:
    question = await telegram_bot.send("/halt")
    assert "Halt all trading?" in question.shown and [b[0] for b in question.buttons] == [CONFIRM, CANCEL]
    assert memory_state.state is TradingState.ACTIVE
    done = await telegram_bot.press(question, CONFIRM)
    assert done.method == "editMessageText" and done.shown == "✅ Trading halted."
    assert not done.buttons
    assert memory_state.state is TradingState.HALTED and memory_state.changes == 1


async def test_halt_flatten_closes_every_position(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    memory_state.open_position("BTC/USDT", Decimal("0.01"), Decimal(59_000))
    memory_state.open_position("ETH/USDT", Decimal("0.1"), Decimal(2_900))
    question = await telegram_bot.send("/halt flatten")
    assert "close every open position" in question.shown
    done = await telegram_bot.press(question, CONFIRM)
    assert done.shown == "✅ Trading halted; closed 2 positions."
    assert not memory_state.positions


async def test_cancel_changes_nothing_and_the_old_confirm_is_stale(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    memory_state.open_position("BTC/USDT", Decimal("0.01"), Decimal(59_000))
    question = await telegram_bot.send("/close P1")
    assert "Close position P1 at market?" in question.shown and "BTC/USDT 0.01" in question.shown
    cancelled = await telegram_bot.press(question, CANCEL)
    assert cancelled.shown == "Cancelled; nothing changed."
    telegram_bot.fake.skip_pending()
    telegram_bot.fake.inject_callback(
        telegram_bot.fake.messages[(ADMIN, question.message_id or 0)]
        | {"reply_markup": question.params["reply_markup"]},
        question.buttons[0][1],
        user_id=ADMIN,
    )
    answer = await telegram_bot.fake.next_call("answerCallbackQuery")
    assert answer.params["text"] == STALE
    assert "P1" in memory_state.positions and memory_state.changes == 0


async def test_close_all_and_buy_by_confirmation(telegram_bot: BotHarness, memory_state: MemoryState) -> None:
    memory_state.open_position("BTC/USDT", Decimal("0.01"), Decimal(59_000))
    closed = await telegram_bot.press(await telegram_bot.send("/close all"), CONFIRM)
    assert closed.shown == "✅ Closed 1 position."
    question = await telegram_bot.send("/buy eth/usdt 0.123456")
    assert (
        "Buy 0.1234 ETH/USDT at about 3,000.00 (≈ 370.20 USDT)" in question.shown
    )  # rounded down to the 0.0001 step
    bought = await telegram_bot.press(question, CONFIRM)
    assert bought.shown == "✅ Bought 0.1234 ETH/USDT as P2."
    assert memory_state.positions["P2"].amount == Decimal("0.1234")


async def test_double_press_acts_once(telegram_bot: BotHarness, memory_state: MemoryState) -> None:
    question = await telegram_bot.send("/buy BTC/USDT 0.01")
    await telegram_bot.press(question, CONFIRM)
    assert len(memory_state.positions) == 1
    telegram_bot.fake.skip_pending()
    telegram_bot.fake.inject_callback(
        {
            **question.params,
            "message_id": question.message_id,
            "date": 0,
            "chat": {"id": ADMIN, "type": "private"},
        },
        question.buttons[0][1],
        user_id=ADMIN,
    )
    answer = await telegram_bot.fake.next_call("answerCallbackQuery")
    assert answer.params["text"] == STALE
    assert len(memory_state.positions) == 1 and memory_state.changes == 1


async def test_expired_confirmation_changes_nothing(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    question = await telegram_bot.send("/settings risk.risk_per_trade 0.02")
    assert "from 0.01 to 0.02" in question.shown
    telegram_bot.clock.advance(301)
    telegram_bot.fake.skip_pending()
    telegram_bot.fake.press_button(question, CONFIRM)
    answer = await telegram_bot.fake.next_call("answerCallbackQuery")
    assert answer.params["text"] == STALE
    cleared = await telegram_bot.fake.next_call("editMessageReplyMarkup")
    assert not cleared.params.get("reply_markup")
    assert memory_state.settings["risk.risk_per_trade"].value == Decimal("0.01")


async def test_setting_change_applies_on_confirm(telegram_bot: BotHarness, memory_state: MemoryState) -> None:
    question = await telegram_bot.send("/settings breakout.period 30")
    done = await telegram_bot.press(question, CONFIRM)
    assert done.shown == "✅ breakout.period is now 30."
    assert memory_state.settings["breakout.period"].value == 30
    assert memory_state.audit[-1] == (f"telegram:{ADMIN}", "param.change", "breakout.period: 20 → 30", "ok")


async def test_forged_callback_data_is_treated_as_stale(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    question = await telegram_bot.send("/halt")
    telegram_bot.fake.skip_pending()
    message = telegram_bot.fake.messages[(ADMIN, question.message_id or 0)]
    telegram_bot.fake.inject_callback(message, "halt:flatten=true", user_id=ADMIN)
    answer = await telegram_bot.fake.next_call("answerCallbackQuery")
    assert answer.params["text"] == STALE
    assert memory_state.state is TradingState.ACTIVE


async def test_only_the_asker_can_confirm_and_viewers_are_refused(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    question = await telegram_bot.send("/halt", chat_id=GROUP, user_id=TRADER, chat_type="group")
    telegram_bot.fake.skip_pending()
    telegram_bot.fake.press_button(question, CONFIRM, user_id=VIEWER)
    viewer = await telegram_bot.fake.next_call("answerCallbackQuery")
    assert viewer.params["text"] == "Needs the trader role."
    telegram_bot.fake.press_button(question, CONFIRM, user_id=ADMIN)
    other = await telegram_bot.fake.next_call("answerCallbackQuery")
    assert other.params["text"] == "Only the user who asked can confirm this."
    assert memory_state.state is TradingState.ACTIVE
    done = await telegram_bot.press(question, CONFIRM, user_id=TRADER)
    assert done.shown == "✅ Trading halted."


async def test_trades_pages_forward_and_back(telegram_bot: BotHarness, memory_state: MemoryState) -> None:
    memory_state.add_trades(25)
    first = await telegram_bot.send("/trades")
    assert "page 1/3 · 25 total" in first.shown and [b[0] for b in first.buttons] == ["Next ▶️"]
    second = await telegram_bot.press(first, "Next ▶️")
    assert "page 2/3" in second.shown and "T11" in second.shown
    assert [b[0] for b in second.buttons] == ["◀️ Previous", "Next ▶️"]
    third = await telegram_bot.press(second, "Next ▶️")
    assert "page 3/3" in third.shown and [b[0] for b in third.buttons] == ["◀️ Previous"]
    back = await telegram_bot.press(third, "◀️ Previous")
    assert "page 2/3" in back.shown
    won = await telegram_bot.send("/trades won 5")
    assert "won" in won.shown and "page 1/4" in won.shown
