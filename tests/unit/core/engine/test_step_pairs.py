"""Pair groups through step(): both legs opened and closed together, a failed leg unwinds the other."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trader.config.sections import RiskConfig
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.commands import CancelOrder, PlaceOrder
from trader.core.domain.entries import RefusalReason
from trader.core.domain.enums import Direction, ExitReason, OrderPurpose, OrderStatus, Side
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import PositionId, Symbol
from trader.core.domain.market import Capabilities, MarketSpec
from trader.core.domain.orders import Fill
from trader.core.engine.actions import ClosePosition, Halt
from trader.core.engine.events import EntryRefused, GroupClosed, GroupOpened
from trader.core.engine.inputs import EngineConfig, StepInput, StepOutput
from trader.core.engine.orders import OrderUpdate
from trader.core.engine.pair_groups import GroupPosition, LegBook, PairSignal
from trader.core.engine.state import EngineState
from trader.core.engine.step import step
from trader.core.positions.pair_group import GroupStatus, Leg, PairGroup
from trader.core.positions.position_events import PriceUpdated
from trader.core.positions.state import PositionStatus
from trader.services.closed_trades import is_trade

D = Decimal
ETH, BTC = Symbol("ETH/USDT"), Symbol("BTC/USDT")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
SWAP = Capabilities(native_stop=True, shorting=True)
MARKETS = {
    ETH: MarketSpec(ETH, "ETH", "USDT", D("0.0001"), D("0.01"), min_cost=D(5), capabilities=SWAP,
                    futures=FuturesTerms(D(2))),
    BTC: MarketSpec(BTC, "BTC", "USDT", D("0.00001"), D("0.1"), min_cost=D(5), capabilities=SWAP,
                    futures=FuturesTerms(D(2))),
}
CONFIG = EngineConfig("pairs", RiskConfig(cooldown_minutes=0, cooldown_after_loss_minutes=0), MARKETS)
PRICES = {ETH: D(2000), BTC: D(40000)}


def tick(prices: dict[Symbol, Decimal] = PRICES) -> dict[Symbol, PriceUpdated]:
    return {s: PriceUpdated(p, p, p, T0) for s, p in prices.items()}


def pair(**flags: bool) -> dict[str, PairSignal]:
    signal = PairSignal(ETH, BTC, beta=0.8, zscore=-2.6, **flags)
    return {signal.key: signal}


class Engine:
    def __init__(self) -> None:
        self.state = EngineState()
        self.now = T0
        self.fills = 0

    def step(self, **kwargs: object) -> StepOutput:
        self.now += HOUR
        account = AccountSnapshot("USDT", D(10_000), D(10_000))
        out = step(self.state, StepInput(self.now, account, CONFIG, **kwargs))  # type: ignore[arg-type]
        self.state = out.state
        return out

    def fill(self, order: PlaceOrder, price: Decimal, amount: Decimal | None = None) -> OrderUpdate:
        self.fills += 1
        request = order.request
        done = request.amount if amount is None else amount
        fill = Fill(f"t{self.fills}", request.client_order_id, request.symbol, request.side, done, price,
                    done * price * D("0.0005"), "USDT", self.now)
        return OrderUpdate(request.client_order_id, OrderStatus.FILLED, fill)


def open_group() -> GroupPosition:
    """Return an OPEN long-spread group: 1.5 ETH bought at 2,000, 0.06 BTC sold at 40,000."""
    legs = (Leg("ETH/USDT", Side.BUY, D("1.5"), D("1.5")), Leg("BTC/USDT", Side.SELL, D("0.06"), D("0.06")))
    books = (LegBook(entry_price=D(2000), fees=D("1.5")), LegBook(entry_price=D(40000), fees=D("1.2")))
    group = PairGroup("pairs-ETH/USDT-BTC/USDT-20240101T0000-1", legs, GroupStatus.OPEN)
    return GroupPosition(group, "pairs", 1, D("0.8"), -2.6, books, T0, reduce_only=True, opened_at=T0)


def places(out: StepOutput) -> list[PlaceOrder]:
    return [c for c in out.commands if isinstance(c, PlaceOrder)]


def test_a_long_spread_opens_both_legs_sized_by_beta_and_closes_both_on_the_target() -> None:
    eng = Engine()
    out = eng.step(prices=tick(), pair_signals=pair(enter_long=True))
    y, x = places(out)
    assert (y.request.symbol, y.request.side) == (ETH, Side.BUY)
    assert (x.request.symbol, x.request.side) == (BTC, Side.SELL)
    assert y.request.amount == D("1.5") and x.request.amount == D("0.06")  # 0.3 x 10,000; beta 0.8 of that
    assert y.request.purpose is OrderPurpose.ENTRY and not y.request.reduce_only
    out = eng.step(order_updates=(eng.fill(y, D(2000)), eng.fill(x, D(40000))))
    assert [type(e) for e in out.events] == [GroupOpened]
    group = next(iter(eng.state.groups.values()))
    assert group.group.status is GroupStatus.OPEN and group.books[0].entry_price == D(2000)
    out = eng.step(prices=tick({ETH: D(2100), BTC: D(40000)}), pair_signals=pair(exit_long=True))
    cy, cx = places(out)
    assert (cy.request.side, cy.request.amount, cx.request.side, cx.request.amount) == \
        (Side.SELL, D("1.5"), Side.BUY, D("0.06"))
    assert cy.request.reduce_only and cy.request.purpose is OrderPurpose.EXIT
    out = eng.step(order_updates=(eng.fill(cy, D(2100)), eng.fill(cx, D(40000))))
    closed = [e for e in out.events if isinstance(e, GroupClosed)]
    assert closed and closed[0].group.group.status is GroupStatus.CLOSED
    fees = (D("1.5") * 2000 + D("0.06") * 40000 + D("1.5") * 2100 + D("0.06") * 40000) * D("0.0005")
    assert closed[0].group.realised_pnl == D("1.5") * 100 - fees
    assert not eng.state.groups and not eng.state.orders and eng.state.history == (D("1.5") * 100 - fees,)
    # each leg is a CLOSED position of the pairs strategy: what the trade history and /profit read
    ly, lx = closed[0].legs
    gid = closed[0].group.id
    assert (ly.id, ly.symbol, ly.direction) == (f"{gid}:0", ETH, Direction.LONG)
    assert ly.status is PositionStatus.CLOSED
    assert (lx.id, lx.symbol, lx.direction, lx.strategy) == (f"{gid}:1", BTC, Direction.SHORT, "pairs")
    assert (ly.filled, ly.entry_price, ly.exit_price, lx.filled, lx.entry_price, lx.exit_price) == \
        (D("1.5"), D(2000), D(2100), D("0.06"), D(40000), D(40000))
    fees_y = (D("1.5") * 2000 + D("1.5") * 2100) * D("0.0005")
    assert ly.fees == fees_y and lx.fees == fees - fees_y
    assert (ly.realised_pnl, lx.realised_pnl) == (D("1.5") * 100 - fees_y, fees_y - fees)
    assert ly.realised_pnl + lx.realised_pnl == closed[0].group.realised_pnl
    assert ly.exit_reason is ExitReason.SIGNAL and ly.closed_at == eng.now and ly.opened_at == T0 + 2 * HOUR
    assert ly.leverage == D(2) and is_trade(ly) and is_trade(lx)


def test_a_rejected_leg_cancels_the_other_and_unwinds_what_it_filled_ending_flat() -> None:
    eng = Engine()
    y, x = places(eng.step(prices=tick(), pair_signals=pair(enter_short=True)))
    rejected = OrderUpdate(x.request.client_order_id, OrderStatus.REJECTED, reason="insufficient margin")
    out = eng.step(order_updates=(rejected,))
    cancels = [c for c in out.commands if isinstance(c, CancelOrder)]
    assert cancels == [CancelOrder(ETH, y.request.client_order_id)]
    # the cancel came too late: the y leg (sold short) filled, so it is bought back
    out = eng.step(order_updates=(eng.fill(y, D(2000)),))
    (unwind,) = places(out)
    assert (unwind.request.symbol, unwind.request.side, unwind.request.amount) == (ETH, Side.BUY, D("1.5"))
    assert next(iter(eng.state.groups.values())).group.status is GroupStatus.UNWINDING
    out = eng.step(order_updates=(eng.fill(unwind, D(2010)),))
    closed = [e for e in out.events if isinstance(e, GroupClosed)]
    assert closed and closed[0].group.group.status is GroupStatus.FAILED
    assert not eng.state.groups and not eng.state.orders
    # the leg that filled and was bought back is a trade (its loss counts); the rejected one is none
    (leg,) = closed[0].legs
    assert (leg.symbol, leg.direction) == (ETH, Direction.SHORT)
    assert (leg.entry_price, leg.exit_price) == (D(2000), D(2010))
    assert leg.realised_pnl == D("-15") - (D("1.5") * 2000 + D("1.5") * 2010) * D("0.0005")
    assert leg.exit_reason is None and leg.note and is_trade(leg)


def test_a_dropped_closing_order_is_sent_again_for_its_rest_with_the_next_price() -> None:
    eng = Engine()
    y, x = places(eng.step(prices=tick(), pair_signals=pair(enter_long=True)))
    eng.step(order_updates=(eng.fill(y, D(2000)), eng.fill(x, D(40000))))
    cy, cx = places(eng.step(actions=(ClosePosition(PositionId(next(iter(eng.state.groups)))),)))
    part = eng.fill(cy, D(2000), D("0.5"))
    out = eng.step(order_updates=(part, OrderUpdate(cy.request.client_order_id, OrderStatus.CANCELLED),
                                  eng.fill(cx, D(40000))))
    assert not places(out)  # sent again with the next price, not within the same cycle
    (again,) = places(eng.step(prices=tick()))
    assert again.request.amount == D(1) and again.request.client_order_id != cy.request.client_order_id
    out = eng.step(order_updates=(eng.fill(again, D(2000)),))
    assert any(isinstance(e, GroupClosed) for e in out.events) and not eng.state.groups


def test_halt_with_flatten_closes_groups_and_a_halted_engine_opens_none() -> None:
    eng = Engine()
    y, x = places(eng.step(prices=tick(), pair_signals=pair(enter_long=True)))
    eng.step(order_updates=(eng.fill(y, D(2000)), eng.fill(x, D(40000))))
    out = eng.step(actions=(Halt("test", flatten=True),))
    assert len(places(out)) == 2
    assert next(iter(eng.state.groups.values())).group.status is GroupStatus.CLOSING
    fresh = Engine()
    fresh.state = replace(EngineState(), risk=eng.state.risk)
    out = fresh.step(prices=tick(), pair_signals=pair(enter_long=True))
    refused = [e for e in out.events if isinstance(e, EntryRefused)]
    assert refused and refused[0].refusal.reason is RefusalReason.HALTED and not out.commands


def test_an_entry_whose_legs_cost_more_than_the_free_balance_is_refused() -> None:
    signal = PairSignal(ETH, BTC, beta=40.0, zscore=-2.6, enter_long=True)
    out = Engine().step(prices=tick(), pair_signals={signal.key: signal})
    refused = [e for e in out.events if isinstance(e, EntryRefused)]
    assert refused and refused[0].refusal.reason is RefusalReason.INSUFFICIENT_FUNDS


def test_funding_on_a_leg_is_booked_on_that_leg_and_counts_in_the_pnl() -> None:
    eng = Engine()
    y, x = places(eng.step(prices=tick(), pair_signals=pair(enter_long=True)))
    eng.step(order_updates=(eng.fill(y, D(2000)), eng.fill(x, D(40000))))
    eng.step(funding={BTC: D("-1.25"), ETH: D("0.5")})  # the short BTC leg receives, the long ETH leg pays
    group = next(iter(eng.state.groups.values()))
    assert (group.books[0].funding, group.books[1].funding) == (D("0.5"), D("-1.25"))
    cy, cx = places(eng.step(actions=(ClosePosition(PositionId(group.id)),)))
    out = eng.step(order_updates=(eng.fill(cy, D(2000)), eng.fill(cx, D(40000))))
    (closed,) = [e for e in out.events if isinstance(e, GroupClosed)]
    fees = (D("1.5") * 2000 + D("0.06") * 40000) * 2 * D("0.0005")
    assert closed.group.realised_pnl == -fees + D("0.75")
    ly, lx = closed.legs  # each leg's record has its own funding in its PnL, as a single position's has
    assert (ly.funding, lx.funding) == (D("0.5"), D("-1.25")) and ly.exit_reason is ExitReason.MANUAL
    assert ly.realised_pnl == -(D("1.5") * 2000 * 2 * D("0.0005")) - D("0.5")
    assert ly.realised_pnl + lx.realised_pnl == closed.group.realised_pnl


def test_a_close_while_opening_cancels_the_legs_and_a_group_that_filled_anyway_closes_at_once() -> None:
    eng = Engine()
    y, x = places(eng.step(prices=tick(), pair_signals=pair(enter_long=True)))
    out = eng.step(actions=(Halt("test", flatten=True),))
    cancels = [c for c in out.commands if isinstance(c, CancelOrder)]
    assert {c.client_order_id for c in cancels} == {y.request.client_order_id, x.request.client_order_id}
    # both legs filled before the cancels landed: the group closes as soon as it is open
    out = eng.step(order_updates=(eng.fill(y, D(2000)), eng.fill(x, D(40000))))
    cy, cx = places(out)
    assert (cy.request.side, cx.request.side) == (Side.SELL, Side.BUY)
    group = next(iter(eng.state.groups.values()))
    assert group.group.status is GroupStatus.CLOSING and group.exit_reason == "halt"
    # the other way: the cancel of the y leg lands, the x leg had filled: it is bought back
    eng = Engine()
    y, x = places(eng.step(prices=tick(), pair_signals=pair(enter_long=True)))
    eng.step(actions=(Halt("test", flatten=True),))
    out = eng.step(order_updates=(eng.fill(x, D(40000)), OrderUpdate(y.request.client_order_id,
                                                                      OrderStatus.CANCELLED)))
    (unwind,) = places(out)
    assert (unwind.request.symbol, unwind.request.side) == (BTC, Side.BUY)
    out = eng.step(order_updates=(eng.fill(unwind, D(40000)),))
    (closed,) = [e for e in out.events if isinstance(e, GroupClosed)]
    assert closed.group.group.status is GroupStatus.FAILED and not eng.state.groups
