"""step() end to end against the real simulator ledger: signal -> entry -> protection -> exit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trader.config.sections import RiskConfig
from trader.core.domain.commands import CancelOrder, PlaceOrder, ReplaceStop
from trader.core.domain.entries import RefusalReason
from trader.core.domain.enums import ExitReason, OrderStatus, OrderType, TradingState
from trader.core.domain.ids import Symbol
from trader.core.domain.market import Capabilities, MarketSpec
from trader.core.engine.events import EntryRefused, PositionClosed, PositionOpened, StopMoved
from trader.core.engine.inputs import EngineConfig, StepInput, StepOutput
from trader.core.engine.orders import OrderUpdate
from trader.core.engine.state import EngineState
from trader.core.engine.step import step
from trader.core.positions.position_events import PriceUpdated
from trader.core.positions.state import PositionStatus
from trader.core.risk.state import RiskState
from trader.core.sim.costs import FeeModel
from trader.core.sim.ledger import SimLedger
from trader.core.sim.matching import Bar
from trader.core.strategies.base import Signal

D = Decimal
BTC = Symbol("BTC/USDT")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
MARKET = MarketSpec(BTC, "BTC", "USDT", D("0.00001"), D("0.01"), min_cost=D(5),
                    capabilities=Capabilities(oco=True))
CONFIG = EngineConfig("test", RiskConfig(sizing="all_in", max_position_pct=D(1), cooldown_minutes=0,
                                         cooldown_after_loss_minutes=0), {BTC: MARKET})


def signal(enter: bool = False, exit_: bool = False, stop: float | None = 98.0,
           take: float | None = 104.0) -> Signal:
    return Signal(0, enter, exit_, False, False, 0.9, stop, take, "test")


def candle(o: float, h: float, low: float, c: float, at: datetime) -> tuple[Bar, PriceUpdated]:
    bar = Bar(int(at.timestamp() * 1000), D(str(o)), D(str(h)), D(str(low)), D(str(c)))
    return bar, PriceUpdated(bar.high, bar.low, bar.close, at + HOUR)


class Driver:
    """Feeds step() and executes its commands on a SimLedger, like the backtest reference loop."""

    def __init__(self, config: EngineConfig = CONFIG) -> None:
        self.config = config
        self.ledger = SimLedger({"USDT": D(10_000)}, [MARKET], fees=FeeModel.flat(D("0.001")))
        self.state = EngineState()
        self.last_close = D(100)

    def step(self, now: datetime, **kwargs: object) -> StepOutput:
        account = self.ledger.snapshot("USDT", {BTC: self.last_close})
        out = step(self.state, StepInput(now, account, self.config, **kwargs))  # type: ignore[arg-type]
        self.state = out.state
        for command in out.commands:
            if isinstance(command, PlaceOrder):
                self.ledger.place(command.request, now)
            elif isinstance(command, ReplaceStop):
                self.ledger.cancel(command.cancel_client_order_id, now)
                self.ledger.place(command.request, now)
            elif isinstance(command, CancelOrder):
                self.ledger.cancel(command.client_order_id, now)
        return out

    def bar(self, bar: Bar, now: datetime) -> StepOutput | None:
        fills = self.ledger.on_bar(BTC, bar)
        if not fills:
            return None
        updates = tuple(OrderUpdate(f.client_order_id, OrderStatus.FILLED, f) for f in fills)
        return self.step(now, order_updates=updates)


def test_entry_signal_places_market_order_then_oco_after_fill() -> None:
    drv = Driver()
    _, price = candle(99, 101, 99, 100, T0)
    out = drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: signal(enter=True)})
    assert [type(c) for c in out.commands] == [PlaceOrder]
    assert out.commands[0].request.type is OrderType.MARKET  # type: ignore[union-attr]
    bar, _ = candle(100, 102, 99.5, 101, T0 + HOUR)
    opened = drv.bar(bar, T0 + HOUR)
    assert opened is not None
    assert any(isinstance(e, PositionOpened) for e in opened.events)
    oco = opened.commands[0].request  # type: ignore[union-attr]
    assert oco.type is OrderType.OCO and oco.trigger_price == D("98.00") and oco.price == D("104.00")


def test_stop_and_target_in_one_candle_closes_at_stop_and_books_loss() -> None:
    drv = Driver()
    _, price = candle(99, 101, 99, 100, T0)
    drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: signal(enter=True)})
    bar, _ = candle(100, 102, 99.5, 101, T0 + HOUR)
    drv.bar(bar, T0 + HOUR)
    bar, _ = candle(101, 105, 97, 100, T0 + 2 * HOUR)
    out = drv.bar(bar, T0 + 2 * HOUR)
    assert out is not None
    closed = [e for e in out.events if isinstance(e, PositionClosed)]
    assert len(closed) == 1
    position = closed[0].position
    assert position.status is PositionStatus.CLOSED and position.exit_reason is ExitReason.STOP_LOSS
    assert position.exit_price == D("98.00") and position.realised_pnl < 0
    assert not drv.state.positions and not drv.state.orders
    assert drv.state.risk.consecutive_stops == 1


def _open_then_exit_signal() -> tuple[Driver, StepOutput]:
    """Enter on a signal, fill at the next bar, then step with an exit signal; return the last output."""
    drv = Driver()
    _, price = candle(99, 101, 99, 100, T0)
    drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: signal(enter=True)})
    bar, _ = candle(100, 102, 99.5, 101, T0 + HOUR)
    drv.bar(bar, T0 + HOUR)
    _, price = candle(101, 102, 100, 101.5, T0 + 2 * HOUR)
    return drv, drv.step(T0 + 3 * HOUR, prices={BTC: price}, signals={BTC: signal(exit_=True)})


def test_exit_signal_replaces_oco_with_market_exit() -> None:
    drv, out = _open_then_exit_signal()
    assert [type(c) for c in out.commands] == [ReplaceStop]
    bar, _ = candle(101.5, 102, 101, 101.8, T0 + 3 * HOUR)
    done = drv.bar(bar, T0 + 3 * HOUR)
    assert done is not None
    position = next(e for e in done.events if isinstance(e, PositionClosed)).position
    assert position.exit_reason is ExitReason.SIGNAL and position.exit_price == D("101.5")


def test_trailing_stop_moves_on_close_and_reports_stop_moved() -> None:
    cfg = CONFIG.risk.model_copy(update={"trailing": CONFIG.risk.trailing.model_copy(
        update={"enabled": True, "distance": D("0.01"), "min_step": D(0)})})
    drv = Driver(EngineConfig("test", cfg, {BTC: MARKET}))
    _, price = candle(99, 101, 99, 100, T0)
    drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: signal(enter=True, take=None)})
    bar, price = candle(100, 103, 99.5, 102.9, T0 + HOUR)
    drv.bar(bar, T0 + HOUR)
    out = drv.step(T0 + 2 * HOUR, prices={BTC: price})
    moved = [e for e in out.events if isinstance(e, StopMoved)]
    assert moved and moved[0].new == D("101.97")
    assert isinstance(out.commands[0], ReplaceStop)


def test_halted_risk_refuses_entry_with_reason() -> None:
    drv = Driver()
    drv.state = EngineState(risk=RiskState(trading_state=TradingState.HALTED, halt_reason="manual"))
    _, price = candle(99, 101, 99, 100, T0)
    out = drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: signal(enter=True)})
    assert out.commands == ()
    refused = [e for e in out.events if isinstance(e, EntryRefused)]
    assert refused[0].refusal.reason is RefusalReason.HALTED


def test_entry_without_closing_price_is_refused_not_guessed() -> None:
    out = Driver().step(T0 + HOUR, signals={BTC: signal(enter=True)})
    assert isinstance(out.events[0], EntryRefused) and "closing price" in out.events[0].refusal.detail


def test_cancel_confirmation_of_our_own_replace_is_not_a_lost_stop() -> None:
    drv, out = _open_then_exit_signal()
    old_id = out.commands[0].cancel_client_order_id  # type: ignore[union-attr]
    after = drv.step(T0 + 3 * HOUR, order_updates=(OrderUpdate(old_id, OrderStatus.CANCELLED),))
    assert after.commands == () and old_id not in drv.state.orders
