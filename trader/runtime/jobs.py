"""The job ledger: each scheduled job's last run (start, duration, outcome), read by /jobs and the API.

APScheduler knows a job's next run but not how its last one went, because the lifecycle's guard keeps
a failing job from raising into the scheduler. The ledger wraps the job inside that guard, so it sees
the failure first and the guard still logs and alerts it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from trader.ports.clock import Clock

JobFunc = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobRun:
    """How a job's last run went: when it started (UTC), how long it took, the error if it failed."""

    started_at: datetime
    duration_seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Return True when the run finished without an exception."""
        return self.error is None


class JobLedger:
    """Remembers each job's last run; jobs are named by their scheduler id."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._runs: dict[str, JobRun] = {}
        self._running: dict[str, datetime] = {}

    def wrap(self, job_id: str, func: JobFunc) -> JobFunc:
        """Return ``func`` recording its runs under ``job_id`` (exceptions are recorded and re-raised)."""
        async def run() -> None:
            started, began = self._clock.now(), time.perf_counter()
            self._running[job_id] = started
            try:
                await func()
            except Exception as exc:
                self._runs[job_id] = JobRun(started, time.perf_counter() - began,
                                            f"{type(exc).__name__}: {exc}"[:300])
                raise
            else:
                self._runs[job_id] = JobRun(started, time.perf_counter() - began)
            finally:
                self._running.pop(job_id, None)
        return run

    def last(self, job_id: str) -> JobRun | None:
        """Return the job's last finished run, or None when it has not run yet."""
        return self._runs.get(job_id)

    def running_since(self, job_id: str) -> datetime | None:
        """Return when the job's current run started, or None when it is not running."""
        return self._running.get(job_id)
