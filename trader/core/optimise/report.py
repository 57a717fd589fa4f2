"""The walk-forward table: per fold the periods, best parameters, train and test objective side by
side, so that over-fitting (a good train score that does not survive the unseen test) is visible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trader.core.optimise.folds import Fold
from trader.core.optimise.objectives import Objective, Score
from trader.core.strategies.base import ParamValue

HEADERS = ("fold", "train period", "test period", "best params", "train {}", "test {}", "test trades",
           "trials")


@dataclass(frozen=True, slots=True)
class FoldOutcome:
    """One fold's search result and its out-of-sample check."""

    fold: Fold
    params: Mapping[str, ParamValue]  # the searched parameters only
    train: Score
    test: Score
    trials: int  # finished trials (complete + pruned)
    pruned: int
    infeasible: int


def format_params(params: Mapping[str, ParamValue]) -> str:
    """Return 'a=1 b=0.5' with floats shortened."""
    return " ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _score(score: Score) -> str:
    text = f"{score.value:.3f}"
    return f"{text} ({score.violation})" if score.violation else text


def fold_rows(outcomes: Sequence[FoldOutcome]) -> list[tuple[str, ...]]:
    """Return one row of cells per fold."""
    return [(str(o.fold.index), o.fold.train.label(), o.fold.test.label(), format_params(o.params) or "-",
             _score(o.train), _score(o.test), str(o.test.trades),
             f"{o.trials} ({o.pruned} pruned, {o.infeasible} infeasible)") for o in outcomes]


def fold_table(outcomes: Sequence[FoldOutcome], objective: Objective) -> str:
    """Return the walk-forward table as aligned text."""
    headers = tuple(h.format(objective.name) for h in HEADERS)
    rows = [headers, *fold_rows(outcomes)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(outcomes: Sequence[FoldOutcome], objective: Objective) -> str:
    """Return the mean train and test objective over the folds and what the gap suggests."""
    done = [o for o in outcomes if not math.isnan(o.train.value) and not math.isnan(o.test.value)]
    if not done:
        return "no fold found a feasible parameter set"
    train = sum(o.train.value for o in done) / len(done)
    test = sum(o.test.value for o in done) / len(done)
    text = f"mean {objective.name}: train {train:.3f}, test {test:.3f}"
    if test <= 0 < train:
        return text + " (no out-of-sample edge: the train result is likely over-fitted)"
    if 0 < test < train / 2:
        return text + " (test below half of train: likely over-fitted)"
    return text
