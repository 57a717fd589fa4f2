"""Studies and their storage: a worker runs trials until the study holds ``trials`` finished ones
(complete or pruned; with several workers the last round may overshoot by up to jobs - 1).

Storage specs: None (in memory, one in-process worker), ``journal:PATH`` (a journal file shared by
local processes) or an SQLAlchemy URL (RDB storage; PostgreSQL lets other machines join).

Samplers: ``tpe`` (default: random for the first trials, then TPE; a lone worker uses
``study.tpe.BatchTPESampler``, one model per batch), ``random`` and ``qmc`` (scrambled Sobol points:
an even cover of the space) do not learn from the scores. A worker asks ``batch`` trials (the CLI's
default: ``study.default_batch``) and draws all their parameters, evaluates them inside one ``memo``
cache for the whole study (candle slices, indicators and repeated parameter sets shared, as
``optimise.batch`` does) and tells their results; with TPE the trials of a batch are sampled from one
model, and the batches grow from one after the random start-up (``batch_size``)."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from trader.core import memo
from trader.core.errors import InputError, TraderError
from trader.core.optimise.study import SAMPLERS
from trader.core.optimise.study.search import SearchTask, TrialObjective, suggest
from trader.core.optimise.study.tpe import BatchTPESampler

logger = logging.getLogger(__name__)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
RAMP = 4  # finished trials per extra trial in a TPE batch after the start-up (batch_size)
# study.tell's body (optuna 4 and 5) without its deep copy; study.tell itself if a release moves it
_TELL: Callable[..., object] | None = getattr(getattr(optuna.study, "_tell", None), "_tell_with_warning",
                                              None)


@dataclass(frozen=True, slots=True)
class StudyPlan:
    """Where the study lives and how to run it."""

    study_name: str
    storage: str | None  # None: in memory; "journal:PATH"; or an SQLAlchemy URL
    trials: int
    jobs: int = 1
    seed: int = 0
    shared: bool = False  # other machines may join: salt the seeds so they sample differently
    sampler: str = "tpe"
    batch: int = 1  # trials asked (and evaluated) together by a worker (the CLI: default_batch)

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise InputError(f"unknown sampler {self.sampler!r}: choose from {', '.join(SAMPLERS)}")
        if self.batch < 1:
            raise InputError(f"batch must be >= 1, got {self.batch}")


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


def sampler(plan: StudyPlan, index: int) -> optuna.samplers.BaseSampler:
    """Return worker ``index``'s sampler for ``plan`` (seeded: reproducible with one worker)."""
    seed = worker_seed(plan, index)
    if plan.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if plan.sampler == "qmc":
        # Every worker draws from one scrambled sequence (the study's seed), indexed by trial number.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.QMCSampler(seed=plan.seed, scramble=True, warn_independent_sampling=False)
    startup = startup_trials(plan.trials)
    if plan.jobs == 1 and not plan.shared:  # nobody else finishes trials between this worker's asks
        return BatchTPESampler(block=plan.batch, seed=seed, n_startup_trials=startup)
    # Several workers: other workers' trials finish and run between asks; Optuna's TPE refits at
    # every ask and counts their running trials as poor (constant liar), so they spread out.
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)


def startup_trials(trials: int) -> int:
    """Return how many random trials TPE runs before its first model, in a study of ``trials``."""
    return min(10, max(3, trials // 3))


def batch_size(batch: int, done: int, startup: int) -> int:
    """Return how many trials a TPE worker asks next: whole batches of the random start-up trials,
    then one, growing by one every ``RAMP`` finished trials up to ``batch``. The first models
    steer the search most; a fit costs a few ms, so these few small batches are cheap."""
    if done < startup:
        return min(batch, startup - done)
    return min(batch, 1 + (done - startup) // RAMP)


def _pruner(task: SearchTask) -> optuna.pruners.BasePruner:
    if task.parts < 2:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)


def finished(study: optuna.Study) -> int:
    """Return how many trials of ``study`` are complete or pruned."""
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def run_trials(study: optuna.Study, task: SearchTask, trials: int, batch: int = 1) -> None:
    """Run trials in this process, ``batch`` at a time (TPE: ``batch_size``), until ``study`` holds
    ``trials`` finished ones."""
    objective = TrialObjective(task, f"{socket.gethostname()}:{os.getpid()}")
    learns = isinstance(study.sampler, optuna.samplers.TPESampler)
    with memo.caching(memo.IndicatorCache()):
        while (done := finished(study)) < trials:
            running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
            # other workers' running trials are on their way: a pool shares one start-up and one ramp
            size = batch_size(batch, done + running, startup_trials(trials)) if learns else batch
            # other workers' running trials count too, so a shared study overshoots by at most jobs - 1
            _run_batch(study, objective, max(1, min(size, trials - done - running)))


def _tell(study: optuna.Study, trial: optuna.Trial, value: float | None = None,
          state: TrialState | None = None) -> None:
    """``study.tell`` without the deep copy of the finished trial it returns (nobody reads it here;
    copying its params, distributions and attributes was a tenth of a cheap trial)."""
    if _TELL is None:
        study.tell(trial, value, state)
    else:
        _TELL(study=study, trial=trial, value_or_values=value, state=state)


def _run_batch(study: optuna.Study, objective: TrialObjective, size: int) -> None:
    asked = [study.ask() for _ in range(size)]
    told = 0
    try:
        # Optuna samples a trial's parameters at its first suggest: draw the whole batch's now,
        # before any of it is told, so TPE samples the batch from one model.
        drawn = [suggest(trial, objective.task.space) for trial in asked]
        for trial, searched in zip(asked, drawn, strict=True):
            try:
                value = objective.drawn(trial, searched)
            except optuna.TrialPruned:
                _tell(study, trial, state=TrialState.PRUNED)
            else:
                _tell(study, trial, value)
            told += 1
    finally:
        for trial in asked[told:]:  # an error stops the run: no trial is left running in the storage
            _tell(study, trial, state=TrialState.FAIL)


def create_study(task: SearchTask, plan: StudyPlan) -> optuna.Study:
    """Create the plan's study, or load it when it exists (a re-run resumes; other machines join)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(storage=open_storage(plan.storage), study_name=plan.study_name,
                               direction="maximize", sampler=sampler(plan, 0), pruner=_pruner(task),
                               load_if_exists=True)


def load_shared(task: SearchTask, plan: StudyPlan, index: int) -> optuna.Study:
    """Return the plan's stored study with worker ``index``'s sampler."""
    if plan.storage is None:
        raise TraderError("worker processes need a shared storage (a journal file or an RDB URL)")
    return optuna.load_study(study_name=plan.study_name, storage=shared_storage(plan.storage),
                             sampler=sampler(plan, index), pruner=_pruner(task))
