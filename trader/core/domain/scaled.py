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
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

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
        if not np.isfinite(x).all() or np.signbit(x[x == 0]).any():  # Decimal('-0.0') keeps its sign
            raise Inexact("a float without a short exact decimal here")
        whole = np.zeros(len(x), dtype=np.int64)
        places = np.zeros(len(x), dtype=np.int64)
        todo = np.arange(len(x))
        for k in range(_MAX_PLACES + 1):
            if not len(todo):
                break
            scale = float(10**k)  # exact for k <= 22
            rounded = np.rint(x[todo] * scale)
            if not (np.abs(rounded) < _SHORTEST).all():  # 2**50 units or more: no verified decimal
                raise Inexact("a float with more digits than this array holds exactly")
            found = rounded / scale == x[todo]
            whole[todo[found]] = rounded[found].astype(np.int64)
            places[todo[found]] = k
            todo = todo[~found]
        if len(todo):
            raise Inexact("a float with more than 22 decimal places")
        top = int(places.max()) if len(x) else 0
        return cls(whole, 0)._scaled(places, top) if top else cls(whole, 0)

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
            theirs, their_places, negative = other.mantissa, other.places, other.mantissa < 0
            bound, narrow = _largest(self.mantissa) * _largest(theirs), other.mantissa.dtype != object
        elif isinstance(other, Decimal):
            theirs, their_places = _whole(other)
            negative, narrow = np.asarray(other.is_signed()), True
            bound = _largest(self.mantissa) * abs(theirs)
        else:
            return NotImplemented
        # a zero product has the sign of the product in Decimal (1 x -0 is -0); an integer zero has none
        zero = (self.mantissa == 0) | (theirs == 0)
        if (zero & ((self.mantissa < 0) ^ negative)).any():
            raise Inexact("a negative zero")
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
