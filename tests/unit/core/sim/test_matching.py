from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.sim.costs import Liquidity, SlippageModel
from trader.core.sim.matching import Bar, match_exit, match_order

D = Decimal


def bar(o: str, h: str, low: str, c: str, ts: int = 0) -> Bar:
    return Bar(ts, D(o), D(h), D(low), D(c))


def test_market_order_fills_at_open_plus_slippage_for_buy() -> None:
    m = match_order(OrderType.MARKET, Side.BUY, bar("100", "110", "90", "105"),
                    slippage=SlippageModel(D("0.01")))
    assert m is not None and m.price == D("101.00") and m.liquidity is Liquidity.TAKER


def test_market_sell_slips_down() -> None:
    m = match_order(OrderType.MARKET, Side.SELL, bar("100", "110", "90", "105"),
                    slippage=SlippageModel(D("0.01")))
    assert m is not None and m.price == D("99.00")


def test_sell_stop_touched_fills_at_stop() -> None:
    m = match_order(OrderType.STOP, Side.SELL, bar("100", "101", "94", "99"), trigger=D("95"))
    assert m is not None and m.price == D("95") and not m.gapped


def test_sell_stop_gapped_fills_at_open() -> None:
    m = match_order(OrderType.STOP, Side.SELL, bar("93", "96", "90", "95"), trigger=D("95"))
    assert m is not None and m.price == D("93") and m.gapped


def test_buy_stop_for_short_gapped_fills_at_open() -> None:
    m = match_order(OrderType.STOP, Side.BUY, bar("107", "108", "104", "105"), trigger=D("105"))
    assert m is not None and m.price == D("107")


def test_stop_not_touched_does_not_fill() -> None:
    assert match_order(OrderType.STOP, Side.SELL, bar("100", "101", "95.01", "99"), trigger=D("95")) is None


def test_take_profit_fills_at_its_price_even_when_opened_beyond() -> None:
    m = match_order(OrderType.TAKE_PROFIT, Side.SELL, bar("112", "115", "111", "113"), trigger=D("110"))
    assert m is not None and m.price == D("110") and m.liquidity is Liquidity.MAKER


def test_limit_buy_marketable_at_open_fills_at_open() -> None:
    m = match_order(OrderType.LIMIT, Side.BUY, bar("98", "99", "97", "98"), price=D("100"))
    assert m is not None and m.price == D("98") and m.liquidity is Liquidity.TAKER


def test_limit_buy_touched_fills_at_limit_as_maker() -> None:
    m = match_order(OrderType.LIMIT, Side.BUY, bar("102", "103", "99", "101"), price=D("100"))
    assert m is not None and m.price == D("100") and m.liquidity is Liquidity.MAKER


def test_stop_limit_gapped_beyond_limit_does_not_fill() -> None:
    assert match_order(OrderType.STOP_LIMIT, Side.SELL, bar("90", "92", "89", "91"),
                       trigger=D("95"), price=D("94")) is None


def test_stop_limit_triggered_fills_at_limit() -> None:
    m = match_order(OrderType.STOP_LIMIT, Side.SELL, bar("97", "98", "93", "96"),
                    trigger=D("95"), price=D("94"))
    assert m is not None and m.price == D("94")


def test_missing_trigger_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="stop trigger"):
        match_order(OrderType.STOP, Side.SELL, bar("1", "1", "1", "1"))


def test_oco_must_be_matched_per_leg() -> None:
    with pytest.raises(ValueError, match="leg"):
        match_order(OrderType.OCO, Side.SELL, bar("1", "1", "1", "1"))


def test_inconsistent_candle_rejected() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        bar("100", "99", "98", "99")


def test_exit_both_touched_without_detail_assumes_stop() -> None:
    found = match_exit(Side.SELL, bar("100", "111", "94", "100"), stop=D("95"), take_profit=D("110"))
    assert found is not None and found[0] is OrderPurpose.STOP and found[1].price == D("95")


def test_exit_both_touched_detail_resolves_take_profit_first() -> None:
    detail = [bar("100", "111", "99", "109", 1), bar("109", "109", "94", "95", 2)]
    found = match_exit(Side.SELL, bar("100", "111", "94", "95"), stop=D("95"), take_profit=D("110"),
                       detail=detail)
    assert found is not None and found[0] is OrderPurpose.TAKE_PROFIT and found[1].price == D("110")


def test_exit_detail_candle_touching_both_assumes_stop() -> None:
    detail = [bar("100", "111", "94", "100", 1)]
    found = match_exit(Side.SELL, bar("100", "111", "94", "100"), stop=D("95"), take_profit=D("110"),
                       detail=detail)
    assert found is not None and found[0] is OrderPurpose.STOP


def test_exit_gap_above_target_takes_profit() -> None:
    found = match_exit(Side.SELL, bar("112", "113", "94", "100"), stop=D("95"), take_profit=D("110"))
    assert found is not None and found[0] is OrderPurpose.TAKE_PROFIT and found[1].gapped


def test_short_exit_both_touched_assumes_stop() -> None:
    found = match_exit(Side.BUY, bar("100", "106", "89", "100"), stop=D("105"), take_profit=D("90"))
    assert found is not None and found[0] is OrderPurpose.STOP and found[1].price == D("105")


prices = st.decimals(min_value=1, max_value=1000, places=2, allow_nan=False, allow_infinity=False)


@given(prices, prices, prices, prices, prices)
def test_sell_stop_never_fills_above_stop_or_outside_candle(a: Decimal, b: Decimal, c: Decimal, d: Decimal,
                                                             stop: Decimal) -> None:
    lo, hi = min(a, b, c, d), max(a, b, c, d)
    candle = Bar(0, b if lo <= b <= hi else lo, hi, lo, c if lo <= c <= hi else hi)
    m = match_order(OrderType.STOP, Side.SELL, candle, trigger=stop)
    if m is None:
        assert candle.low > stop
    else:
        assert m.price <= stop and candle.low <= m.price <= candle.high
