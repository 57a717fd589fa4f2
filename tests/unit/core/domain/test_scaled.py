"""ScaledArray against Decimal: the money rules called with it give Decimal's values, its floats are
float(Decimal)'s, its decimals of floats are Decimal(repr(x))'s, and what it cannot hold raises Inexact."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import cast

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from trader.core.domain.enums import Side
from trader.core.domain.scaled import Inexact, ScaledArray, merged
from trader.core.sim.costs import FeeModel, Liquidity, SlippageModel

WIDE = decimal.Context(prec=200, Emin=-10_000, Emax=10_000)  # exact for every value compared here


def exact(values: ScaledArray) -> list[Decimal]:
    """The values as Decimals, with no rounding."""
    return [WIDE.scaleb(Decimal(m), -values.places) for m in values.mantissa.tolist()]


def bits(values: object) -> list[int]:
    return np.asarray(values, dtype=np.float64).view(np.int64).tolist()  # type: ignore[no-any-return]


rates = st.builds(lambda m, k: Decimal(m).scaleb(-k), st.integers(0, 9_999), st.integers(1, 8)).filter(
    lambda r: r < 1)
@st.composite
def series(draw: st.DrawFn) -> list[float]:
    """A market's prices: multiples of one tick 10**-k, below 10**12 ticks."""
    k = draw(st.integers(0, 8))
    return [m / 10**k for m in draw(st.lists(st.integers(1, 10**12), min_size=1, max_size=30))]


@settings(max_examples=500, deadline=None)
@given(series())
def test_a_tick_price_is_its_repr_decimal(prices: list[float]) -> None:
    scaled = ScaledArray.of_floats(np.array(prices))  # never Inexact: below 2**50 ticks, tick at most 10**-8
    assert exact(scaled) == [Decimal(repr(p)) for p in prices]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=8))
def test_any_float_is_its_repr_decimal_or_inexact(values: list[float]) -> None:
    try:
        scaled = ScaledArray.of_floats(np.array(values))
    except Inexact:
        return
    assert exact(scaled) == [Decimal(repr(v)) for v in values]


def test_floats_beyond_the_verified_range_are_inexact() -> None:
    for value in (0.1 + 0.2, 1e300, 2.0**60, float("nan"), float("inf"), -0.0, 5e-324):
        with pytest.raises(Inexact):
            ScaledArray.of_floats(np.array([1.5, value]))
    assert exact(ScaledArray.of_floats(np.array([0.0, 3.0, 1e-12, 123.456]))) == [
        Decimal(0), Decimal(3), Decimal("1e-12"), Decimal("123.456")]
    both = ScaledArray.of_floats(np.array([1e-22, 123.456]))  # 123.456 is 1.23456e24 units of 10**-22
    assert exact(both) == [Decimal("1e-22"), Decimal("123.456")] and both.mantissa.dtype == object


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.integers(-(2**63) + 1, 2**63 - 1), min_size=1, max_size=10), st.integers(0, 40))
def test_floats_are_float_of_the_decimal(mantissas: list[int], places: int) -> None:
    scaled = ScaledArray(np.array(mantissas, dtype=np.int64), places)
    assert bits(scaled.floats()) == bits([float(d) for d in exact(scaled)])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(2**53, 2**63 - 1), min_size=10, max_size=10), st.integers(1, 22))
def test_floats_of_long_mantissas_are_float_of_the_decimal(mantissas: list[int], places: int) -> None:
    # a mantissa rounded to a double first, then divided, would round twice: these take int / int
    scaled = ScaledArray(np.array(mantissas, dtype=np.int64), places)
    assert bits(scaled.floats()) == bits([float(d) for d in exact(scaled)])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(-(10**28), 10**28), min_size=1, max_size=10), st.integers(0, 40))
def test_floats_of_python_int_mantissas_are_float_of_the_decimal(mantissas: list[int], places: int) -> None:
    values = np.empty(len(mantissas), dtype=object)
    values[:] = mantissas
    scaled = ScaledArray(values, places)
    assert bits(scaled.floats()) == bits([float(d) for d in exact(scaled)])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(-(2**53), 2**53), min_size=1, max_size=10), st.integers(0, 22))
def test_floats_in_the_one_division_range_are_float_of_the_decimal(mantissas: list[int], places: int) -> None:
    scaled = ScaledArray(np.array(mantissas, dtype=np.int64), places)
    assert bits(scaled.floats()) == bits([float(d) for d in exact(scaled)])


@st.composite
def fills(draw: st.DrawFn) -> tuple[list[float], list[int], Decimal]:
    prices = draw(series())
    n = len(prices)
    most = draw(st.sampled_from([10**3, 10**6, 10**9]))
    steps = draw(st.lists(st.integers(1, most), min_size=n, max_size=n))
    step = Decimal(1).scaleb(-draw(st.integers(0, 10)))
    return prices, steps, step


def decimal_objects(values: list[Decimal]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@settings(max_examples=500, deadline=None)
@given(fills(), rates, rates, st.sampled_from(list(Side)), st.sampled_from(list(Liquidity)))
def test_the_money_rules_give_decimals_values(case: tuple[list[float], list[int], Decimal], fee: Decimal,
                                              slip: Decimal, side: Side, liquidity: Liquidity) -> None:
    prices, steps, step = case
    fees, slippage = FeeModel.flat(fee), SlippageModel(slip)
    want_amount = [Decimal(s) * step for s in steps]
    want_price = [slippage.apply(Decimal(repr(p)), side) for p in prices]
    want_fee = [fees.fee(a * p, liquidity) for a, p in zip(want_amount, want_price, strict=True)]
    try:  # the rules themselves, called with arrays
        amount = ScaledArray.of_ints(np.array(steps)) * step
        # typed as Decimal, as compiled_records._each passes arrays to the rules
        opens = cast(Decimal, ScaledArray.of_floats(np.array(prices)))
        price = cast(ScaledArray, slippage.apply(opens, side))
        fee_paid = fees.fee(cast(Decimal, amount * price), liquidity)
    except Inexact:  # beyond Decimal's 28 digits (Decimal would round): the caller books in Decimal
        event("beyond 28 digits")
        return
    assert isinstance(fee_paid, ScaledArray)
    event(f"mantissas {fee_paid.mantissa.dtype}")
    assert exact(amount) == want_amount
    assert exact(price) == want_price
    assert exact(fee_paid) == want_fee
    assert bits(fee_paid.floats()) == bits(decimal_objects(want_fee).astype(np.float64))


def test_products_beyond_int64_carry_on_exact_never_wrapped() -> None:
    big = ScaledArray.of_ints(np.array([3, 2**62]))
    assert exact(big * Decimal(2)) == [Decimal(6), Decimal(2**63)]
    least = ScaledArray.of_ints(np.array([-(2**63), 1]))  # abs() of it would wrap in int64
    assert exact(least * Decimal(3)) == [Decimal(-3 * 2**63), Decimal(3)]
    wide = ScaledArray.of_ints(np.array([3, 2**40]))
    assert exact(wide * wide * Decimal("0.25")) == [Decimal("2.25"), Decimal(2**78)]
    assert (wide * wide).mantissa.dtype == object
    assert bits((wide * wide).floats()) == bits([9.0, float(2**80)])
    back = (big * Decimal(2))[np.array([True, False])] * Decimal("0.5")  # int64 again where they fit
    assert back.mantissa.dtype == np.int64 and exact(back) == [Decimal(3)]
    assert exact(Decimal("1E+2") * ScaledArray.of_ints(np.array([7]))) == [Decimal(700)]
    with pytest.raises(Inexact):  # 2**62 x 3**20 has 29 digits: Decimal (precision 28) would round it
        big * Decimal(3**20)
    with pytest.raises(Inexact):
        big * big
    with pytest.raises(Inexact):
        big * Decimal("Infinity")


def test_a_negative_zero_product_is_inexact() -> None:
    # Decimal keeps the sign of a zero product (-2 x 0 is -0, float -0.0); an int64 zero has none
    with pytest.raises(Inexact):
        ScaledArray.of_ints(np.array([-2])) * Decimal(0)
    with pytest.raises(Inexact):
        ScaledArray.of_ints(np.array([0])) * Decimal(-1)
    with pytest.raises(Inexact):
        ScaledArray.of_ints(np.array([5])) * Decimal("-0")
    assert exact(ScaledArray.of_ints(np.array([-2])) * Decimal("-0")) == [Decimal(0)]


def test_a_context_that_could_round_is_inexact() -> None:
    values = ScaledArray.of_ints(np.array([123_456_789_012_345]))
    with decimal.localcontext(decimal.Context(prec=15)), pytest.raises(Inexact):
        values * Decimal("1.1")
    with decimal.localcontext(decimal.Context(prec=16)):
        assert exact(values * Decimal("1.1")) == [Decimal("135802467913579.5")]
    with decimal.localcontext() as trapping:
        trapping.traps[decimal.Rounded] = True
        with pytest.raises(Inexact):
            values * Decimal("1.1")


@settings(max_examples=300, deadline=None)
@given(series(), st.lists(st.booleans(), min_size=30, max_size=30))
def test_merged_puts_each_subset_back_in_order(prices: list[float], picks: list[bool]) -> None:
    mask = np.array(picks[:len(prices)])
    chosen = ScaledArray.of_floats(np.array(prices))[mask]
    others = ScaledArray.of_floats(np.array(prices[::-1])) * Decimal("1.0001")  # more places than chosen
    both = merged(mask, chosen, others[~mask])
    assert exact(both) == [Decimal(repr(a)) if m else Decimal(repr(b)) * Decimal("1.0001")
                           for m, a, b in zip(mask.tolist(), prices, prices[::-1], strict=True)]


def _numpy_of_floats(values: np.ndarray) -> ScaledArray:
    """``of_floats`` as numpy passes, one per decimal place (the first version): the reference."""
    x = np.asarray(values, dtype=np.float64)
    if not np.isfinite(x).all() or np.signbit(x[x == 0]).any():
        raise Inexact("a float without a short exact decimal here")
    whole = np.zeros(len(x), dtype=np.int64)
    places = np.zeros(len(x), dtype=np.int64)
    todo = np.arange(len(x))
    for k in range(23):
        if not len(todo):
            break
        scale = float(10**k)
        rounded = np.rint(x[todo] * scale)
        if not (np.abs(rounded) < 2**50).all():
            raise Inexact("a float with more digits than this array holds exactly")
        found = rounded / scale == x[todo]
        whole[todo[found]] = rounded[found].astype(np.int64)
        places[todo[found]] = k
        todo = todo[~found]
    if len(todo):
        raise Inexact("a float with more than 22 decimal places")
    top = int(places.max()) if len(x) else 0
    return ScaledArray(whole, 0)._scaled(places, top) if top else ScaledArray(whole, 0)


floats_of_all_kinds = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    series().flatmap(st.sampled_from),  # tick prices: the common case
    st.builds(lambda m, k: m / 10**k, st.integers(-(10**16), 10**16), st.integers(0, 24)))


@settings(max_examples=1500, deadline=None)
@given(st.lists(floats_of_all_kinds, max_size=12), st.booleans())
def test_of_floats_equals_the_numpy_passes(values: list[float], strided: bool) -> None:
    x = np.array(values, dtype=np.float64)
    if strided:  # a column of the loop's records: not contiguous
        x = np.column_stack([x, np.zeros(len(x))])[:, 0]
    try:
        expected = _numpy_of_floats(x)
    except Inexact:
        event("inexact")
        with pytest.raises(Inexact):
            ScaledArray.of_floats(x)
        return
    got = ScaledArray.of_floats(x)
    event(f"{got.mantissa.dtype}")
    assert got.places == expected.places and got.mantissa.dtype == expected.mantissa.dtype
    assert got.mantissa.tolist() == expected.mantissa.tolist()


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(-(10**20), 10**20), min_size=1, max_size=8), st.integers(0, 12),
       st.integers(-(10**6), 10**6), st.integers(0, 8), st.booleans())
def test_a_product_by_a_number_checks_negative_zeros_as_elementwise(
        mantissas: list[int], places: int, theirs: int, their_places: int, negative: bool) -> None:
    # the scalar case's shortcut against the element-by-element rule (zero product with differing signs)
    ours = ScaledArray(np.array(mantissas, dtype=object), places)
    scalar = Decimal((1 if negative else 0, tuple(int(d) for d in str(abs(theirs))), -their_places))
    m = np.array(mantissas, dtype=object)
    zero = (m == 0) | (theirs == 0)
    expected_error = bool((zero & ((m < 0) ^ scalar.is_signed())).any())
    with decimal.localcontext(WIDE):
        try:
            product = ours * scalar
        except Inexact:
            assert expected_error
            return
    assert not expected_error
    assert exact(product) == [WIDE.multiply(d, scalar) for d in exact(ours)]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(-(10**12), 10**12), st.integers(-(10**12), 10**12)), max_size=8),
       st.integers(0, 6), st.integers(0, 6), st.booleans())
def test_a_product_of_arrays_checks_negative_zeros_as_elementwise(
        pairs: list[tuple[int, int]], places: int, their_places: int, zeros: bool) -> None:
    ours_m = np.array([a if not zeros or k % 2 else 0 for k, (a, _) in enumerate(pairs)], dtype=np.int64)
    theirs_m = np.array([b for _, b in pairs], dtype=np.int64)
    ours, theirs = ScaledArray(ours_m, places), ScaledArray(theirs_m, their_places)
    zero = (ours_m == 0) | (theirs_m == 0)
    expected_error = bool((zero & ((ours_m < 0) ^ (theirs_m < 0))).any())
    event(f"negative zero {expected_error}")
    with decimal.localcontext(WIDE):
        try:
            product = ours * theirs
        except Inexact:
            assert expected_error
            return
    assert not expected_error
    assert exact(product) == [WIDE.multiply(a, b) for a, b in zip(exact(ours), exact(theirs), strict=True)]
