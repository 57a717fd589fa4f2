"""Argument parsers: typed results for good input, ArgError naming the problem for bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers import args
from trader.core.errors import ArgError
from trader.services.dto import Outcome, TradeQuery


def test_pair_is_normalised_to_upper_case() -> None:
    assert args.pair("btc/usdt") == "BTC/USDT"


@pytest.mark.parametrize(
    "text", ["BTC", "BTC/", "/USDT", "BTC/USDT/X", "B/USDT", "BTC-USDT", "ＢＴＣ/USDT", ""]
)
def test_pair_rejects_what_is_not_base_slash_quote(text: str) -> None:
    with pytest.raises(ArgError, match="BASE/QUOTE"):
        args.pair(text)


@pytest.mark.parametrize(
    "text", ["-1", "0", "1e3", "NaN", "Infinity", "sNaN", "١", "１", "0x10", "1,5", " 1"]
)
def test_amount_rejects_non_positive_and_non_ascii(text: str) -> None:
    with pytest.raises(ArgError):
        args.amount(text)


def test_amount_accepts_plain_decimals_exactly() -> None:
    assert args.amount("0.1") == Decimal("0.1")
    assert args.amount(".5") == Decimal("0.5")
    with pytest.raises(ArgError, match="far too large"):
        args.amount("1000000000000")


@given(st.text(max_size=30))
def test_amount_never_raises_anything_but_arg_error(text: str) -> None:
    try:
        value = args.amount(text)
    except ArgError:
        return
    assert value > 0 and value.is_finite()


@given(st.text(max_size=20), st.integers(0, 5), st.integers(5, 100))
def test_integer_is_in_range_or_refused(text: str, low: int, high: int) -> None:
    try:
        value = args.integer(text, "N", low, high)
    except ArgError:
        return
    assert low <= value <= high


def test_timeframe_rejects_month_and_unknown() -> None:
    assert args.timeframe("4H") == "4h"
    for bad in ("1M", "7h", "0m", "1y"):
        with pytest.raises(ArgError, match="Unknown timeframe"):
            args.timeframe(bad)


@pytest.mark.parametrize(("text", "days"), [("90", 90), ("90d", 90), ("12w", 84), ("6m", 180), ("1y", 365)])
def test_period_units_convert_to_days(text: str, days: int) -> None:
    assert args.period_days(text) == days


def test_trades_accepts_tokens_in_any_order_once_each() -> None:
    assert args.trades(["lost", "5", "eth/usdt"]) == TradeQuery("ETH/USDT", Outcome.LOST, 0, 5)
    assert args.trades([]) == TradeQuery()
    with pytest.raises(ArgError, match="Unexpected argument: won"):
        args.trades(["won", "won"])


def test_chart_and_backtest_fill_in_defaults() -> None:
    chart = args.chart(["BTC/USDT", "200"])
    assert (chart.pair, chart.timeframe, chart.candles) == ("BTC/USDT", "1h", 200)
    test = args.backtest(["Breakout", "eth/usdt"])
    assert (test.strategy, test.pair, test.timeframe, test.days) == ("breakout", "ETH/USDT", "1h", 90)


def test_position_target_is_all_or_a_safe_id() -> None:
    assert args.position_target(["ALL"]) is None
    assert args.position_target(["P12"]) == "P12"
    with pytest.raises(ArgError, match="Not a position id"):
        args.position_target(["P1;DROP"])


def test_long_input_is_shortened_in_messages() -> None:
    with pytest.raises(ArgError) as raised:
        args.pair("X" * 500)
    assert len(str(raised.value)) < 100
