"""Bias checks for a strategy on real candles (freqtrade's lookahead/recursive analysis, our way).

- Look-ahead: signals computed on a prefix of the history must equal the same rows computed on the
  whole history; a row that changes when later candles are appended used the future.
- Live path: ``latest`` (what the live engine calls on the last ``required_history`` candles) must
  equal the vectorised row for a seeded sample of candles.
- Warm-up: the signals of the last ``target`` candles are computed with different amounts of
  history before them; they must agree with the full-history signals once the history reaches the
  strategy's declared ``required_history`` (recursive indicators such as EMA/RSI depend on their seed).

Plugin code runs through GuardedStrategy, so a malformed frame is a StrategyError, not a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trader.core.domain.candles import CandleFrame
from trader.core.errors import InputError
from trader.core.optimise.compare import Difference, differing_rows, first_difference, signal_difference
from trader.core.strategies.base import SignalFrame, Strategy
from trader.core.strategies.guard import GuardedStrategy

WARMUP_FACTORS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """Prefix-versus-whole comparison and the live ``latest`` sample."""

    cuts: tuple[int, ...]  # prefix lengths compared
    rows_compared: int
    rows_differing: int
    examples: tuple[Difference, ...]
    live_rows: int  # sampled rows checked through ``latest``
    live_differing: int
    live_examples: tuple[Difference, ...]

    @property
    def passed(self) -> bool:
        """Return True when no row changed with future candles and live equals vectorised."""
        return self.rows_differing == 0 and self.live_differing == 0


@dataclass(frozen=True, slots=True)
class WarmupStep:
    """How many of the target rows differ from the full-history signals at one history length."""

    history: int
    rows_differing: int


@dataclass(frozen=True, slots=True)
class WarmupReport:
    """Warm-up sensitivity over a ladder of history lengths."""

    required_history: int
    target_rows: int
    steps: tuple[WarmupStep, ...]

    @property
    def agrees_from(self) -> int | None:
        """Return the shortest tested history from which every longer one agrees (None: never)."""
        found = None
        for step in reversed(self.steps):
            if step.rows_differing:
                break
            found = step.history
        return found

    @property
    def passed(self) -> bool:
        """Return True when the signals agree at (and beyond) the declared required_history."""
        agreed = self.agrees_from
        return agreed is not None and agreed <= self.required_history


def check_lookahead(strategy: Strategy, candles: CandleFrame, *, cuts: int = 6, samples: int = 30,
                    seed: int = 0) -> LookaheadReport:
    """Compare prefixes with the whole history, and ``latest`` with the vectorised rows."""
    guarded = GuardedStrategy(strategy)
    n, history = len(candles), guarded.required_history
    if n < history + 2:
        raise InputError(f"need more than {history + 1} candles for the look-ahead check, have {n}")
    full = guarded.compute(candles)
    lengths = tuple(sorted({int(k) for k in np.linspace(max(2, history), n - 1, cuts)}))
    compared = differing = 0
    examples: list[Difference] = []
    for k in lengths:
        whole, prefix = _head(full, k), guarded.compute(candles.slice(0, k))
        mask = differing_rows(whole, prefix)
        compared += k
        differing += int(mask.sum())
        examples += [first_difference(whole, prefix, int(r)) for r in np.flatnonzero(mask)[:1]]
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(np.arange(history - 1, n), size=min(samples, n - history + 1), replace=False))
    live = [signal_difference(full.row(int(r)), guarded.latest(candles.slice(0, int(r) + 1))) for r in rows]
    found = [d for d in live if d is not None]
    return LookaheadReport(lengths, compared, differing, tuple(examples[:5]), len(rows), len(found),
                           tuple(found[:5]))


def check_warmup(strategy: Strategy, candles: CandleFrame, *, target: int = 1000,
                 factors: tuple[float, ...] = WARMUP_FACTORS) -> WarmupReport:
    """Compute the last ``target`` rows with ``factor x required_history`` candles of history (and
    twice the longest tested, again and again, while the signals still differ)."""
    guarded = GuardedStrategy(strategy)
    n, history = len(candles), guarded.required_history
    first = n - target
    if target < 1 or first < history:
        raise InputError(f"need at least {history + target} candles for the warm-up check, have {n}")
    reference = _tail(guarded.compute(candles), target)
    ladder = sorted({max(2, int(history * f)) for f in factors})
    steps: list[WarmupStep] = []
    while ladder and ladder[0] <= first:  # longer than ``first`` would be the reference itself
        h = ladder.pop(0)
        window = guarded.compute(candles.slice(first - h + 1))
        steps.append(WarmupStep(h, int(differing_rows(reference, _tail(window, target)).sum())))
        if not ladder and steps[-1].rows_differing:
            ladder.append(h * 2)  # still differs: keep doubling to find where the signals settle
    return WarmupReport(history, target, tuple(steps))


def _head(frame: SignalFrame, k: int) -> SignalFrame:
    return _rows(frame, slice(0, k))


def _tail(frame: SignalFrame, k: int) -> SignalFrame:
    return _rows(frame, slice(len(frame) - k, None))


def _rows(frame: SignalFrame, rows: slice) -> SignalFrame:
    return SignalFrame(frame.timestamp[rows], frame.enter_long[rows], frame.exit_long[rows],
                       frame.enter_short[rows], frame.exit_short[rows], frame.confidence[rows],
                       frame.stop_loss[rows], frame.take_profit[rows], frame.reasons[rows],
                       frame.reason_names)
