"""Run a study's trials in worker processes that share one Optuna storage.

Threads would not scale (the backtest is Python under the GIL), so ``jobs`` spawned processes each
run trials until the study holds ``trials`` finished ones (complete or pruned; with several workers
the last round may overshoot by up to jobs - 1). Local workers start together behind a barrier.
Storage specs: None (in memory, one in-process worker), ``journal:PATH`` (a journal file shared by
local processes) or an SQLAlchemy URL (RDB storage; PostgreSQL lets other machines join).
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import socket
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from trader.errors import TraderError
from trader.optimise.search import SearchTask, TrialObjective

logger = logging.getLogger(__name__)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
_BARRIER_TIMEOUT_S = 120


@dataclass(frozen=True, slots=True)
class StudyPlan:
    """Where the study lives and how to run it."""

    study_name: str
    storage: str | None  # None: in memory; "journal:PATH"; or an SQLAlchemy URL
    trials: int
    jobs: int = 1
    seed: int = 0
    shared: bool = False  # other machines may join: salt the seeds so they sample differently


def open_storage(spec: str | None) -> BaseStorage | None:
    """Return the Optuna storage for ``spec`` (None: in memory)."""
    return None if spec is None else shared_storage(spec)


def shared_storage(spec: str) -> BaseStorage:
    """Return the journal-file or RDB storage named by ``spec``."""
    if spec.startswith("journal:"):
        return JournalStorage(JournalFileBackend(spec.removeprefix("journal:")))
    return RDBStorage(spec)


def worker_seed(plan: StudyPlan, index: int) -> int:
    """Return worker ``index``'s sampler seed: the plan's seed for worker 0 of an unshared study."""
    if not plan.shared:
        return plan.seed + index
    salt = f"{plan.seed}:{socket.gethostname()}:{os.getpid()}:{index}".encode()
    return int.from_bytes(hashlib.sha256(salt).digest()[:4], "big")


def _sampler(plan: StudyPlan, index: int) -> optuna.samplers.BaseSampler:
    startup = min(10, max(3, plan.trials // 3))
    return optuna.samplers.TPESampler(seed=worker_seed(plan, index), n_startup_trials=startup)


def _pruner(task: SearchTask) -> optuna.pruners.BasePruner:
    if task.parts < 2:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)


def finished(study: optuna.Study) -> int:
    """Return how many trials of ``study`` are complete or pruned."""
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def run_trials(study: optuna.Study, task: SearchTask, trials: int) -> None:
    """Run trials in this process until ``study`` holds ``trials`` finished ones."""
    remaining = trials - finished(study)
    if remaining <= 0:
        return
    objective = TrialObjective(task, f"{socket.gethostname()}:{os.getpid()}")
    callback = optuna.study.MaxTrialsCallback(trials, states=FINISHED)
    study.optimize(objective, n_trials=remaining, callbacks=[callback])


def run_study(task: SearchTask, plan: StudyPlan) -> optuna.Study:
    """Create (or resume) the study, run its trials with ``plan.jobs`` workers, return it loaded."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(plan.storage)
    study = optuna.create_study(storage=storage, study_name=plan.study_name, direction="maximize",
                                sampler=_sampler(plan, 0), pruner=_pruner(task), load_if_exists=True)
    if plan.jobs <= 1 or finished(study) >= plan.trials:
        run_trials(study, task, plan.trials)
        return study
    if plan.storage is None:
        raise TraderError("several workers need a shared storage (a journal file or an RDB URL)")
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(plan.jobs)
    procs = [ctx.Process(target=worker_main, args=(task, plan, i, barrier), name=f"optimise-{i}")
             for i in range(plan.jobs)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    failed = [p.name for p in procs if p.exitcode != 0]
    if failed:
        raise TraderError(f"optimisation worker(s) {', '.join(failed)} failed (traceback above)")
    return optuna.load_study(study_name=plan.study_name, storage=shared_storage(plan.storage))


def worker_main(task: SearchTask, plan: StudyPlan, index: int, barrier: Any) -> None:
    """Entry point of a spawned worker: wait for the others, then run trials on the shared study."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if plan.storage is None:
        raise TraderError("a worker process needs a shared storage")
    study = optuna.load_study(study_name=plan.study_name, storage=shared_storage(plan.storage),
                              sampler=_sampler(plan, index), pruner=_pruner(task))
    barrier.wait(_BARRIER_TIMEOUT_S)
    run_trials(study, task, plan.trials)
