"""The one liquidation-price function (hypothesis): cross margin is never stricter than isolated for the
same position and moves away monotonically with the account's free margin; tiers pick the bracket the
notional falls in, checked from the venue's definition (margin balance = maintenance margin)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trader.core.domain.enums import Direction
from trader.core.domain.futures import FuturesTerms, liquidation_price, tiers_from

D = Decimal
TIERS = tiers_from([(D(0), D("0.004")), (D(50_000), D("0.005")), (D(250_000), D("0.01")),
                    (D(1_000_000), D("0.025")), (D(5_000_000), D("0.05"))])

positions = st.tuples(
    st.sampled_from([Direction.LONG, Direction.SHORT]),
    st.decimals(min_value=D(1), max_value=D(100_000), places=2),  # entry
    st.decimals(min_value=D("0.001"), max_value=D(100), places=3),  # amount
    st.integers(min_value=1, max_value=125),  # leverage
)
frees = st.decimals(min_value=D(0), max_value=D(10_000_000), places=2)


def _farther_or_equal(direction: Direction, a: Decimal | None, b: Decimal | None) -> bool:
    """True when liquidation at ``a`` comes no sooner than at ``b`` (None: never liquidated)."""
    if a is None:
        return True
    if b is None:
        return False
    return a <= b if direction is Direction.LONG else a >= b


@settings(max_examples=300, deadline=None)
@given(position=positions, free=frees)
def test_cross_is_never_stricter_than_isolated(position: tuple[Direction, Decimal, Decimal, int],
                                               free: Decimal) -> None:
    direction, entry, amount, leverage = position
    isolated = FuturesTerms(D(leverage), "isolated", TIERS)
    cross = FuturesTerms(D(leverage), "cross", TIERS)
    iso = liquidation_price(direction, entry, amount, isolated, free=free)
    assert iso == liquidation_price(direction, entry, amount, isolated)  # isolated ignores the free margin
    assert _farther_or_equal(direction, liquidation_price(direction, entry, amount, cross, free=free), iso)
    assert liquidation_price(direction, entry, amount, cross) == iso  # nothing free: the same price


@settings(max_examples=300, deadline=None)
@given(position=positions, free=frees, more=frees)
def test_cross_liquidation_moves_away_as_free_margin_grows(position: tuple[Direction, Decimal, Decimal, int],
                                                           free: Decimal, more: Decimal) -> None:
    direction, entry, amount, leverage = position
    cross = FuturesTerms(D(leverage), "cross", TIERS)
    near = liquidation_price(direction, entry, amount, cross, free=free)
    far = liquidation_price(direction, entry, amount, cross, free=free + more)
    assert _farther_or_equal(direction, far, near)


@settings(max_examples=300, deadline=None)
@given(position=positions, free=frees, margin_mode=st.sampled_from(["isolated", "cross"]))
def test_at_the_liquidation_price_the_backing_equals_the_maintenance_margin_of_its_tier(
        position: tuple[Direction, Decimal, Decimal, int], free: Decimal, margin_mode: str) -> None:
    direction, entry, amount, leverage = position
    terms = FuturesTerms(D(leverage), "cross" if margin_mode == "cross" else "isolated", TIERS)
    price = liquidation_price(direction, entry, amount, terms, free=free)
    backing = amount * entry / leverage + (free if margin_mode == "cross" else 0)
    if price is None:  # a long backed beyond its whole notional is never liquidated
        assert direction is Direction.LONG and backing >= amount * entry * (1 - TIERS[0].rate) - 1
        return
    gain = (price - entry) * amount if direction is Direction.LONG else (entry - price) * amount
    tier = terms.tier(amount * price)  # the bracket the notional is in at that price, by its floor
    assert tier is max((t for t in TIERS if amount * price >= t.floor), key=lambda t: t.floor)
    maintenance = amount * price * tier.rate - tier.maintenance_amount
    assert abs((backing + gain) - maintenance) <= amount * entry * D("1e-20") + D("1e-12")


def test_tiers_pick_the_bracket_by_floor() -> None:
    terms = FuturesTerms(tiers=TIERS)
    assert [terms.tier(D(n)).rate for n in (0, 49_999, 50_000, 250_000, 999_999, 6_000_000)] == \
        [D("0.004"), D("0.004"), D("0.005"), D("0.01"), D("0.01"), D("0.05")]
    # the maintenance amounts keep the margin continuous across a floor
    assert terms.maintenance_margin(D(50_000)) == D(50_000) * D("0.004")
