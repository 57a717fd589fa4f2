"""TradingService control actions on a paper venue and the in-memory store: forced entries through risk,
manual closes, halt with flatten, pause/resume, unlock; refusals are values and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from trader.adapters.exchange.paper_venue import PaperCosts, PaperExchange
from trader.adapters.store.memory.uow import MemoryStore
from trader.config.sections import RiskConfig
from trader.core.backtest.markets import default_market
from trader.core.domain.enums import Direction, ExitReason, TradingState
from trader.core.domain.ids import Symbol
from trader.core.errors import InputError
from trader.core.positions.state import PositionStatus
from trader.core.sim.costs import FeeModel
from trader.core.strategies.registry import create
from trader.live.engine_runner import CycleInput, EngineOptions
from trader.live.trading import TradingService
from trader.runtime.clock import SimClock

BTC = Symbol("BTC/USDT")
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class Paper:
    """A paper venue, a memory store and the service, with a helper to move the price."""

    def __init__(self, risk: RiskConfig | None = None) -> None:
        self.clock = SimClock(T0)
        self.store = MemoryStore()
        costs = PaperCosts(FeeModel.flat(Decimal("0.001")))
        self.venue = PaperExchange([default_market(BTC, 50000.0)], quote="USDT",
                                   balances={"USDT": Decimal(10_000)}, costs=costs, clock=self.clock)
        self.price(50000)
        options = EngineOptions(risk or RiskConfig())
        self.service = TradingService(self.venue, self.store.uow, self.clock, options,
                                      {"breakout": create("breakout")})

    def price(self, value: float) -> None:
        self.clock.advance(timedelta(seconds=1))
        self.venue.on_price(BTC, Decimal(str(value)), self.clock.now())

    async def settle(self) -> None:
        """A price arrived: book what filled (as the monitor would)."""
        self.price(float(await self.venue.last_price(BTC)))
        await self.service.runner.cycle(CycleInput(), None)


async def test_forced_entry_goes_through_risk_and_gets_a_stop() -> None:
    paper = Paper()
    result = await paper.service.force_entry("BTC/USDT", Direction.LONG, None, "breakout")
    assert result.ok and len(result.position_ids) == 1
    await paper.settle()
    [position] = (await paper.service.engine_state()).positions.values()
    assert position.status is PositionStatus.OPEN
    assert position.stop_price is not None and position.stop_price < Decimal(50000)
    # default sizing: 1 % risk at a 2 % stop is 5,000 USDT, capped at 25 % of equity
    assert position.filled * Decimal(50000) <= Decimal(2500)


async def test_forced_entry_amount_caps_the_risk_size_and_is_rounded_down() -> None:
    paper = Paper()
    result = await paper.service.force_entry("BTC/USDT", Direction.LONG, Decimal("0.0123456789"), "breakout")
    assert result.ok
    [position] = (await paper.service.engine_state()).positions.values()
    assert position.amount == Decimal("0.01234")  # amount step 0.00001, rounded down


async def test_forced_entry_below_the_minimum_is_refused_and_changes_nothing() -> None:
    paper = Paper()
    result = await paper.service.force_entry("BTC/USDT", Direction.LONG, Decimal("0.00001"), "breakout")
    assert not result.ok and "minimum" in result.message
    assert (await paper.service.engine_state()).positions == {}
    assert await paper.venue.open_orders() == []


async def test_pause_refuses_entries_and_resume_allows_them_again() -> None:
    paper = Paper()
    await paper.service.pause("maintenance")
    refused = await paper.service.force_entry("BTC/USDT", Direction.LONG, None, "breakout")
    assert not refused.ok and refused.refused_reason == "paused"
    assert (await paper.service.engine_state()).risk.trading_state is TradingState.PAUSED
    await paper.service.resume()
    assert (await paper.service.force_entry("BTC/USDT", Direction.LONG, None, "breakout")).ok


async def test_halt_with_flatten_closes_every_position_and_survives_a_restart() -> None:
    paper = Paper()
    await paper.service.force_entry("BTC/USDT", Direction.LONG, None, "breakout")
    await paper.settle()
    await paper.service.halt(flatten=True, reason="test halt")
    await paper.settle()
    assert (await paper.service.engine_state()).positions == {}
    restarted = TradingService(paper.venue, paper.store.uow, paper.clock, EngineOptions(RiskConfig()), {})
    risk = (await restarted.engine_state()).risk
    assert risk.trading_state is TradingState.HALTED and risk.halt_reason == "test halt"
    async with paper.store.uow() as uow:
        [closed] = await uow.positions.finished()
    assert closed.exit_reason is ExitReason.HALT


async def test_close_position_sells_at_market_and_books_a_manual_exit() -> None:
    paper = Paper()
    opened = await paper.service.force_entry("BTC/USDT", Direction.LONG, None, "breakout")
    await paper.settle()
    result = await paper.service.close_position(opened.position_ids[0], "user asked")
    assert result.ok
    paper.price(50500)
    await paper.settle()
    async with paper.store.uow() as uow:
        [closed] = await uow.positions.finished()
    assert closed.exit_reason is ExitReason.MANUAL and closed.realised_pnl > 0


async def test_close_unknown_position_is_an_input_error_and_close_all_with_none_is_refused() -> None:
    paper = Paper()
    with pytest.raises(InputError):
        await paper.service.close_position("nope", "x")
    result = await paper.service.close_all("x")
    assert not result.ok and result.refused_reason == "nothing_to_close"


async def test_unlock_removes_a_cooldown_only_when_there_is_one() -> None:
    paper = Paper()
    assert not (await paper.service.unlock("BTC/USDT")).ok
    await paper.service.force_entry("BTC/USDT", Direction.LONG, None, "breakout")
    await paper.settle()
    await paper.service.close_all("x")
    await paper.settle()
    assert "BTC/USDT" in (await paper.service.engine_state()).risk.cooldowns
    assert (await paper.service.unlock("BTC/USDT")).ok
    assert (await paper.service.engine_state()).risk.cooldowns == {}
