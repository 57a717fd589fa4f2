"""Work shared across the trials of an optimiser batch: indicators computed once per distinct
(indicator, parameters, input arrays), and the candle slices and equity indexes they run on, reused
while a cache is active.

Outside ``caching(...)`` a memoised function is a plain call. Inside, its key is the function, its
scalar arguments (value and type) and the identity of its array (or candle frame) arguments; the
cache keeps those alive with the result, so an identity in a key can never be taken by a new object
while the entry exists. Different candles are different arrays and therefore a different key.
Results are returned read-only: a caller writing into a shared array would corrupt other trials.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

import numpy as np

P = ParamSpec("P")
R = TypeVar("R")
DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024
_SCALARS = (int, float, str, bool, type(None), np.integer, np.floating)


class IndicatorCache:
    """Least-recently-used results within a byte budget, keyed by value and array identity."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self.hits = 0
        self.misses = 0
        self._bytes = 0
        self._entries: OrderedDict[Hashable, tuple[Any, tuple[Any, ...], int]] = OrderedDict()

    def shared(self, key: Hashable, keep: tuple[Any, ...], compute: Callable[[], R], *,
               freeze: bool = True, size: int | None = None) -> R:
        """Return the cached value of ``key``, else ``compute()`` stored with ``keep`` held alive
        (its arrays made read-only when ``freeze``; ``size`` bytes when the key itself is large)."""
        entry = self._entries.get(key)
        if entry is not None:
            self.hits += 1
            self._entries.move_to_end(key)
            value: R = entry[0]
            return value
        self.misses += 1
        result = compute()
        if freeze:
            frozen(result)
        if size is None:
            # arrays kept alive only by this entry count too (views and frames of candles do not:
            # they live anyway)
            size = _nbytes(result) + sum(int(k.nbytes) for k in keep
                                         if isinstance(k, np.ndarray) and k.base is None)
        self._entries[key] = (result, keep, size)
        self._bytes += size
        while self._bytes > self.budget_bytes and len(self._entries) > 1:
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self._bytes -= dropped
        return result

    @property
    def size_bytes(self) -> int:
        """Return the bytes the entries account for."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


_ACTIVE: ContextVar[IndicatorCache | None] = ContextVar("indicator_cache", default=None)


def active() -> IndicatorCache | None:
    """Return the cache of the enclosing ``caching`` block, if any."""
    return _ACTIVE.get()


@contextmanager
def caching(cache: IndicatorCache | None = None) -> Iterator[IndicatorCache]:
    """Make ``cache`` (a new one by default) serve every memoised indicator inside the block."""
    cache = cache if cache is not None else IndicatorCache()
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)


def identity_key(values: tuple[Any, ...]) -> tuple[tuple[Hashable, ...], tuple[Any, ...]] | None:
    """Return (key, objects to keep alive) for arguments; None if one cannot be keyed."""
    key: list[Hashable] = []
    keep: list[Any] = []
    for v in values:
        if type(v) is np.ndarray:  # most arguments: skip the scalar and dataclass tests (per trial)
            key.append(("id", id(v)))
            keep.append(v)
        elif isinstance(v, _SCALARS):
            key.append((type(v).__name__, v))
        elif isinstance(v, np.ndarray) or (dataclasses.is_dataclass(v) and not isinstance(v, type)):
            key.append(("id", id(v)))  # arrays and frames of arrays (a CandleFrame): by identity
            keep.append(v)
        else:
            return None
    return tuple(key), tuple(keep)


def memoised(fn: Callable[P, R]) -> Callable[P, R]:
    """Serve ``fn`` from the active cache (a plain call when none is active or an argument is unkeyable)."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        cache = _ACTIVE.get()
        if cache is None:
            return fn(*args, **kwargs)
        keyed = identity_key((*args, *kwargs.values()))
        if keyed is None:
            return fn(*args, **kwargs)
        key, keep = keyed
        return cache.shared((name, key, tuple(kwargs)), keep, lambda: fn(*args, **kwargs))

    return wrapper


def frozen(value: Any) -> None:
    """Make the arrays of ``value`` (an array, or a dataclass or tuple of them) read-only."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            frozen(getattr(value, f.name))
    elif isinstance(value, tuple):
        for item in value:
            frozen(item)


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_nbytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, tuple):
        return sum(_nbytes(item) for item in value)
    return int(getattr(value, "nbytes", 64))


def rows_key(frame: Any) -> tuple[Hashable, ...]:
    """Return a key of the memory the arrays of ``frame`` (a dataclass of arrays) view: equal for two
    frames over the same rows of the same arrays (two slices of different parents ending alike).

    Why: a window's trade slice is a new frame per warm-up length, but the rows are the same; an entry
    keyed on this keeps ``frame`` (hence that memory) alive, so an address is never reused meanwhile.
    """
    out: list[Hashable] = []
    for f in dataclasses.fields(frame):
        v = getattr(frame, f.name)
        if isinstance(v, np.ndarray):
            out.append((v.__array_interface__["data"][0], v.shape, v.strides, v.dtype.str))
    return tuple(out)
