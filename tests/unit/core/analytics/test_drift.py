"""analytics.drift: trades from fills, matching by entry time, and the exact split of PnL differences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trader.core.analytics.drift import (
    FilledTrade,
    Leg,
    Status,
    Tolerance,
    Why,
    compare,
    filled_trade,
    filled_trades,
    order_purposes,
)
from trader.core.domain.enums import Direction, ExitReason, OrderPurpose, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol, client_order_id
from trader.core.domain.orders import Fill
from trader.core.positions.state import Position, PositionStatus

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
TOL = Tolerance(time=HOUR)
BTC = Symbol("BTC/USDT")


def trade(entry: str, exit_: str, *, at: datetime = T0, hours: int = 3, amount: str = "0.1",
          fee: str = "1", reason: str = "stop_loss", symbol: str = BTC, tid: str = "p",
          direction: Direction = Direction.LONG) -> FilledTrade:
    opened = Leg(at, Decimal(entry), Decimal(amount), Decimal(fee))
    closed = Leg(at + hours * HOUR, Decimal(exit_), Decimal(amount), Decimal(fee))
    return FilledTrade(tid, symbol, "breakout", direction, opened, closed, reason)


def test_identical_trades_match_with_no_difference() -> None:
    a = trade("100", "110")
    result = compare([a], [a], TOL)
    assert [t.status for t in result.trades] == [Status.MATCHED]
    only = result.trades[0]
    assert only.pnl_difference == 0 and not only.is_logic and not result.logic_differences


def test_a_worse_exit_price_on_the_same_candle_is_slippage_not_logic() -> None:
    expected, actual = trade("100", "110"), trade("100", "109")
    only = compare([expected], [actual], TOL).trades[0]
    assert only.slippage == Decimal("-0.1") and only.logic == 0 and not only.is_logic
    assert only.pnl_difference == actual.pnl - expected.pnl


def test_an_exit_one_candle_later_or_for_another_reason_is_logic() -> None:
    later = compare([trade("100", "110")], [trade("100", "108", hours=4)], TOL).trades[0]
    assert later.why == (Why.EXIT_TIME,) and later.logic == Decimal("-0.2") and later.slippage == 0
    other = compare([trade("100", "110")], [trade("100", "110", reason="take_profit")], TOL).trades[0]
    assert other.why == (Why.EXIT_REASON,)


def test_size_within_the_tolerance_is_execution_beyond_it_logic() -> None:
    expected = trade("100", "110", amount="0.100")
    near = compare([expected], [trade("100", "110", amount="0.102")], TOL).trades[0]
    assert near.size == Decimal("0.020") and not near.is_logic
    far = compare([expected], [trade("100", "110", amount="0.2")], TOL).trades[0]
    assert far.why == (Why.SIZE,) and far.logic == Decimal("1.0") and far.size == 0


def test_unmatched_trades_are_missing_or_extra_with_their_whole_pnl() -> None:
    expected = trade("100", "110", tid="bt")
    extra = trade("100", "90", at=T0 + 10 * HOUR, tid="acct")
    result = compare([expected], [extra], TOL)
    assert [t.status for t in result.trades] == [Status.MISSING, Status.EXTRA]
    assert result.trades[0].logic == -expected.pnl and result.trades[1].logic == extra.pnl
    assert len(result.logic_differences) == 2


def test_entries_a_whole_candle_apart_or_in_another_pair_or_direction_do_not_match() -> None:
    base = trade("100", "110")
    for other in (trade("100", "110", at=T0 + HOUR), trade("100", "110", symbol="ETH/USDT"),
                  trade("100", "90", direction=Direction.SHORT)):
        assert {t.status for t in compare([base], [other], TOL).trades} == {Status.MISSING, Status.EXTRA}
    inside = trade("100", "110", at=T0 + HOUR - timedelta(seconds=1))
    assert compare([base], [inside], TOL).trades[0].status is Status.MATCHED


def test_each_backtest_trade_takes_the_earliest_free_account_trade() -> None:
    first, second = trade("100", "110", tid="a"), trade("100", "110", at=T0 + 5 * HOUR, tid="b")
    result = compare([first, second], [second, first], TOL)
    assert [(t.expected, t.actual) for t in result.trades] == [(first, first), (second, second)]


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("10"), places=3)
fees = st.decimals(min_value=Decimal(0), max_value=Decimal("50"), places=2)


sides = st.tuples(prices, prices, amounts, fees)


@given(sides, sides, st.sampled_from(list(Direction)), st.integers(0, 3), st.booleans())
def test_the_parts_always_add_up_to_the_pnl_difference(
        bt: tuple[Decimal, Decimal, Decimal, Decimal], acct: tuple[Decimal, Decimal, Decimal, Decimal],
        direction: Direction, hours: int, same: bool) -> None:
    expected = trade(str(bt[0]), str(bt[1]), amount=str(bt[2]), fee=str(bt[3]), direction=direction)
    actual = trade(str(acct[0]), str(acct[1]), amount=str(acct[2]), fee=str(acct[3]), direction=direction,
                   hours=3 + hours, reason="stop_loss" if same else "take_profit")
    only = compare([expected], [actual], TOL).trades[0]
    assert only.slippage + only.fees + only.size + only.logic == actual.pnl - expected.pnl


def _fill(order: ClientOrderId, side: Side, amount: str, price: str, at: datetime, *, fee: str = "0.1",
          currency: str = "USDT", n: int = 0) -> Fill:
    return Fill(f"{order}-{n}", order, BTC, side, Decimal(amount), Decimal(price), Decimal(fee), currency, at)


def closed_position(pid: str = "breakout-BTC/USDT-1") -> Position:
    return Position(PositionId(pid), BTC, "breakout", Direction.LONG, PositionStatus.CLOSED, Decimal("0.2"),
                    exit_reason=ExitReason.STOP_LOSS, entry_attempt=1, stop_attempt=2)


def test_a_trade_is_built_from_the_fills_of_the_positions_own_orders() -> None:
    position = closed_position()
    entry = client_order_id(position.id, OrderPurpose.ENTRY, 0)
    stop = client_order_id(position.id, OrderPurpose.STOP, 1)
    assert set(order_purposes(position)) == {entry, client_order_id(position.id, OrderPurpose.STOP, 0), stop}
    fills = [_fill(entry, Side.BUY, "0.1", "100", T0), _fill(entry, Side.BUY, "0.1", "102", T0, n=1),
             _fill(stop, Side.SELL, "0.2", "95", T0 + HOUR, fee="0.0001", currency="BTC"),
             _fill(ClientOrderId("someone-else"), Side.SELL, "1", "1", T0)]
    made = filled_trades([position], fills, "USDT")
    assert len(made) == 1
    got = made[0]
    assert got.entry == Leg(T0, Decimal("101"), Decimal("0.2"), Decimal("0.2"))
    assert got.exit.price == Decimal("95") and got.exit.fee == Decimal("0.0095")  # base fee at the fill price
    assert got.pnl == (Decimal("95") - Decimal("101")) * Decimal("0.2") - Decimal("0.2095")
    assert got.exit_reason == "stop_loss"


def test_open_positions_and_legs_without_fills_make_no_trade() -> None:
    position = closed_position()
    entry = client_order_id(position.id, OrderPurpose.ENTRY, 0)
    fills = {entry: [_fill(entry, Side.BUY, "0.2", "100", T0)]}
    assert filled_trade(position, fills, "USDT") is None  # no exit fill
    still_open = Position(position.id, BTC, "breakout", Direction.LONG, PositionStatus.OPEN, Decimal("0.2"),
                          entry_attempt=1)
    assert filled_trade(still_open, fills, "USDT") is None
