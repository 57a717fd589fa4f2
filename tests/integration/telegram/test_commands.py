"""Every command through the real PTB stack and the fake Bot API over HTTP."""

from __future__ import annotations

import io
from decimal import Decimal

from PIL import Image

from tests.fakes.fake_botapi.harness import ADMIN, GROUP, VIEWER, BotHarness
from tests.fakes.memory_services import NOW, MemoryState
from trader.core.domain.enums import TradingState
from trader.services.dto import LockView

# (command, text the reply must contain)
READS = [
    ("/start", "admin"),
    ("/help", "/backtest STRATEGY PAIR"),
    ("/positions", "BTC/USDT"),
    ("/balance", "Equity"),
    ("/profit", "all time"),
    ("/profit 7", "last 7 days"),
    ("/performance", "ETH/USDT"),
    ("/daily", "Daily profit"),
    ("/daily 3", "Daily profit"),
    ("/weekly", "Weekly profit"),
    ("/monthly 2", "Monthly profit"),
    ("/trades", "page 1/"),
    ("/trades ETH/USDT 5 lost", "ETH/USDT lost"),
    ("/strategies", "bollinger_reversion"),
    ("/settings", "risk.risk_per_trade"),
    ("/health", "exchange"),
    ("/version", "tradebot 0.1.0"),
    ("/config", "telegram.token</code> = ********"),
    ("/locks", "ETH/USDT until"),
    ("/whoami", f"Chat id <code>{ADMIN}</code>"),
    ("/logs 3", "<pre>"),
]


def _seed(state: MemoryState) -> None:
    state.open_position(
        "BTC/USDT",
        Decimal("0.01"),
        Decimal(59_000),
        stop=Decimal(58_000),
        take_profit=Decimal(63_000),
        trailing=True,
    )
    state.add_trades(25)
    state.locks["ETH/USDT"] = LockView("ETH/USDT", NOW, "cooldown after a stop")


async def test_read_commands_answer_with_their_content(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    _seed(memory_state)
    for command, expected in READS:
        reply = await telegram_bot.send(command)
        assert reply.method == "sendMessage", command
        assert expected in reply.text, f"{command}: {reply.text}"
        assert not reply.text.startswith("⚠️"), f"{command}: {reply.text}"
    assert memory_state.changes == 0


async def test_status_shows_entry_price_pnl_stop_tp_trailing_and_protection(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    memory_state.open_position(
        "BTC/USDT",
        Decimal("0.01"),
        Decimal(59_000),
        stop=Decimal(58_000),
        take_profit=Decimal(63_000),
        trailing=True,
    )
    reply = await telegram_bot.send("/status")
    text = reply.text
    for fragment in (
        "Trading <b>active</b> (paper)",
        "Entry 59,000.00 → 60,000.00",
        "+10.00 USDT",
        "(+1.69%)",
        "Stop 58,000.00 (native, trailing 3.00%)",
        "TP 63,000.00",
        "P1",
    ):
        assert fragment in text, fragment


async def test_status_with_many_positions_is_split_under_the_limit(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    for _ in range(40):
        memory_state.open_position("ETH/USDT", Decimal("0.1"), Decimal(2_900))
    await telegram_bot.send("/status")
    await telegram_bot.fake.next_call("sendMessage")
    texts = [c.text for c in telegram_bot.fake.sent("sendMessage")]
    assert len(texts) >= 2 and all(len(t) <= 4096 for t in texts)
    assert sum(t.count("ETH/USDT") for t in texts) == 40


async def test_chart_arrives_as_a_real_png(telegram_bot: BotHarness) -> None:
    reply = await telegram_bot.send("/chart btc/usdt 4h 50")
    assert reply.method == "sendPhoto"
    image = Image.open(io.BytesIO(reply.files["photo"].content))
    image.verify()
    assert image.format == "PNG" and image.size[0] > 100
    assert "BTC/USDT 4h, last 50 candles" in reply.text


async def test_equity_and_backtest_send_photos(telegram_bot: BotHarness) -> None:
    equity = await telegram_bot.send("/equity")
    assert equity.method == "sendPhoto" and equity.files["photo"].content.startswith(b"\x89PNG")
    backtest = await telegram_bot.send("/backtest breakout BTC/USDT 4h 30d")
    assert backtest.method == "sendPhoto"
    assert "Backtest breakout" in backtest.text and "Return +20.00%" in backtest.text

    runs = await telegram_bot.send("/backtests")  # viewers and up compare the stored runs
    assert "#1 breakout BTC/USDT 4h" in runs.shown and "return +20.0%" in runs.shown
    assert "12 trades" in runs.shown and "defaults" in runs.shown


async def test_tax_sends_a_csv_document(telegram_bot: BotHarness, memory_state: MemoryState) -> None:
    memory_state.add_trades(3)
    reply = await telegram_bot.send("/tax 2025")
    assert reply.method == "sendDocument"
    doc = reply.files["document"]
    assert doc.filename == "tax-FY2025-fifo.csv" and doc.content.startswith(b"id,pair,closed_at,pnl")
    chosen = await telegram_bot.send("/tax 2025 Highest-Cost")  # every method the export supports
    assert chosen.files["document"].filename == "tax-FY2025-highest-cost.csv"
    missing = await telegram_bot.send("/tax 2019")
    assert missing.text == "⚠️ No closed trades in the financial year 2019."


async def test_pause_resume_unlock_reload_change_state(
    telegram_bot: BotHarness, memory_state: MemoryState
) -> None:
    memory_state.locks["ETH/USDT"] = LockView("ETH/USDT", NOW, "cooldown")
    assert (await telegram_bot.send("/pause")).text.startswith("✅ Paused")
    assert memory_state.state is TradingState.PAUSED
    refused = await telegram_bot.send("/pause")
    assert refused.text == "⚠️ Not paused (trading is paused)"
    assert (await telegram_bot.send("/resume")).text == "✅ Trading resumed."
    assert (await telegram_bot.send("/unlock eth/usdt")).text == "✅ ETH/USDT unlocked."
    assert (await telegram_bot.send("/reload")).text.startswith("✅ Reloaded")
    assert memory_state.changes == 4
    assert [a[1] for a in memory_state.audit if a[1] != "telegram.command"] == [
        "pause",
        "resume",
        "unlock",
        "reload",
    ]
    received = [a[2] for a in memory_state.audit if a[1] == "telegram.command"]
    assert received == ["/pause", "/pause", "/resume", "/unlock eth/usdt", "/reload"]


async def test_unknown_command_and_plain_text_get_a_hint(telegram_bot: BotHarness) -> None:
    assert "Unknown command" in (await telegram_bot.send("/frobnicate now")).text
    assert "only understand commands" in (await telegram_bot.send("hello bot")).text


async def test_command_addressed_to_the_bot_in_a_group_works(telegram_bot: BotHarness) -> None:
    reply = await telegram_bot.send(
        "/balance@fake_test_bot", chat_id=GROUP, user_id=ADMIN, chat_type="supergroup"
    )
    assert "Equity" in reply.text and reply.chat_id == GROUP


async def test_help_lists_only_what_the_role_may_use(telegram_bot: BotHarness) -> None:
    text = (await telegram_bot.send("/help", chat_id=VIEWER)).text
    assert "/status" in text and "/halt" not in text and "/settings" not in text


async def test_command_menus_are_published_per_role(telegram_bot: BotHarness) -> None:
    calls = [c for c in telegram_bot.fake.calls if c.method == "setMyCommands"]
    menus = {
        (c.params.get("scope") or {}).get("chat_id"): [x["command"] for x in c.params["commands"]]
        for c in calls
    }
    assert menus[None] == ["start", "help", "whoami"]
    assert "halt" in menus[ADMIN] and "settings" in menus[ADMIN]
    assert "halt" not in menus[VIEWER] and "status" in menus[VIEWER]
    assert GROUP not in menus


async def test_a_user_who_blocked_the_bot_is_not_answered_again(telegram_bot: BotHarness) -> None:
    telegram_bot.fake.fail_next("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    telegram_bot.fake.inject_message("/status")
    await telegram_bot.silence(0.5)
    assert telegram_bot.app.bot_data.unexpected_errors == 0
    assert "Trading active" in (await telegram_bot.send("/status")).shown


async def test_in_groups_only_our_commands_are_answered(telegram_bot: BotHarness) -> None:
    for text in ("hello everyone", "/frobnicate", "/status@other_bot", "/frobnicate@other_bot"):
        telegram_bot.fake.inject_message(text, chat_id=GROUP, user_id=ADMIN, chat_type="supergroup")
    await telegram_bot.silence(0.5)
    reply = await telegram_bot.send(
        "/frobnicate@fake_test_bot", chat_id=GROUP, user_id=ADMIN, chat_type="supergroup"
    )
    assert "Unknown command" in reply.shown
