"""A leveraged short through step() and the real simulator ledger: margin, stop above, trailing, funding."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from tests.unit.core.engine.test_step import BTC, CONFIG, HOUR, MARKET, T0, Driver, candle
from trader.config.sections import RiskConfig, TrailingConfig
from trader.core.domain.entries import Approved, RefusalReason
from trader.core.domain.enums import Direction, ExitReason, OrderType, Side
from trader.core.domain.futures import FuturesTerms, liquidation_price
from trader.core.domain.market import Capabilities
from trader.core.engine.events import EntryApproved, EntryRefused, PositionClosed, StopMoved
from trader.core.engine.inputs import EngineConfig
from trader.core.positions.pnl import position_liquidation
from trader.core.sim.costs import FeeModel
from trader.core.sim.ledger import SimLedger
from trader.core.strategies.base import Signal

D = Decimal
TERMS = FuturesTerms(leverage=D(5))
SWAP = replace(MARKET, capabilities=Capabilities(native_stop=True, shorting=True), futures=TERMS)
RISK = RiskConfig(max_position_pct=D(1), cooldown_minutes=0, cooldown_after_loss_minutes=0,
                  trailing=TrailingConfig(enabled=True, distance=D("0.02"), min_step=D(0)))


def short_signal(stop: float = 103.0) -> Signal:
    return Signal(0, False, False, True, False, 0.9, stop, None, "test")


def driver(allow_short: bool = True, risk: RiskConfig = RISK) -> Driver:
    drv = Driver(EngineConfig("test", risk, {BTC: SWAP}, allow_short=allow_short))
    drv.ledger = SimLedger({"USDT": D(10_000)}, [SWAP], fees=FeeModel.flat(D("0.001")))
    return drv


def test_short_signals_are_ignored_unless_the_strategy_allows_shorts() -> None:
    drv = driver(allow_short=False)
    _, price = candle(99, 101, 99, 100, T0)
    out = drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: short_signal()})
    assert not out.commands and not out.events


def test_a_leveraged_short_locks_margin_rests_its_stop_above_trails_down_pays_funding_and_closes() -> None:
    drv = driver()
    _, price = candle(99, 101, 99, 100, T0)
    out = drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: short_signal()})
    approved = next(e for e in out.events if isinstance(e, EntryApproved)).decision
    assert isinstance(approved, Approved) and approved.leverage == 5
    assert approved.liquidation_price == liquidation_price(Direction.SHORT, D(100), approved.amount, TERMS)
    entry = out.commands[0].request  # type: ignore[union-attr]
    assert entry.side is Side.SELL and entry.type is OrderType.MARKET
    bar, _ = candle(100, 100.5, 99.5, 100, T0 + HOUR)
    opened = drv.bar(bar, T0 + HOUR)
    assert opened is not None
    stop = opened.commands[0].request  # type: ignore[union-attr]
    assert stop.side is Side.BUY and stop.trigger_price == D(103) > D(100)  # a short's stop rests above
    # 1 % risk at a 3 % stop: about a third of equity in notional, a fifth of that locked as margin
    notional = approved.amount * D(100)
    assert drv.ledger.balances()["USDT"].used == notional / 5
    position = next(iter(drv.state.positions.values()))
    assert position.direction is Direction.SHORT and position.leverage == 5
    liq = position_liquidation(position, TERMS)
    assert liq is not None and liq > position.stop_price  # type: ignore[operator]
    # shown on cross margin, the account's free balance backs it too: further away; nothing free: the same
    cross = replace(TERMS, margin_mode="cross")
    further = position_liquidation(position, cross, D(1000))
    assert further is not None and further > liq and position_liquidation(position, cross) == liq
    # price falls: the trailing stop follows it down, never up
    bar, price = candle(100, 100, 95, 95.5, T0 + 2 * HOUR)
    drv.ledger.on_bar(BTC, bar)
    out = drv.step(T0 + 3 * HOUR, prices={BTC: price})
    moved = [e for e in out.events if isinstance(e, StopMoved)]
    assert moved and moved[0].new < moved[0].old and moved[0].new == D("96.90")
    # funding: shorts receive a positive rate; booked on the position and in the ledger alike
    received = drv.ledger.charge_funding(BTC, D("0.0001"), D(95.5))
    assert received < 0
    drv.step(T0 + 3 * HOUR + timedelta(minutes=1), funding={BTC: received})
    position = next(iter(drv.state.positions.values()))
    assert position.funding == received
    # the price comes back: the moved stop buys the short back, at a profit
    bar, _ = candle(95.5, 97.5, 95.4, 97, T0 + 4 * HOUR)
    done = drv.bar(bar, T0 + 4 * HOUR)
    assert done is not None
    closed = next(e for e in done.events if isinstance(e, PositionClosed)).position
    assert closed.exit_reason is ExitReason.TRAILING_STOP and closed.exit_price == D("96.90")
    expected = (D(100) - D("96.90")) * closed.filled - closed.fees - received
    assert closed.realised_pnl == expected > 0
    balance = drv.ledger.balances()["USDT"]
    assert balance.used == 0 and balance.free == D(10_000) + closed.realised_pnl  # ledger and position agree


def test_a_stop_beyond_the_liquidation_price_is_refused_before_any_order() -> None:
    risky = replace(SWAP, futures=FuturesTerms(leverage=D(50)))
    drv = driver()
    drv.config = EngineConfig("test", RISK, {BTC: risky}, allow_short=True)
    _, price = candle(99, 101, 99, 100, T0)
    out = drv.step(T0 + HOUR, prices={BTC: price}, signals={BTC: short_signal(stop=103.0)})
    refused = [e for e in out.events if isinstance(e, EntryRefused)]
    assert not out.commands and refused[0].refusal.reason is RefusalReason.LIQUIDATION_TOO_CLOSE


def test_funding_is_split_over_the_pairs_positions_by_size() -> None:
    risk = RISK.model_copy(update={"max_positions_per_pair": 2})
    drv = driver(risk=risk)
    for hour in (1, 2):
        _, price = candle(99, 101, 99, 100, T0 + (hour - 1) * HOUR)
        drv.step(T0 + hour * HOUR, prices={BTC: price}, signals={BTC: short_signal(103.0 + hour)})
        bar, _ = candle(100, 100.2, 99.8, 100, T0 + hour * HOUR)
        drv.bar(bar, T0 + hour * HOUR)
    assert len(drv.state.positions) == 2
    drv.step(T0 + 5 * HOUR, funding={BTC: D("1.23")})
    shares = [p.funding for p in drv.state.positions.values()]
    assert sum(shares) == D("1.23") and shares[0] != shares[1]
    assert CONFIG.markets[BTC].futures is None  # the spot tests' market is untouched
