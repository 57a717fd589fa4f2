import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from trader.config import SchedulerConfig
from trader.runtime.clock import SimClock, SystemClock
from trader.runtime.scheduler import TickJob, TradingScheduler, candle_close_trigger


def test_trigger_fires_just_after_candle_close() -> None:
    trig = candle_close_trigger("1h", 5)
    now = datetime(2024, 3, 1, 10, 17, tzinfo=UTC)
    nxt = trig.get_next_fire_time(None, now)
    assert nxt == datetime(2024, 3, 1, 11, 0, 5, tzinfo=UTC)
    trig4 = candle_close_trigger("4h", 0)
    assert trig4.get_next_fire_time(None, now) == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_sim_clock_never_goes_back() -> None:
    clock = SimClock(datetime(2024, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2024, 1, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2023, 12, 31, tzinfo=UTC))
    assert SystemClock().now().tzinfo is not None


async def test_slow_job_never_overlaps_itself_and_does_not_block_others() -> None:
    sched = TradingScheduler(SchedulerConfig(monitor_interval_seconds=0.05))
    running = 0
    peak = 0
    fast_runs = 0

    async def slow() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.3)
        running -= 1

    async def fast() -> None:
        nonlocal fast_runs
        fast_runs += 1

    sched.add_interval("slow", slow, 0.05)
    sched.add_interval("fast", fast, 0.05)
    sched.add_tick(TickJob("breakout", "BTC/USDT", "1h", fast))
    sched.start()
    await asyncio.sleep(0.7)
    sched.shutdown()
    assert peak == 1
    assert fast_runs >= 5
    assert "tick|breakout|BTC/USDT|1h" in sched.job_ids()
