"""The one number formatter over zero, negative, tiny, huge, infinite, NaN and undefined values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trader.core.formatting import money, number, percent, price, qty, ratio

D = Decimal
INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(("value", "kwargs", "text"), [
    (D("1234.5"), {}, "1,234.50"),
    (D("1234.5"), {"quote": "USDT", "sign": True}, "+1,234.50 USDT"),
    (D("-47.9249"), {"quote": "USDT", "sign": True}, "-47.92 USDT"),
    (D("0E+18"), {}, "0.00"),  # what a Decimal division by a large number leaves
    (D("-0.004"), {"sign": True}, "0.00"),  # no "-0.00" or "+0.00"
    (D("0.005"), {}, "0.00"),  # half-even, like every Decimal rounding in the product
    (0.9154665135144889, {}, "0.92"),
    (D("1E+30"), {}, "1,000,000,000,000,000,000,000,000,000,000.00"),
    (None, {}, "n/a"),
    (None, {"why": "no price", "quote": "USDT"}, "n/a (no price) USDT"),
    (D("Infinity"), {}, "n/a (unbounded)"),
    (D("NaN"), {}, "n/a (not a number)"),
    (NAN, {}, "n/a (not a number)"),
])
def test_money(value: Decimal | float | None, kwargs: dict[str, object], text: str) -> None:
    assert money(value, **kwargs) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "kwargs", "text"), [
    (D("-0.019163"), {}, "-1.92%"),
    (D("0.025479"), {}, "+2.55%"),
    (D("0.025479"), {"sign": False}, "2.55%"),
    (0.5, {"digits": 0, "sign": False}, "50%"),
    (0.0, {}, "0.00%"),
    (D("-1E-10"), {}, "0.00%"),
    (D("0E+18"), {}, "0.00%"),
    (3.0, {}, "+300.00%"),
    (None, {}, "n/a"),
    (None, {"why": "no trades"}, "n/a (no trades)"),
    (INF, {}, "n/a (unbounded)"),
    (-INF, {}, "n/a (unbounded)"),
    (NAN, {"why": "no equity"}, "n/a (no equity)"),
])
def test_percent_takes_a_fraction(value: Decimal | float | None, kwargs: dict[str, object],
                                  text: str) -> None:
    assert percent(value, **kwargs) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "kwargs", "text"), [
    (1.6666666666666667, {}, "1.67"),
    (D("0E+18"), {}, "0.00"),  # profit factor when every trade lost
    (D("1.234567890123456789012345678"), {}, "1.23"),
    (-0.9154665135144889, {}, "-0.92"),
    (-0.001, {}, "0.00"),
    (0, {}, "0.00"),
    (12345.678, {"digits": 1}, "12345.7"),
    (INF, {"why": "no losing trades"}, "n/a (no losing trades)"),
    (INF, {}, "n/a (unbounded)"),
    (NAN, {}, "n/a (not a number)"),
    (None, {"why": "under 2 days of equity"}, "n/a (under 2 days of equity)"),
])
def test_ratio(value: Decimal | float | None, kwargs: dict[str, object], text: str) -> None:
    assert ratio(value, **kwargs) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "text"), [
    (D("0.0500"), "0.05"),
    (D("0.9154665135144889"), "0.91546651"),  # at most 8 decimals: a satoshi
    (D("1E+2"), "100"),
    (D("0"), "0"),
    (D("0E-8"), "0"),
    (D("-0.000000001"), "0"),
    (D("-2.5"), "-2.5"),
    (0.1, "0.1"),
    (None, "n/a"),
    (D("Infinity"), "n/a (unbounded)"),
    (NAN, "n/a (not a number)"),
])
def test_qty(value: Decimal | float | None, text: str) -> None:
    assert qty(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (D("64000.5"), "64,000.50"),
    (D("1.23456"), "1.2346"),
    (D("0.0000123456"), "0.00001235"),
    (D("-0.5"), "-0.50000000"),
    (D("0"), "0.00000000"),
    (3159.4195, "3,159.42"),
    (None, "n/a"),
    (INF, "n/a (unbounded)"),
])
def test_price(value: Decimal | float | None, text: str) -> None:
    assert price(value) == text


def test_number_and_reasons() -> None:
    assert number(1234.5) == "1,234.50" and number(2.0, digits=0) == "2"
    assert number(None, why="no trades") == "n/a (no trades)"
    assert number(NAN) == "n/a (not a number)"


@pytest.mark.parametrize("render", [money, percent, ratio, number, price, qty])
@pytest.mark.parametrize("value", [INF, -INF, NAN, D("Infinity"), D("-Infinity"), D("NaN"), D("sNaN"), None])
def test_no_formatter_ever_prints_inf_nan_or_an_exponent(render: object, value: object) -> None:
    text = render(value)  # type: ignore[operator]
    assert text.startswith("n/a")
    assert not any(bad in text.lower() for bad in ("inf)", "nan", "e+", "e-"))


def test_rounding_is_half_even_whatever_the_thread_context_says() -> None:
    import decimal

    with decimal.localcontext() as context:
        context.rounding = decimal.ROUND_UP  # as a library may set it for the whole process
        assert money(D("0.005")) == "0.00" and money(D("0.001")) == "0.00"
        assert money(D("0.015")) == "0.02"
