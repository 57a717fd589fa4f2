"""Exact decimal arrays without Decimal objects: integer mantissas over one power of ten per array.

Hand-written (no decimal-array library does this; numpy has no decimal type) because the compiled
backtest books a year of minutes' fills through the money rules (``sim.costs``: fee = notional x rate,
slippage = price x (1 +- rate)) and the equity curve needs only their values as floats: a Decimal
costs about a microsecond an element to make from a float and to turn into one, an int64 nanoseconds.
``ScaledArray`` supports exactly what those rules do when called with it (a product with a Decimal
scalar or another array, subsets, a merge by mask), so the rules are called, never restated, and
every value equals the one Decimal gives. Mantissas are int64; a product beyond int64 carries on in
Python ints (an object array, still exact and a few times cheaper than Decimal). What Decimal itself
would round (more digits than the context's precision), a float that is not verifiably its shortest
decimal, or a context that could trap raises ``Inexact``: the caller then books in Decimal, so a
number is never different.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import numba
import numpy as np

from trader.core.domain.candles import FloatArray

_INT64: Final = 2**63  # |mantissa| < 2**63
_LEAST: Final = -(2**63)  # the one int64 whose abs() is not an int64: held as a Python int
_EXACT_FLOAT: Final = 2**53  # every integer below is a double
_SHORTEST: Final = 2**50  # a float's decimal is looked for below this many units (see ``of_floats``)
_MAX_PLACES: Final = 22  # 10**22 is the largest power of ten that is a double
_DIGITS: Final = 19  # 10**19 is beyond int64


class Inexact(ArithmeticError):
    """A value ``ScaledArray`` cannot hold exactly: book it in Decimal instead."""


@dataclass(frozen=True, slots=True, eq=False)
class ScaledArray:
    """Decimal values ``mantissa[i] / 10**places``, exact; the same values Decimal arithmetic gives."""

    mantissa: np.ndarray  # int64 (never -2**63, so abs() is safe), or Python ints where beyond it
    places: int  # >= 0

    @classmethod
    def of_ints(cls, values: np.ndarray) -> ScaledArray:
        """Return whole numbers (an integer array) as they are: ``Decimal(int(v))`` each."""
        whole = np.asarray(values, dtype=np.int64)
        return _made(whole.astype(object), 0) if (whole == _LEAST).any() else cls(whole, 0)

    @classmethod
    def of_floats(cls, values: FloatArray) -> ScaledArray:
        """Return each float's shortest decimal: equal in value to ``Decimal(repr(x))``.

        Per element the least k >= 0 with a whole r = rint(x * 10**k) that converts back to x
        (r / 10**k == x: r and 10**k are doubles, so one division rounds the decimal r * 10**-k as
        ``float(str)`` does). The shortest round-trip decimal (``repr``) has no fewer places; with
        |r| < 2**50 the decimals of k places that round to x are less than a quarter unit apart and
        rint's error is under an eighth, so r is the only one and it is ``repr``'s (a tie in digits
        with a longer one needs 17 digits). Larger, non-finite or negative-zero values raise ``Inexact``.
        """
        x = np.asarray(values, dtype=np.float64)
        whole, places, top, status = _shortest(x, _POWERS, _INT_POWERS)
        if status == _INEXACT:
            raise Inexact("a float without a short exact decimal of at most 22 places below 2**50 units")
        if status == _WIDE:  # the common places need mantissas beyond int64: Python ints
            return cls(whole, 0)._scaled(places, top)
        return cls(whole, top)

    def _scaled(self, places: np.ndarray, top: int) -> ScaledArray:
        """Return the mantissas ``self.mantissa`` (each at its own ``places``) over ``top`` places."""
        spread = top - places
        if self.mantissa.dtype != object and (not len(spread) or int(spread.max()) < _DIGITS):
            factor = 10**spread  # below 10**19: int64
            # the float product is within a factor 1 + 2**-51 of the exact: below 2**62, exact is below 2**63
            if (np.abs(self.mantissa.astype(np.float64)) * factor.astype(np.float64) < 2.0**62).all():
                return ScaledArray(self.mantissa * factor, top)
        return _made(_wide(self.mantissa) * 10 ** spread.astype(object), top)

    def at_places(self, places: int) -> ScaledArray:
        """Return the same values over ``places`` (>= ``self.places``) places."""
        if places == self.places:
            return self
        return self._scaled(np.full(len(self), self.places, dtype=np.int64), places)

    def __len__(self) -> int:
        return len(self.mantissa)

    def __getitem__(self, index: np.ndarray) -> ScaledArray:
        """Return the elements at ``index`` (a boolean mask or positions), as an object array would."""
        return ScaledArray(self.mantissa[index], self.places)

    def __mul__(self, other: object) -> ScaledArray:
        """Return the exact products with a Decimal or another ScaledArray (element by element)."""
        digits = _exact_context()
        theirs: np.ndarray | int
        if isinstance(other, ScaledArray):
            if len(other) != len(self):
                raise ValueError(f"{len(self)} values times {len(other)}")
            theirs, their_places = other.mantissa, other.places
            ours_largest, ours_signed = _extent(self.mantissa)
            their_largest, their_signed = _extent(theirs)
            bound, narrow = ours_largest * their_largest, other.mantissa.dtype != object
            # a zero product has the sign of the product in Decimal (1 x -0 is -0); an integer zero has
            # none: only possible where one side has a negative value (prices and amounts have none)
            if ours_signed or their_signed:
                zero = (self.mantissa == 0) | (theirs == 0)
                if (zero & ((self.mantissa < 0) ^ (theirs < 0))).any():
                    raise Inexact("a negative zero")
        elif isinstance(other, Decimal):
            theirs, their_places = _whole(other)
            narrow = True
            bound = _largest(self.mantissa) * abs(theirs)
            # the same rule by one number: by a non-zero scalar only a zero of ours is zero, negative
            # where the scalar is; by a zero scalar every product is, negative where the signs differ
            if theirs != 0:
                flagged = other.is_signed() and bool((self.mantissa == 0).any())
            else:
                flagged = bool(((self.mantissa < 0) ^ other.is_signed()).any())
            if flagged:
                raise Inexact("a negative zero")
        else:
            return NotImplemented
        if bound >= 10**digits:  # the largest |product| bounds them all
            raise Inexact("a product Decimal rounds to its context's precision")
        if narrow and bound < _INT64 and self.mantissa.dtype != object:  # no int64 product wraps
            return ScaledArray(self.mantissa * np.asarray(theirs, dtype=np.int64), self.places + their_places)
        wide = _wide(theirs) if isinstance(theirs, np.ndarray) else theirs
        return _made(_wide(self.mantissa) * wide, self.places + their_places)

    __rmul__ = __mul__  # Decimal x ScaledArray: Decimal's own product returns NotImplemented

    def floats(self) -> FloatArray:
        """Return ``float(Decimal)`` of each value: the double nearest to it (ties to even)."""
        m = self.mantissa
        if self.places > _MAX_PLACES or m.dtype == object:
            fast = np.zeros(len(m), dtype=bool)
            out = np.empty(len(m))
        else:
            fast = np.abs(m) < _EXACT_FLOAT
            # mantissa and 10**places both doubles: IEEE division rounds the exact quotient once
            out = m.astype(np.float64) / float(10**self.places)
        if not fast.all():  # Python's int / int is correctly rounded too, at any size
            scale = 10**self.places
            out[~fast] = [v / scale for v in m[~fast].tolist()]
        return out


_POWERS: Final = np.array([float(10**k) for k in range(_MAX_PLACES + 1)])  # each exact
_INT_POWERS: Final = np.array([10**k for k in range(_DIGITS)], dtype=np.int64)
_INEXACT: Final = 1
_WIDE: Final = 2


@numba.njit(cache=True, nogil=True)
def _shortest(x, powers, int_powers):  # type: ignore[no-untyped-def]
    """Return ``of_floats``' (mantissas, places of each, common places, status) of the floats ``x``.

    Its search per element (the least k with rint(x * 10**k) / 10**k == x, |rint| below 2**50) and
    ``_scaled``'s int64 test, in one compiled pass over a few dozen trades instead of a dozen numpy
    calls per decimal place: the same float operations (no fast-math), so the same decimals
    (tests/unit/core/domain/test_scaled.py compares them with the numpy passes). Status ``_INEXACT``:
    a value it cannot hold; ``_WIDE``: the mantissas at the common places are left unscaled (they need
    Python ints); 0: the mantissas are over the common places.
    """
    n = len(x)
    whole = np.zeros(n, dtype=np.int64)
    places = np.zeros(n, dtype=np.int64)
    top = 0
    for i in range(n):
        v = x[i]
        if not math.isfinite(v) or (v == 0.0 and math.copysign(1.0, v) < 0.0):  # Decimal('-0.0') keeps -
            return whole, places, 0, _INEXACT
        found = False
        for k in range(len(powers)):
            rounded = np.rint(v * powers[k])
            if not abs(rounded) < _SHORTEST:
                return whole, places, 0, _INEXACT
            if rounded / powers[k] == v:
                whole[i], places[i], found = np.int64(rounded), k, True
                break
        if not found:
            return whole, places, 0, _INEXACT
        top = max(top, places[i])
    for i in range(n):  # _scaled's test: each scaled mantissa provably below 2**63
        spread = top - places[i]
        if spread >= len(int_powers) or not abs(float(whole[i])) * float(int_powers[spread]) < 2.0**62:
            return whole, places, top, _WIDE
    for i in range(n):
        whole[i] *= int_powers[top - places[i]]
    return whole, places, top, 0


def merged(mask: np.ndarray, chosen: ScaledArray, others: ScaledArray) -> ScaledArray:
    """Return ``chosen`` where ``mask`` is true and ``others`` elsewhere (each given as that subset)."""
    places = max(chosen.places, others.places)
    chosen, others = chosen.at_places(places), others.at_places(places)
    wide = any(m.dtype == object for m in (chosen.mantissa, others.mantissa))
    out = np.empty(len(mask), dtype=object if wide else np.int64)
    out[mask], out[~mask] = chosen.mantissa, others.mantissa
    return ScaledArray(out, places)


def _largest(mantissa: np.ndarray) -> int:
    return int(np.abs(mantissa).max()) if len(mantissa) else 0


def _extent(mantissa: np.ndarray) -> tuple[int, bool]:
    """Return ``_largest(mantissa)`` and whether a mantissa is negative, from its two extremes."""
    if not len(mantissa):
        return 0, False
    low, high = int(mantissa.min()), int(mantissa.max())
    return max(-low, high), low < 0


def _wide(mantissa: np.ndarray) -> np.ndarray:
    """Return the mantissas as Python ints (an object array): exact at any size."""
    return mantissa if mantissa.dtype == object else mantissa.astype(object)


def _made(mantissa: np.ndarray, places: int) -> ScaledArray:
    """Return Python-int mantissas as int64 again where they fit (the fast operations)."""
    if _largest(mantissa) < _INT64:
        return ScaledArray(mantissa.astype(np.int64), places)
    return ScaledArray(mantissa, places)


def _whole(value: Decimal) -> tuple[int, int]:
    """Return a finite Decimal as (mantissa, places >= 0)."""
    if not value.is_finite():
        raise Inexact(f"not a finite number: {value}")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if exponent > _MAX_PLACES:  # 10**exponent itself would be a large integer to carry
        raise Inexact(f"{value} is beyond the exact range")
    mantissa = int("".join(map(str, digits)))
    mantissa = -mantissa if sign else mantissa
    return (mantissa * 10**exponent, 0) if exponent >= 0 else (mantissa, -exponent)


def _exact_context() -> int:
    """Return the current decimal context's precision: a product of fewer digits is exact there.

    Raise ``Inexact`` where a trap could raise on an exact product (Rounded: trailing zeros dropped) or
    where the exponents could leave its range (the ones here stay far inside any usual Emin/Emax).
    """
    context = decimal.getcontext()
    if context.traps[decimal.Rounded] or context.Emax < 999 or context.Emin > -999:
        raise Inexact("a decimal context that could trap an exact product")
    return context.prec
