"""DCA inside ``step``: exits planned from the entry, a safety order at its level, re-planned after the fill,
and risk refusing an add that would make the position too big (the slot is then skipped)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.unit.core.engine.test_step import BTC, CONFIG, HOUR, T0, Driver, candle, signal
from trader.config.sections import DcaConfig
from trader.core.domain.commands import CancelOrder, PlaceOrder
from trader.core.domain.entries import RefusalReason
from trader.core.domain.enums import OrderPurpose, OrderType
from trader.core.engine.events import EntryRefused
from trader.core.positions.state import Position, PositionStatus

D = Decimal

LADDER = DcaConfig(safety_orders=2, step=D("0.02"), size_scale=D(2), take_profit=D("0.03"), stop=D("0.06"))


def _driver(max_position: str) -> Driver:
    risk = CONFIG.risk.model_copy(update={"sizing": "fixed_fraction", "risk_per_trade": D("0.003"),
                                          "max_position_pct": D(max_position), "dca": LADDER})
    return Driver(replace(CONFIG, risk=risk))


def _only(drv: Driver) -> Position:
    (position,) = drv.state.positions.values()
    return position


def _open(drv: Driver) -> Position:
    _, price = candle(99, 101, 99, 100, T0)
    drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: signal(enter=True)})
    bar, _ = candle(100, 100.5, 99.5, 100, T0 + HOUR)
    drv.bar(bar, T0 + HOUR)
    return _only(drv)


def test_a_close_at_the_safety_level_adds_and_the_fill_replans_both_exits_from_the_average() -> None:
    drv = _driver("0.9")
    position = _open(drv)
    # the strategy's 98 / 104 were replaced by 6 % / 3 % from the entry reference (100)
    assert position.stop_price == D("94.00") and position.take_profit == D("103.00")
    first = position.amount
    _, above = candle(100, 100, 98.05, 98.1, T0 + 2 * HOUR)  # 98.1: not yet at the 98 level
    assert drv.step(T0 + 3 * HOUR, prices={BTC: above}).commands == ()
    _, at_level = candle(98.1, 98.2, 97.5, 98.0, T0 + 3 * HOUR)
    out = drv.step(T0 + 4 * HOUR, prices={BTC: at_level})
    cancel, add = out.commands
    assert isinstance(cancel, CancelOrder) and isinstance(add, PlaceOrder)
    assert add.request.purpose is OrderPurpose.ENTRY and add.request.type is OrderType.MARKET
    assert add.request.amount == first * 2
    bar, _ = candle(98, 98.5, 97.8, 98.2, T0 + 4 * HOUR)
    filled = drv.bar(bar, T0 + 4 * HOUR)
    assert filled is not None
    position = _only(drv)
    assert position.filled == first * 3 and position.entry_price is not None
    assert abs(position.entry_price - (100 * first + 98 * 2 * first) / (3 * first)) < D("0.01")
    assert position.stop_price == (position.entry_price * D("0.94")).quantize(D("0.01"))
    oco = filled.commands[0]
    assert isinstance(oco, PlaceOrder) and oco.request.type is OrderType.OCO
    assert oco.request.amount == first * 3 and oco.request.price == position.take_profit


def test_risk_refuses_an_add_past_max_position_and_the_next_level_is_waited_for() -> None:
    drv = _driver("0.1")  # the first order (~4.6 % of equity) fits, with the 2x add (~14 %) it would not
    first = _open(drv)
    _, at_level = candle(98.1, 98.2, 97.5, 97.9, T0 + 3 * HOUR)
    out = drv.step(T0 + 4 * HOUR, prices={BTC: at_level})
    assert out.commands == ()
    (refused,) = [e for e in out.events if isinstance(e, EntryRefused)]
    assert refused.refusal.reason is RefusalReason.MAX_EXPOSURE
    assert refused.refusal.detail.startswith("safety order 1:")
    position = _only(drv)
    assert position.amount == first.amount and position.entry_attempt == 2  # slot 1 used up
    _, same_level = candle(97.9, 98, 97.6, 97.8, T0 + 4 * HOUR)
    assert drv.step(T0 + 5 * HOUR, prices={BTC: same_level}).events == ()  # no refusal every candle
    assert _only(drv).status is PositionStatus.OPEN
