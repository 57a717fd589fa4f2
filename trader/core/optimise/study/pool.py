"""Worker processes kept for a whole `tradebot optimise` run; each fold's study goes to all of them.

Threads would not scale (the backtest is Python under the GIL), so the pool spawns ``jobs``
processes once (importing numpy, numba and the strategies costs seconds per process) and hands
every fold's study to each of them. They start a fold together behind a barrier, so every worker
takes part even in a small study; a failing or dying worker stops the run with its traceback.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import traceback
from types import TracebackType
from typing import Any

from trader.core.errors import TraderError
from trader.core.optimise.study.search import SearchTask
from trader.core.optimise.study.workers import StudyPlan, load_shared, run_trials

logger = logging.getLogger(__name__)

_BARRIER_TIMEOUT_S = 120
_POLL_S = 0.5


class WorkerPool:
    """``jobs`` spawned processes that run trials on shared studies."""

    def __init__(self, jobs: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._barrier = ctx.Barrier(jobs)
        self._inboxes = [ctx.Queue() for _ in range(jobs)]
        self._results: Any = ctx.Queue()
        self._procs = [ctx.Process(target=_serve, args=(i, self._inboxes[i], self._results, self._barrier),
                                   name=f"optimise-worker-{i}", daemon=True) for i in range(jobs)]
        for proc in self._procs:
            proc.start()

    def run(self, task: SearchTask, plan: StudyPlan) -> None:
        """Run ``plan``'s study on every worker until it holds ``plan.trials`` finished trials."""
        for inbox in self._inboxes:
            inbox.put((task, plan))
        pending = len(self._procs)
        while pending:
            try:
                kind, index, detail = self._results.get(timeout=_POLL_S)
            except queue.Empty:
                dead = [p for p in self._procs if not p.is_alive()]
                if dead:
                    raise TraderError(f"{dead[0].name} died (exit code {dead[0].exitcode})") from None
                continue
            if kind == "error":
                raise TraderError(f"optimisation worker {index} failed:\n{detail}")
            pending -= 1

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers (at once when ``abort``)."""
        if abort:
            self._barrier.abort()
            for proc in self._procs:
                proc.terminate()
        for inbox in self._inboxes:
            inbox.put(None)
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(abort=exc is not None)


def _serve(index: int, inbox: Any, results: Any, barrier: Any) -> None:
    """Worker loop: for each (task, plan) received, wait for the others, run trials, report."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    while (item := inbox.get()) is not None:
        task, plan = item
        try:
            study = load_shared(task, plan, index)
            barrier.wait(_BARRIER_TIMEOUT_S)
            run_trials(study, task, plan.trials, plan.batch)
        except Exception:
            results.put(("error", index, traceback.format_exc(limit=6)))
            return
        results.put(("done", index, ""))
