"""Studies and their storage: a worker runs trials until the study holds ``trials`` finished ones
(complete or pruned; with several workers the last round may overshoot by up to jobs - 1).

Storage specs: None (in memory, one in-process worker), ``journal:PATH`` (a journal file shared by
local processes) or an SQLAlchemy URL (RDB storage; PostgreSQL lets other machines join).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from dataclasses import dataclass

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from trader.core.errors import TraderError
from trader.core.optimise.study.search import SearchTask, TrialObjective

logger = logging.getLogger(__name__)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


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


def create_study(task: SearchTask, plan: StudyPlan) -> optuna.Study:
    """Create the plan's study, or load it when it exists (a re-run resumes; other machines join)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(storage=open_storage(plan.storage), study_name=plan.study_name,
                               direction="maximize", sampler=_sampler(plan, 0), pruner=_pruner(task),
                               load_if_exists=True)


def load_shared(task: SearchTask, plan: StudyPlan, index: int) -> optuna.Study:
    """Return the plan's stored study with worker ``index``'s sampler."""
    if plan.storage is None:
        raise TraderError("worker processes need a shared storage (a journal file or an RDB URL)")
    return optuna.load_study(study_name=plan.study_name, storage=shared_storage(plan.storage),
                             sampler=_sampler(plan, index), pruner=_pruner(task))
