"""Exit signals only close the positions of the strategy that gave them (several strategies per pair)."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.core.engine.test_step import BTC, CONFIG, HOUR, T0, Driver, candle, signal
from trader.core.domain.commands import ReplaceStop
from trader.core.positions.state import PositionStatus


def _open_for(drv: Driver) -> None:
    _, price = candle(99, 101, 99, 100, T0)
    drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: signal(enter=True)})
    bar, _ = candle(100, 102, 99.5, 101, T0 + HOUR)
    drv.bar(bar, T0 + HOUR)
    assert [p.status for p in drv.state.positions.values()] == [PositionStatus.OPEN]


def test_exit_signal_of_another_strategy_leaves_the_position_open() -> None:
    drv = Driver()
    _open_for(drv)
    drv.config = replace(CONFIG, strategy="other")
    _, price = candle(101, 101, 100, 100.5, T0 + 2 * HOUR)
    out = drv.step(T0 + 3 * HOUR, prices={BTC: price}, signals={BTC: signal(exit_=True)})
    assert out.commands == ()
    assert [p.status for p in drv.state.positions.values()] == [PositionStatus.OPEN]


def test_exit_signal_of_the_owning_strategy_sends_the_market_exit() -> None:
    drv = Driver()
    _open_for(drv)
    _, price = candle(101, 101, 100, 100.5, T0 + 2 * HOUR)
    out = drv.step(T0 + 3 * HOUR, prices={BTC: price}, signals={BTC: signal(exit_=True)})
    assert [type(c) for c in out.commands] == [ReplaceStop]  # the OCO makes way for the market exit
    assert [p.status for p in drv.state.positions.values()] == [PositionStatus.EXITING]
