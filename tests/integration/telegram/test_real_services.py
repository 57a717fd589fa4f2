"""The real bot (PTB against the fake Bot API) over the REAL services built by the container.

Runtime: ``trader.runtime.container`` over a temp SQLite file with the paper exchange replaying the
bundled candles; each command's effect is checked in the store, not in a test double.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.fakes.fake_botapi import FakeBotApiCore
from tests.fakes.fake_botapi.core import BotCall
from tests.fakes.fake_botapi.harness import BotHarness, running_bot
from tests.fixtures.live_runtime import ADMIN_ACTOR, LiveRuntime, MakeRuntime
from trader.config import RiskConfig
from trader.core.domain.enums import ExitReason, TradingState
from trader.core.positions.state import Position, PositionStatus
from trader.core.risk.state import RiskState

CONFIRM = "✅ Confirm"
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class RealBot:
    """The bot harness plus the runtime behind it."""

    bot: BotHarness
    live: LiveRuntime

    async def risk(self) -> RiskState:
        async with self.live.uow() as uow:
            return await uow.risk.get() or RiskState()


@pytest.fixture
async def real_bot(fake_botapi: FakeBotApiCore, make_runtime: MakeRuntime) -> AsyncIterator[RealBot]:
    """Serve the real bot backed by the container's services (breakout on BTC/USDT, ETH/USDT 1h)."""
    live = await make_runtime()
    async with running_bot(fake_botapi, live.runtime.services) as harness:
        yield RealBot(harness, live)


async def test_status_positions_and_balance_show_the_open_position(real_bot: RealBot) -> None:
    position = await real_bot.live.open_position()
    status = await real_bot.bot.send("/status")
    assert position.symbol in status.shown and "active" in status.shown.lower()
    positions = await real_bot.bot.send("/positions")
    assert position.symbol in positions.shown
    balance = await real_bot.bot.send("/balance")
    assert "USDT" in balance.shown and position.symbol.split("/")[0] in balance.shown


async def test_pause_and_resume_change_the_stored_trading_state(real_bot: RealBot) -> None:
    await real_bot.bot.send("/pause")
    assert (await real_bot.risk()).trading_state is TradingState.PAUSED
    again = await real_bot.bot.send("/pause")
    assert "paused" in again.shown.lower()  # refused: already paused
    await real_bot.bot.send("/resume")
    assert (await real_bot.risk()).trading_state is TradingState.ACTIVE


async def test_halt_after_confirmation_is_stored(real_bot: RealBot) -> None:
    question = await real_bot.bot.send("/halt")
    assert (await real_bot.risk()).trading_state is TradingState.ACTIVE  # nothing before the press
    done = await real_bot.bot.press(question, CONFIRM)
    assert "halted" in done.shown.lower()
    assert (await real_bot.risk()).trading_state is TradingState.HALTED


async def test_close_after_confirmation_closes_the_position_at_market(real_bot: RealBot) -> None:
    position = await real_bot.live.open_position()
    question = await real_bot.bot.send(f"/close {position.id}")
    assert position.id in question.shown
    await real_bot.bot.press(question, CONFIRM)
    await real_bot.live.advance(1)
    async with real_bot.live.uow() as uow:
        closed = await uow.positions.get(position.id)
    assert closed is not None and closed.status is PositionStatus.CLOSED
    assert closed.exit_reason is ExitReason.MANUAL


async def test_buy_after_confirmation_opens_a_manual_position(real_bot: RealBot) -> None:
    await real_bot.live.advance(1)
    question = await real_bot.bot.send("/buy ETH/USDT 0.05")
    assert "ETH/USDT" in question.shown
    assert not [p for p in await real_bot.live.active() if p.strategy == "manual"]
    await real_bot.bot.press(question, CONFIRM)
    await real_bot.live.advance(1)
    [manual] = [p for p in await real_bot.live.active() if p.strategy == "manual"]
    assert manual.filled > 0 and manual.amount <= 0.05


def _previewed(question: str) -> Decimal:
    found = re.search(r"Buy ([0-9.]+) ", question)
    assert found is not None, question
    return Decimal(found.group(1))


async def _bought(real_bot: RealBot, question: BotCall) -> Position:
    """Confirm ``question`` and return the manual position it opened, once its entry filled."""
    before = {p.id for p in await real_bot.live.active()}
    done = await real_bot.bot.press(question, CONFIRM)
    assert "Buying" in done.shown, done.shown
    await real_bot.live.advance(1)
    [manual] = [p for p in await real_bot.live.active() if p.strategy == "manual" and p.id not in before]
    return manual


@pytest.mark.parametrize("command", ["/buy ETH/USDT 0.05", "/buy ETH/USDT"])
async def test_buy_sends_exactly_the_previewed_amount(real_bot: RealBot, command: str) -> None:
    await real_bot.live.advance(1)
    question = await real_bot.bot.send(command)
    assert CONFIRM in [label for label, _ in question.buttons]
    previewed = _previewed(question.shown)
    if command.endswith("0.05"):
        assert previewed == Decimal("0.05") and "capped" not in question.shown
    else:  # risk's own size (1 % at the default 2 % stop: half the equity) meets the 25 % position cap
        assert "capped by max position 25% of equity" in question.shown and "asked" not in question.shown
    manual = await _bought(real_bot, question)
    assert manual.amount == previewed and manual.filled == previewed


async def test_buy_over_the_position_cap_previews_the_capped_amount_and_names_the_cap(
        real_bot: RealBot) -> None:
    # 0.12345 BTC is far more than the 25 % position cap of the paper account allows; it used to be
    # previewed as 0.12345 and then silently shrunk to the cap when bought
    await real_bot.live.advance(1)
    question = await real_bot.bot.send("/buy BTC/USDT 0.12345")
    previewed = _previewed(question.shown)
    assert previewed < Decimal("0.12345")
    assert "you asked for 0.12345; capped by max position 25% of equity" in question.shown
    manual = await _bought(real_bot, question)
    assert manual.amount == previewed and manual.filled == previewed


async def test_buy_the_free_balance_cannot_pay_is_refused_before_any_confirmation(real_bot: RealBot) -> None:
    await real_bot.live.advance(1)
    reply = await real_bot.bot.send("/buy BTC/USDT 1000000")
    assert "Cannot buy BTC/USDT: insufficient_funds" in reply.shown and "free balance is" in reply.shown
    assert reply.buttons == []  # nothing to confirm
    assert not [p for p in await real_bot.live.active() if p.strategy == "manual"]


async def test_buy_while_halted_is_refused_before_any_confirmation(real_bot: RealBot) -> None:
    await real_bot.live.advance(1)
    await real_bot.bot.press(await real_bot.bot.send("/halt"), CONFIRM)
    reply = await real_bot.bot.send("/buy ETH/USDT 0.05")
    assert "Cannot buy ETH/USDT: halted" in reply.shown and reply.buttons == []
    await real_bot.live.advance(1)
    assert not [p for p in await real_bot.live.active() if p.strategy == "manual"]


async def test_buy_confirmed_after_a_halt_is_refused_by_the_same_rule(real_bot: RealBot) -> None:
    await real_bot.live.advance(1)
    question = await real_bot.bot.send("/buy ETH/USDT 0.05")
    await real_bot.live.runtime.services.control.halt(ADMIN_ACTOR, flatten=False)
    done = await real_bot.bot.press(question, CONFIRM)
    assert "halted" in done.shown and "(halted)" in done.shown
    await real_bot.live.advance(1)
    assert not [p for p in await real_bot.live.active() if p.strategy == "manual"]


async def test_chart_and_backtest_arrive_as_pngs(real_bot: RealBot) -> None:
    await real_bot.live.advance(2)
    chart = await real_bot.bot.send("/chart BTC/USDT 1h 50")
    assert chart.method == "sendPhoto" and chart.files["photo"].content.startswith(PNG)
    backtest = await real_bot.bot.send("/backtest breakout BTC/USDT 1h 60d", within=30)
    assert backtest.method == "sendPhoto" and "breakout" in backtest.shown
    trades = await real_bot.bot.fake.next_call(within=10)  # then the candles with the run's trades
    assert trades.method == "sendPhoto" and trades.files["photo"].content.startswith(PNG)
    assert "BTC/USDT" in trades.shown and "trades" in trades.shown
    async with real_bot.live.uow() as uow:
        assert len(await uow.backtests.recent(5)) == 1
    runs = await real_bot.bot.send("/backtests")
    assert "#1 breakout BTC/USDT 1h" in runs.shown and f"{_trades(backtest.shown)} trades" in runs.shown


async def test_trades_lists_a_closed_trade(real_bot: RealBot) -> None:
    position = await real_bot.live.open_position()
    await real_bot.bot.press(await real_bot.bot.send(f"/close {position.id}"), CONFIRM)
    await real_bot.live.advance(1)
    trades = await real_bot.bot.send("/trades")
    assert position.symbol in trades.shown


async def test_settings_change_after_confirmation_is_stored_and_audited(real_bot: RealBot) -> None:
    question = await real_bot.bot.send("/settings risk.risk_per_trade 0.02")
    assert "0.01" in question.shown and "0.02" in question.shown
    await real_bot.bot.press(question, CONFIRM)
    async with real_bot.live.uow() as uow:
        overrides = await uow.settings.overrides()
        audit = await uow.audit.recent(10)
    assert overrides == {"risk.risk_per_trade": "0.02"}
    assert any(e.action == "param.change" and e.actor == "telegram:42" for e in audit)


async def test_settings_out_of_bounds_is_refused_and_changes_nothing(real_bot: RealBot) -> None:
    reply = await real_bot.bot.send("/settings risk.risk_per_trade 7")
    assert "risk.risk_per_trade" in reply.shown and not reply.buttons
    async with real_bot.live.uow() as uow:
        assert await uow.settings.overrides() == {}


@pytest.mark.parametrize("command", [
    "/start", "/help", "/profit", "/profit 7", "/performance", "/daily", "/weekly 2", "/monthly", "/equity",
    "/strategies", "/settings", "/health", "/version", "/config", "/locks", "/logs 5", "/reload",
    "/tax 2022", "/unlock BTC/USDT", "/whoami",
])
async def test_every_other_command_answers_over_the_real_services(real_bot: RealBot, command: str) -> None:
    position = await real_bot.live.open_position()
    await real_bot.live.runtime.services.control.close(position.id, ADMIN_ACTOR)
    await real_bot.live.advance(1)  # one closed trade, one cooldown
    reply = await real_bot.bot.send(command, within=20)
    assert reply.text.strip()
    assert real_bot.bot.app.bot_data.unexpected_errors == 0, reply.text


def _trades(report: str) -> str:
    """Return the trade count shown in a /backtest report."""
    match = re.search(r"Trades (\d+)", report)
    assert match is not None, report
    return match.group(1)


async def test_a_backtest_caption_says_why_trading_stopped(fake_botapi: FakeBotApiCore,
                                                           make_runtime: MakeRuntime) -> None:
    tight = RiskConfig(max_drawdown_pct=Decimal("0.03"), daily_loss_limit_pct=Decimal("0.004"),
                       risk_per_trade=Decimal("0.02"), max_position_pct=Decimal("0.9"))
    live = await make_runtime(risk=tight)
    async with running_bot(fake_botapi, live.runtime.services) as bot:
        reply = await bot.send("/backtest breakout BTC/USDT 1h 700d", within=60)
    assert reply.method == "sendPhoto"
    halted = re.search(r"Halted \d{4}-\d\d-\d\d \d\d:\d\d UTC: drawdown [\d.]+% from peak", reply.shown)
    refused = re.search(r"Refused entry signals (\d+): halted (\d+) from \d{4}-\d\d-\d\d", reply.shown)
    assert halted is not None and refused is not None, reply.shown
    assert int(refused.group(1)) >= int(refused.group(2)) > 0
