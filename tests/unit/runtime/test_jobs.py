"""The job ledger records each job's last run, duration and outcome; /jobs formats it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from handlers import formatting
from tests.fakes.fake_botapi.html_check import html_problem
from trader.runtime.clock import SimClock
from trader.runtime.jobs import JobLedger
from trader.services.dto import JobView

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


async def test_a_run_is_recorded_with_its_start_and_duration() -> None:
    ledger = JobLedger(SimClock(T0))
    started = asyncio.Event()
    release = asyncio.Event()

    async def job() -> None:
        started.set()
        await release.wait()

    task = asyncio.create_task(ledger.wrap("monitor", job)())
    await started.wait()
    assert ledger.running_since("monitor") == T0 and ledger.last("monitor") is None
    release.set()
    await task
    run = ledger.last("monitor")
    assert run is not None and run.ok and run.started_at == T0 and run.duration_seconds >= 0
    assert ledger.running_since("monitor") is None


async def test_a_failure_is_recorded_and_still_raised_to_the_guard() -> None:
    ledger = JobLedger(SimClock(T0))

    async def job() -> None:
        raise TimeoutError("venue did not answer")

    with pytest.raises(TimeoutError):
        await ledger.wrap("risk", job)()
    run = ledger.last("risk")
    assert run is not None and not run.ok and run.error == "TimeoutError: venue did not answer"


def test_jobs_message_marks_each_outcome_and_escapes() -> None:
    text = formatting.jobs((
        JobView("monitor", T0 + timedelta(seconds=10), T0, 0.031),
        JobView("risk", T0 + timedelta(minutes=1), T0, 5.012, error="<NetworkError>: timed out"),
        JobView("backup", T0 + timedelta(hours=15), detail="last backup trader-20260501-030000.db, 9 bytes"),
        JobView("tick|breakout|BTC/USDT|1h", T0 + timedelta(hours=1), running_since=T0),
    ))
    assert html_problem(text) is None
    lines = text.splitlines()
    assert lines[1] == ("✅ <code>monitor</code> · last 2026-05-01 12:00 UTC (0.03 s) · "
                        "next 2026-05-01 12:00 UTC")
    assert lines[2].startswith("❌ <code>risk</code> · last 2026-05-01 12:00 UTC (5.01 s) failed: "
                               "&lt;NetworkError&gt;: timed out")
    assert lines[3] == ("· <code>backup</code> · not run yet · next 2026-05-02 03:00 UTC · "
                        "last backup trader-20260501-030000.db, 9 bytes")
    assert lines[4].startswith("⏳ <code>tick|breakout|BTC/USDT|1h</code> · running since")
    assert "replay demo" in formatting.jobs(())
