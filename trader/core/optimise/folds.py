"""Train/test split and walk-forward folds over a period, aligned to candle boundaries.

With ``n`` folds and test fraction ``f`` the period is covered by windows of length
``W = total / (1 + (n - 1) f)`` whose last ``T = f W`` is the test; each fold moves on by ``T``, so
the test windows tile the end of the period without overlap. Rolling folds train on the ``W - T``
before their test; anchored folds train from the period start. One fold is a plain train/test split.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from trader.core.domain.candles import ms_to_datetime
from trader.core.errors import InputError

_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Window:
    """The candles opening in [start_ms, end_ms)."""

    start_ms: int
    end_ms: int

    def label(self) -> str:
        """Return the window as 'YYYY-MM-DD → YYYY-MM-DD' (end exclusive)."""
        days = self.start_ms % _DAY_MS == 0 and self.end_ms % _DAY_MS == 0
        fmt = "%Y-%m-%d" if days else "%Y-%m-%d %H:%M"
        return f"{ms_to_datetime(self.start_ms):{fmt}} → {ms_to_datetime(self.end_ms):{fmt}}"


@dataclass(frozen=True, slots=True)
class Fold:
    """One walk-forward step: optimise on ``train``, then measure on the unseen ``test``."""

    index: int
    train: Window
    test: Window


def walk_forward(period: Window, folds: int, test_fraction: float, step_ms: int, *,
                 anchored: bool = False) -> tuple[Fold, ...]:
    """Return ``folds`` train/test folds over ``period``; boundaries fall on multiples of ``step_ms``."""
    if folds < 1:
        raise InputError(f"folds must be >= 1, got {folds}")
    if not 0 < test_fraction < 1:
        raise InputError(f"test fraction must be in (0, 1), got {test_fraction}")
    candles = (period.end_ms - period.start_ms) // step_ms
    window = candles / (1 + (folds - 1) * test_fraction)
    test = int(window * test_fraction)
    train = int(window) - test
    if test < 1 or train < 1:
        raise InputError(f"{candles} candles are too few for {folds} fold(s) "
                         f"with test fraction {test_fraction}")
    start = period.start_ms - period.start_ms % step_ms
    end = start + candles * step_ms
    out = []
    for i in range(folds):
        test_end = end - (folds - 1 - i) * test * step_ms
        test_start = test_end - test * step_ms
        train_start = start if anchored else test_start - train * step_ms
        out.append(Fold(i + 1, Window(train_start, test_start), Window(test_start, test_end)))
    return tuple(out)


def segments(window: Window, count: int, step_ms: int) -> tuple[Window, ...]:
    """Split ``window`` into ``count`` consecutive parts of (nearly) equal candle counts."""
    candles = (window.end_ms - window.start_ms) // step_ms
    if count < 1 or candles < count:
        raise InputError(f"cannot split {candles} candles into {count} segment(s)")
    edges = [window.start_ms + (candles * k // count) * step_ms for k in range(count + 1)]
    edges[-1] = window.end_ms
    return tuple(Window(a, b) for a, b in itertools.pairwise(edges))
