"""A gap past a perpetual's stop and its liquidation price liquidates the position (the whole margin
lost, at the bankruptcy price, no fee) instead of filling at the stop; a gap short of the liquidation
price fills at the open as before. The rule sits in ``SimLedger._settle``, which every simulated fill
(backtest engine path, kernel exits, paper) goes through."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core.backtest.markets import as_swap
from trader.core.domain.enums import Direction, OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.futures import FuturesTerms, liquidation_price
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.orders import OrderRequest
from trader.core.sim.costs import FeeModel, Liquidity
from trader.core.sim.ledger import SimLedger
from trader.core.sim.matching import Bar, Match

D = Decimal
BTC = Symbol("BTC/USDT")
NOW = datetime(2024, 1, 1, tzinfo=UTC)
TERMS = FuturesTerms(leverage=D(2))
PERP = as_swap(MarketSpec(BTC, "BTC", "USDT", D("0.001"), D("0.01"), min_amount=D("0.001")), TERMS)
FEE = D("0.001")


def order(cid: str, side: Side, kind: OrderType, purpose: OrderPurpose, trigger: str | None = None
          ) -> OrderRequest:
    return OrderRequest(ClientOrderId(cid), PositionId("p1"), BTC, side, kind, purpose, D(1), None,
                        D(trigger) if trigger else None)


def bar(o: str, h: str, low: str, c: str, ts: int) -> Bar:
    return Bar(ts, D(o), D(h), D(low), D(c))


def opened(direction: Direction) -> SimLedger:
    """A ledger holding 1 BTC long or short from 50000 at 2x (margin 25000) with its stop resting."""
    sim = SimLedger({"USDT": D(100_000)}, [PERP], fees=FeeModel.flat(FEE))
    side = Side.BUY if direction is Direction.LONG else Side.SELL
    sim.place(order("entry", side, OrderType.MARKET, OrderPurpose.ENTRY), NOW)
    sim.on_bar(BTC, bar("50000", "50000", "50000", "50000", 1))
    stop = "48000" if direction is Direction.LONG else "52000"
    sim.place(order("stop", side.opposite, OrderType.STOP, OrderPurpose.STOP, trigger=stop), NOW)
    return sim


@pytest.mark.parametrize(("direction", "gap", "bankruptcy"), [
    (Direction.SHORT, "80000", D(75000)), (Direction.LONG, "20000", D(25000))])
def test_a_gap_past_the_liquidation_price_loses_the_margin_not_the_stop_loss(
        direction: Direction, gap: str, bankruptcy: Decimal) -> None:
    sim = opened(direction)
    liquidation = liquidation_price(direction, D(50000), D(1), TERMS)
    assert liquidation is not None and (D(gap) > liquidation if direction is Direction.SHORT
                                        else D(gap) < liquidation)
    before = sim.total("USDT")
    [fill] = sim.on_bar(BTC, bar(gap, gap, gap, gap, 2))
    assert (fill.price, fill.fee) == (bankruptcy, 0)
    assert sim.total("USDT") == before - D(25000)  # the whole margin, nothing more
    assert sim.position(BTC) == (0, 0)
    assert sim.order(ClientOrderId("stop")).status is OrderStatus.FILLED  # type: ignore[union-attr]


@pytest.mark.parametrize(("direction", "gap"), [(Direction.SHORT, "60000"), (Direction.LONG, "40000")])
def test_a_gap_short_of_the_liquidation_price_fills_the_stop_at_the_open(direction: Direction,
                                                                        gap: str) -> None:
    sim = opened(direction)
    before = sim.total("USDT")
    [fill] = sim.on_bar(BTC, bar(gap, gap, gap, gap, 2))
    assert fill.price == D(gap) and fill.fee == D(gap) * FEE
    assert sim.total("USDT") == before - D(10000) - fill.fee


def test_a_stop_touched_inside_the_candle_fills_at_the_stop_even_if_the_candle_reaches_liquidation() -> None:
    sim = opened(Direction.SHORT)
    [fill] = sim.on_bar(BTC, bar("50000", "90000", "50000", "80000", 2))  # the stop came first
    assert fill.price == D(52000)


def test_the_backtests_settle_path_liquidates_too() -> None:
    sim = opened(Direction.SHORT)  # the runner prices kernel exits itself, then settles them here
    fill = sim.settle(ClientOrderId("stop"), Match(D(81000), Liquidity.TAKER, gapped=True), NOW)
    assert fill is not None and fill.price == D(75000)


def test_a_perpetuals_account_reports_its_signed_positions_spot_none() -> None:
    assert opened(Direction.SHORT).snapshot("USDT", {BTC: D(50000)}).positions == {BTC: D(-1)}
    spot = SimLedger({"USDT": D(100)}, [replace(PERP, futures=None)])
    assert spot.snapshot("USDT", {BTC: D(50000)}).positions is None


def watched(direction: Direction, terms: FuturesTerms = TERMS, balance: int = 100_000) -> SimLedger:
    """A ledger holding 1 BTC from 50000 with no stop resting: the engine watches it."""
    sim = SimLedger({"USDT": D(balance)}, [replace(PERP, futures=terms)], fees=FeeModel.flat(FEE))
    side = Side.BUY if direction is Direction.LONG else Side.SELL
    sim.place(order("entry", side, OrderType.MARKET, OrderPurpose.ENTRY), NOW)
    sim.on_bar(BTC, bar("50000", "50000", "50000", "50000", 1))
    return sim


@pytest.mark.parametrize(("direction", "candle", "bankruptcy"), [
    (Direction.SHORT, ("50000", "80000", "50000", "51000"), D(75000)),
    (Direction.LONG, ("50000", "50000", "20000", "49000"), D(25000))])
def test_an_engine_watched_position_is_liquidated_when_a_candle_reaches_its_liquidation_price(
        direction: Direction, candle: tuple[str, str, str, str], bankruptcy: Decimal) -> None:
    sim = watched(direction)
    before = sim.total("USDT")
    assert sim.on_bar(BTC, bar(*candle, 2)) == []  # the venue closed it: no order of ours filled
    assert sim.position(BTC) == (D(0), D(0))
    assert sim.total("USDT") == before - D(25000)  # the whole margin, even though the candle came back
    assert sim.snapshot("USDT", {BTC: D(candle[3])}).equity == before - D(25000)
    # the engine, seeing its stop crossed, sends its exit: it is reported at the bankruptcy price, no fee
    side = Side.BUY if direction is Direction.LONG else Side.SELL
    exit_order = sim.place(order("exit", side.opposite, OrderType.MARKET, OrderPurpose.EXIT), NOW)
    assert (exit_order.status, exit_order.average_price) == (OrderStatus.FILLED, bankruptcy)
    assert exit_order.fee == 0
    assert sim.total("USDT") == before - D(25000)  # booked once
    assert sim.liquidated(BTC) == 0


def test_an_engine_watched_position_short_of_its_liquidation_price_stays_open() -> None:
    sim = watched(Direction.SHORT)
    assert sim.on_bar(BTC, bar("50000", "73000", "50000", "60000", 2)) == []
    assert sim.position(BTC) == (D(-1), D(50000))


def test_on_cross_margin_the_free_balance_backs_the_position_and_goes_with_it() -> None:
    cross = FuturesTerms(leverage=D(2), margin_mode="cross")
    sim = watched(Direction.SHORT, cross, balance=30_000)  # 25000 margin, about 4950 free after the fee
    free = sim.balances()["USDT"].free
    isolated = liquidation_price(Direction.SHORT, D(50000), D(1), TERMS)
    on_cross = liquidation_price(Direction.SHORT, D(50000), D(1), cross, D(25000), free=free)
    assert isolated is not None and on_cross is not None and on_cross > isolated
    between = str(int((isolated + on_cross) / 2))
    assert sim.on_bar(BTC, bar("50000", between, "50000", "50000", 2)) == []
    assert sim.position(BTC) == (D(-1), D(50000))  # isolated would have been liquidated here
    sim.on_bar(BTC, bar("50000", "90000", "50000", "50000", 3))
    assert sim.position(BTC) == (D(0), D(0)) and sim.total("USDT") == 0  # margin and free balance lost


@settings(max_examples=200, deadline=None)
@given(direction=st.sampled_from([Direction.LONG, Direction.SHORT]), leverage=st.integers(1, 50),
       move=st.decimals(min_value=D("0.001"), max_value=D("0.99"), places=3))
def test_an_engine_watched_position_loses_exactly_its_margin_iff_a_candle_reaches_its_liquidation_price(
        direction: Direction, leverage: int, move: Decimal) -> None:
    terms = FuturesTerms(leverage=D(leverage))
    sim = watched(direction, terms)
    before, margin = sim.total("USDT"), D(50000) / leverage
    extreme = D(50000) * (1 - move) if direction is Direction.LONG else D(50000) * (1 + move)
    extreme = extreme.quantize(D("0.01"))
    low, high = (extreme, D(50000)) if direction is Direction.LONG else (D(50000), extreme)
    sim.on_bar(BTC, Bar(2, D(50000), high, low, D(50000)))  # the candle comes back to the entry
    liquidation = liquidation_price(direction, D(50000), D(1), terms)
    reached = liquidation is not None and (extreme <= liquidation if direction is Direction.LONG
                                           else extreme >= liquidation)
    if reached:
        assert sim.position(BTC) == (D(0), D(0)) and sim.total("USDT") == before - margin
    else:
        assert sim.position(BTC)[0] == (1 if direction is Direction.LONG else -1)
        assert sim.total("USDT") == before
