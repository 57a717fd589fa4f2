"""Input checks shared by the indicator functions: float64 arrays, valid periods, NaN policy.

NaN policy: leading NaNs (the warm-up of a chained indicator) only lengthen the warm-up; a NaN or
infinity after the first finite value is rejected, because TA-Lib's running sums would carry it
silently into every later value.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def as_series(values: npt.ArrayLike, name: str = "values") -> FloatArray:
    """Return ``values`` as a contiguous float64 1-D array; raise ValueError on interior NaN/inf."""
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if math.isfinite(float(np.add.reduce(arr))):  # one cheap pass; a NaN or inf poisons the sum
        return arr
    finite = np.isfinite(arr)
    if finite.all():  # the sum overflowed: every value is finite but huge
        return arr
    if np.isinf(arr).any():
        raise ValueError(f"{name}: infinite value at index {int(np.flatnonzero(np.isinf(arr))[0])}")
    first = int(np.argmax(finite)) if finite.any() else len(arr)
    bad = np.flatnonzero(~finite[first:])
    if len(bad):
        raise ValueError(f"{name}: NaN at index {first + int(bad[0])} after valid data (fill or drop it)")
    return arr


def check_period(period: int, name: str = "period", minimum: int = 1) -> int:
    """Return ``period`` if it is an int >= ``minimum``; raise ValueError otherwise."""
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {period!r}")
    return int(period)


def same_length(**arrays: FloatArray) -> int:
    """Return the common length of ``arrays``; raise ValueError if they differ."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"input lengths differ: {lengths}")
    return next(iter(lengths.values()), 0)


def first_valid_index(values: FloatArray) -> int:
    """Return the index of the first non-NaN value (len if none) of an array whose NaNs are a prefix.

    Valid for every indicator output (NaN only in the warm-up) and every ``as_series`` result; a
    binary search avoids scanning the whole array.
    """
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if math.isnan(values[mid]):  # a numpy float is a float: math's test skips a ufunc call
            lo = mid + 1
        else:
            hi = mid
    return lo


def nan_array(n: int) -> FloatArray:
    """Return an all-NaN float64 array of length ``n``."""
    return np.full(n, np.nan, dtype=np.float64)
