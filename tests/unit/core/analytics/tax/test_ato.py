"""ATO rules: the 12-month discount boundary, income years, and losses offset before the discount."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from trader.core.analytics.tax import FinancialYear, is_discount_eligible, net_capital_gain

D = Decimal


@pytest.mark.parametrize(
    ("acquired", "disposed", "eligible"),
    [
        (date(2001, 2, 2), date(2002, 2, 2), False),  # exactly 12 months: not eligible
        (date(2001, 2, 2), date(2002, 2, 3), True),  # the ATO's own example: eligible on or after 3 Feb
        (date(2023, 3, 10), date(2024, 3, 10), False),
        (date(2023, 3, 10), date(2024, 3, 11), True),
        (date(2024, 2, 29), date(2025, 2, 28), False),  # leap day: anniversary is 28 Feb
        (date(2024, 2, 29), date(2025, 3, 1), True),
        (date(2023, 6, 30), date(2023, 12, 31), False),
    ],
)
def test_discount_needs_more_than_twelve_months_excluding_both_days(
        acquired: date, disposed: date, eligible: bool) -> None:
    assert is_discount_eligible(acquired, disposed) is eligible


def test_financial_year_2024_runs_july_2023_to_june_2024() -> None:
    fy = FinancialYear(2024)
    assert (fy.start, fy.end, fy.label) == (date(2023, 7, 1), date(2024, 6, 30), "FY2023-24")
    assert fy.contains(date(2024, 6, 30)) and not fy.contains(date(2024, 7, 1))


def test_losses_offset_before_discount_not_after() -> None:
    s = net_capital_gain([(D(1000), True), (D(-400), False)])
    assert s.net_capital_gain == D(300)  # (1000 - 400) x 50 %, not 1000 x 50 % - 400 = 100
    assert (s.total_gains, s.total_losses, s.discount_eligible_gains) == (D(1000), D(400), D(1000))


def test_losses_go_to_non_discountable_gains_first() -> None:
    s = net_capital_gain([(D(1000), True), (D(200), False), (D(-500), False)])
    assert s.net_capital_gain == D(350)  # 200 non-discount absorbed, (1000 - 300) x 50 %
    assert s.discount_applied == D(350)


def test_excess_losses_carry_forward_and_net_gain_is_zero() -> None:
    s = net_capital_gain([(D(100), False), (D(-300), False)], prior_year_losses=D(50))
    assert (s.net_capital_gain, s.losses_carried_forward) == (D(0), D(250))


def test_super_fund_discount_rate_is_a_parameter() -> None:
    s = net_capital_gain([(D(900), True)], discount_rate=D(1) / D(3))
    assert s.net_capital_gain == D(600)
