"""DTOs for the operations views: scheduled jobs (/jobs) and news headlines (/news).

Re-exported by ``trader.services.dto``, which front ends import; kept apart so that module stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NewsView:
    """One headline (/news): where it came from, when (UTC), and the tickers it mentions."""

    title: str
    source: str
    link: str
    published_at: datetime
    assets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobView:
    """One scheduled job (/jobs, /api/v1/jobs): how its last run went and when it runs next (UTC)."""

    id: str
    next_run_at: datetime | None
    last_run_at: datetime | None = None  # None: not run since the service started
    duration_seconds: float | None = None
    error: str | None = None  # the last run's failure
    running_since: datetime | None = None
    detail: str = ""  # e.g. the last backup's file and size
