"""Walk-forward optimisation: one study per fold on its train window, the best parameters then
scored on the fold's unseen test window (same objective, same costs). One worker runs in this
process (seeded: reproducible); several run in a WorkerPool spawned once for all folds."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import replace

import optuna
from optuna.trial import TrialState

from trader.core.optimise.folds import Fold
from trader.core.optimise.objectives import Score
from trader.core.optimise.report import FoldOutcome
from trader.core.optimise.study.pool import WorkerPool
from trader.core.optimise.study.search import INFEASIBLE, SearchTask, train_score
from trader.core.optimise.study.workers import StudyPlan, create_study, finished, load_shared, run_trials

Progress = Callable[[str], None]
_NOT_RUN = Score(math.nan, 0, 0.0, "no feasible trial")


def fold_study_name(plan: StudyPlan, fold: Fold, folds: int) -> str:
    """Return the study name of ``fold`` (the plan's name itself for a single split)."""
    return plan.study_name if folds == 1 else f"{plan.study_name}-fold{fold.index}"


def walk_forward(task: SearchTask, folds: Sequence[Fold], plan: StudyPlan,
                 progress: Progress | None = None) -> list[FoldOutcome]:
    """Optimise every fold's train window and score its best parameters on the test window."""
    outcomes = []
    with ExitStack() as stack:
        pool: WorkerPool | None = None
        for fold in folds:
            fold_task = replace(task, window=fold.train)
            fold_plan = replace(plan, study_name=fold_study_name(plan, fold, len(folds)))
            study = create_study(fold_task, fold_plan)
            if plan.jobs > 1 and finished(study) < plan.trials:
                pool = pool or stack.enter_context(WorkerPool(plan.jobs))
                pool.run(fold_task, fold_plan)
                study = load_shared(fold_task, fold_plan, 0)
            else:
                run_trials(study, fold_task, plan.trials, plan.batch)
            outcomes.append(outcome(study, fold_task, fold))
            if progress is not None:
                o = outcomes[-1]
                progress(f"fold {fold.index}/{len(folds)}: {o.trials} trials, train {o.train.value:.3f}, "
                         f"test {o.test.value:.3f}")
    return outcomes


def outcome(study: optuna.Study, task: SearchTask, fold: Fold) -> FoldOutcome:
    """Return the fold's best trial and its score on the test window."""
    trials = study.get_trials(deepcopy=False)
    infeasible = sum(1 for t in trials if t.state is TrialState.PRUNED and INFEASIBLE in t.user_attrs)
    pruned = sum(1 for t in trials if t.state is TrialState.PRUNED) - infeasible
    if not any(t.state is TrialState.COMPLETE for t in trials):
        return FoldOutcome(fold, {}, _NOT_RUN, _NOT_RUN, finished(study), pruned, infeasible)
    best = study.best_trial
    params = {d.name: best.params[d.name] for d in task.space}
    test = task.score(params, fold.test)
    return FoldOutcome(fold, params, train_score(best), test, finished(study), pruned, infeasible)
