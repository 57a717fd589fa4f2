"""APScheduler 3 asyncio scheduler: one job per (strategy, pair, timeframe) just after candle close.

Every job runs with ``max_instances=1`` and ``coalesce=True`` so a slow run never overlaps itself and a
backlog collapses into one run; each (strategy, pair) is its own job, so one slow pair never blocks
another. Misfires are logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from trader.config import SchedulerConfig
from trader.core.domain.candles import timeframe_ms

logger = logging.getLogger(__name__)

JobFunc = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TickJob:
    """A strategy tick for one pair and timeframe."""

    strategy: str
    symbol: str
    timeframe: str
    run: JobFunc

    @property
    def job_id(self) -> str:
        """Return a stable id: strategy|symbol|timeframe."""
        return f"tick|{self.strategy}|{self.symbol}|{self.timeframe}"


def candle_close_trigger(timeframe: str, delay_seconds: float) -> IntervalTrigger:
    """Return a trigger firing ``delay_seconds`` after every candle close, aligned to the UTC epoch."""
    period = timedelta(milliseconds=timeframe_ms(timeframe))
    # IntervalTrigger's default start is "now"; anchoring at the epoch aligns runs with candle closes.
    anchor = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=delay_seconds)
    return IntervalTrigger(seconds=period.total_seconds(), start_date=anchor, timezone=UTC)


class TradingScheduler:
    """Owns the AsyncIOScheduler and the engine's recurring jobs."""

    def __init__(self, config: SchedulerConfig) -> None:
        self._config = config
        self._scheduler = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": config.misfire_grace_seconds,
            },
        )
        self._scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        self.missed: list[str] = []

    @property
    def running(self) -> bool:
        """Return True while the scheduler runs jobs."""
        return bool(self._scheduler.running)

    def add_tick(self, job: TickJob) -> None:
        """Schedule a strategy tick just after each candle of its timeframe closes."""
        trigger = candle_close_trigger(job.timeframe, self._config.candle_close_delay_seconds)
        self._scheduler.add_job(job.run, trigger, id=job.job_id, replace_existing=True)

    def add_interval(self, job_id: str, func: JobFunc, seconds: float) -> None:
        """Schedule ``func`` every ``seconds`` (monitors, heartbeat)."""
        self._scheduler.add_job(func, IntervalTrigger(seconds=seconds), id=job_id, replace_existing=True)

    def add_daily(self, job_id: str, func: JobFunc, hour: int, timezone: str) -> None:
        """Schedule ``func`` once a day at ``hour`` in ``timezone`` (daily summary)."""
        trigger = CronTrigger(hour=hour, minute=0, timezone=timezone)
        self._scheduler.add_job(func, trigger, id=job_id, replace_existing=True)

    def add_monitors(self, monitor: JobFunc, risk: JobFunc, heartbeat: JobFunc) -> None:
        """Schedule the order/stop monitor, the risk monitor and the heartbeat from the config."""
        self.add_interval("monitor", monitor, self._config.monitor_interval_seconds)
        self.add_interval("risk", risk, self._config.risk_interval_seconds)
        self.add_interval("heartbeat", heartbeat, self._config.heartbeat_seconds)

    def job_ids(self) -> list[str]:
        """Return the ids of every scheduled job."""
        return [job.id for job in self._scheduler.get_jobs()]

    def jobs(self) -> list[tuple[str, datetime | None]]:
        """Return every scheduled job's id and next run time (None while paused)."""
        return [(job.id, job.next_run_time) for job in self._scheduler.get_jobs()]

    def start(self) -> None:
        """Start running jobs on the current event loop."""
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop without waiting for running jobs (they are crash-safe by design)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self.missed.append(event.job_id)
            logger.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            logger.error("job %s failed: %s", event.job_id, event.exception)
