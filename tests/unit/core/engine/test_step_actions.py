"""Control actions as step inputs: halt, pause, resume, unlock, the entry block and manual entries change
the engine state inside ``step`` only, and a manual entry meets the same risk rules as a signal."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.unit.core.engine.test_step import BTC, CONFIG, MARKET, T0, Driver, candle, signal
from trader.config.sections import RiskConfig
from trader.core.domain.commands import PlaceOrder, ReplaceStop
from trader.core.domain.entries import RefusalReason
from trader.core.domain.enums import Direction, ExitReason, OrderPurpose, OrderType, TradingState
from trader.core.domain.ids import PositionId
from trader.core.engine.actions import (
    AllowEntries,
    BlockEntries,
    ClosePosition,
    EnterManually,
    Halt,
    Pause,
    Resume,
    Unlock,
)
from trader.core.engine.events import EntryApproved, EntryRefused
from trader.core.engine.inputs import EngineConfig
from trader.core.engine.state import EngineState
from trader.core.positions.state import PositionStatus
from trader.core.risk.state import RiskState

D = Decimal
CAPPED = EngineConfig("test", RiskConfig(max_position_pct=D("0.25"), cooldown_minutes=0,
                                         cooldown_after_loss_minutes=0), {BTC: MARKET})


def _tick() -> dict[object, object]:
    return {BTC: candle(100, 100, 100, 100, T0)[1]}


def test_halt_pause_and_resume_are_step_actions() -> None:
    drv = Driver()
    drv.step(T0, actions=(Halt("by admin", flatten=False),))
    assert drv.state.risk.trading_state is TradingState.HALTED and drv.state.risk.halt_reason == "by admin"
    drv.step(T0, actions=(Pause("later"),))  # a halt is not downgraded to a pause
    assert drv.state.risk.trading_state is TradingState.HALTED
    drv.step(T0, actions=(Resume("ok"),))
    assert drv.state.risk.trading_state is TradingState.ACTIVE
    assert drv.state.risk.peak_equity == D(10_000)  # the drawdown peak restarts at this step's equity


def test_unlock_removes_the_cooldown_of_one_pair() -> None:
    drv = Driver()
    other = "ETH/USDT"
    locked = {BTC: T0 + timedelta(hours=1), other: T0 + timedelta(hours=2)}
    drv.state = EngineState(risk=RiskState(cooldowns=locked))
    drv.step(T0, actions=(Unlock(BTC),))
    assert set(drv.state.risk.cooldowns) == {other}


def test_an_entry_block_refuses_signals_and_manual_entries_until_allowed() -> None:
    drv = Driver()
    drv.step(T0, actions=(BlockEntries("1 unresolved difference"),))
    out = drv.step(T0, prices=_tick(), signals={BTC: signal(enter=True)},
                   actions=(EnterManually(BTC, Direction.LONG, D("0.01")),))
    refused = [e.refusal.reason for e in out.events if isinstance(e, EntryRefused)]
    assert refused == [RefusalReason.ENTRIES_BLOCKED, RefusalReason.ENTRIES_BLOCKED] and not out.commands
    assert drv.state.entries_blocked == "1 unresolved difference"
    drv.step(T0, actions=(AllowEntries(),))
    out = drv.step(T0, prices=_tick(), actions=(EnterManually(BTC, Direction.LONG, D("1")),))
    assert [type(e) for e in out.events] == [EntryApproved] and drv.state.entries_blocked == ""


def test_a_manual_entry_sends_its_amount_through_risk_and_reports_the_cap() -> None:
    drv = Driver(CAPPED)
    out = drv.step(T0, prices=_tick(), actions=(EnterManually(BTC, Direction.LONG, D("50")),))
    [approved] = [e for e in out.events if isinstance(e, EntryApproved)]
    [order] = [c.request for c in out.commands if isinstance(c, PlaceOrder)]
    assert order.purpose is OrderPurpose.ENTRY and order.amount == approved.decision.amount == D(25)
    assert approved.decision.capped_by == "max position 25% of equity"
    [position] = drv.state.positions.values()
    assert position.strategy == "manual" and position.amount == D(25) and position.stop_price is not None


def test_a_manual_entry_while_halted_is_refused_with_the_risk_reason() -> None:
    drv = Driver()
    out = drv.step(T0, prices=_tick(), actions=(Halt("stop"), EnterManually(BTC, Direction.LONG, D("1"))))
    assert [e.refusal.reason for e in out.events if isinstance(e, EntryRefused)] == [RefusalReason.HALTED]
    assert not out.commands and drv.state.positions == {}


def test_a_manual_entry_needs_a_price_like_a_signal() -> None:
    out = Driver(CONFIG).step(T0, actions=(EnterManually(BTC, Direction.LONG, D("1")),))
    [refused] = [e for e in out.events if isinstance(e, EntryRefused)]
    assert refused.refusal.reason is RefusalReason.INVALID_REQUEST
    assert "closing price" in refused.refusal.detail


def test_close_position_exits_that_position_at_market_and_nothing_else() -> None:
    drv = Driver(CAPPED)
    drv.step(T0, prices=_tick(), actions=(EnterManually(BTC, Direction.LONG, D("10")),))
    bar, _ = candle(100, 101, 99, 100, T0 + timedelta(hours=1))
    drv.bar(bar, T0 + timedelta(hours=1))
    [position] = drv.state.positions.values()
    out = drv.step(T0 + timedelta(hours=1), actions=(ClosePosition(PositionId("someone-else")),))
    assert not out.commands and drv.state.positions[position.id].status is PositionStatus.OPEN
    out = drv.step(T0 + timedelta(hours=1), actions=(ClosePosition(position.id),))
    exits = [c for c in out.commands if isinstance(c, PlaceOrder | ReplaceStop)
             and c.request.purpose is OrderPurpose.EXIT]
    assert len(exits) == 1 and exits[0].request.type is OrderType.MARKET
    exiting = drv.state.positions[position.id]
    assert exiting.status is PositionStatus.EXITING and exiting.exit_reason is ExitReason.MANUAL


def test_an_open_venue_breaker_refuses_entries_with_its_reason_and_lets_exits_through() -> None:
    drv = Driver(CAPPED)
    drv.step(T0, prices=_tick(), actions=(EnterManually(BTC, Direction.LONG, D("10")),))
    later = T0 + timedelta(hours=1)
    drv.bar(candle(100, 101, 99, 100, later)[0], later)
    [opened] = drv.state.positions
    drv.config = replace(CAPPED, venue_down="binance down since 12:00 UTC")
    out = drv.step(later, prices=_tick(), signals={BTC: signal(enter=True)},
                   actions=(EnterManually(BTC, Direction.LONG, D("1")), ClosePosition(opened)))
    refused = [e.refusal for e in out.events if isinstance(e, EntryRefused)]
    assert [r.reason for r in refused] == [RefusalReason.VENUE_DOWN] * 2
    assert "binance down since" in str(refused[0])
    exits = [c for c in out.commands
             if isinstance(c, PlaceOrder | ReplaceStop) and c.request.purpose is OrderPurpose.EXIT]
    assert len(exits) == 1  # the close still goes out (the outbox retries it while the venue is down)
