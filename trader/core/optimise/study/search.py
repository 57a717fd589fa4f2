"""One Optuna trial = one parameter set suggested from the search space, scored on the train window.

Infeasible candidates (parameters the strategy refuses, too few trades, drawdown over the cap) end
as PRUNED trials with the reason in the ``infeasible`` user attribute: TPE then ranks them below every
complete trial, and ``best_trial`` only ever considers feasible (complete) ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import optuna

from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.errors import StrategyError
from trader.core.optimise.candidate import Candidate, build
from trader.core.optimise.evaluate import evaluate
from trader.core.optimise.folds import Window
from trader.core.optimise.objectives import Objective, Score
from trader.core.optimise.space import Choice, Dimension, IntRange
from trader.core.strategies.base import ParamValue

INFEASIBLE = "infeasible"
WORKER = "worker"


@dataclass(frozen=True)
class SearchTask:
    """Everything a worker needs to score candidates (picklable: sent to spawned processes)."""

    strategy: str
    fixed: Mapping[str, Any]
    space: tuple[Dimension, ...]
    candles: Mapping[Symbol, CandleFrame]
    settings: BacktestSettings
    objective: Objective
    window: Window
    parts: int = 1

    def params(self, searched: Mapping[str, ParamValue]) -> dict[str, Any]:
        """Return the fixed parameters overlaid with the searched ones."""
        return {**self.fixed, **searched}

    def build(self, searched: Mapping[str, ParamValue]) -> Candidate:
        """Return the candidate of ``searched`` (the pairs strategy on the candles' two legs, y first)."""
        return build(self.strategy, self.params(searched), tuple(self.candles))

    def score(self, searched: Mapping[str, ParamValue], window: Window | None = None) -> Score:
        """Return the objective of ``searched`` on ``window`` (default: the train window), in one segment."""
        strategy = self.build(searched)
        return evaluate(strategy, self.candles, window or self.window, self.settings, self.objective)


def suggest(trial: optuna.Trial, space: tuple[Dimension, ...]) -> dict[str, ParamValue]:
    """Return one value per dimension, drawn by the trial's sampler."""
    values: dict[str, ParamValue] = {}
    for d in space:
        if isinstance(d, Choice):
            picked = trial.suggest_categorical(d.name, list(d.choices))
            values[d.name] = d.choices[d.choices.index(picked)]  # typed as the declared choice
        elif isinstance(d, IntRange):
            values[d.name] = trial.suggest_int(d.name, d.low, d.high, step=d.step)
        else:
            values[d.name] = trial.suggest_float(d.name, d.low, d.high, step=d.step)
    return values


class TrialObjective:
    """The callable handed to ``study.optimize``: suggest, backtest, score (or prune)."""

    def __init__(self, task: SearchTask, worker: str) -> None:
        self.task = task
        self.worker = worker

    def __call__(self, trial: optuna.Trial) -> float:
        """Return the train objective of the suggested parameters; raise TrialPruned if infeasible."""
        trial.set_user_attr(WORKER, self.worker)
        return self._scored(trial, suggest(trial, self.task.space))

    def drawn(self, trial: optuna.Trial, searched: dict[str, ParamValue]) -> float:
        """Return ``__call__``'s objective of a trial whose parameters ``suggest`` returned already.

        Why: a batch draws its trials' parameters before scoring any; suggesting them again asks the
        storage for each stored value (a copy of the trial each), a share of every cheap trial.
        """
        trial.set_user_attr(WORKER, self.worker)
        return self._scored(trial, searched)

    def _scored(self, trial: optuna.Trial, searched: dict[str, ParamValue]) -> float:
        try:
            strategy = self.task.build(searched)
        except StrategyError as exc:
            _infeasible(trial, str(exc))

        def report(segment: int, running: float) -> None:
            trial.report(running, segment)
            if trial.should_prune():
                raise optuna.TrialPruned(f"running {self.task.objective.name} {running:.3f} after "
                                         f"segment {segment + 1}")

        t = self.task
        score = evaluate(strategy, t.candles, t.window, t.settings, t.objective, parts=t.parts,
                         on_segment=report)
        trial.set_user_attr("trades", score.trades)
        trial.set_user_attr("drawdown", score.drawdown)
        if not score.feasible:
            _infeasible(trial, score.violation)
        return score.value


def _infeasible(trial: optuna.Trial, reason: str) -> NoReturn:
    trial.set_user_attr(INFEASIBLE, reason)
    raise optuna.TrialPruned(reason)


def train_score(trial: optuna.trial.FrozenTrial) -> Score:
    """Return the Score a complete trial recorded."""
    return Score(float(trial.value or 0.0), int(trial.user_attrs.get("trades", 0)),
                 float(trial.user_attrs.get("drawdown", 0.0)))
