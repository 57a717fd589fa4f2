"""Fault alerts: one alert per episode, grouped across sources, closed after a quiet spell, rate-limited."""

from __future__ import annotations

from datetime import UTC, datetime

from trader.adapters.store.memory.uow import MemoryStore
from trader.live.alerts import AlertService
from trader.live.fault_alerts import CLEARED_KIND, FAULT_KIND, FaultAlerts
from trader.runtime.clock import SimClock


class Channel:
    async def send(self, alert: object) -> None:  # delivery is not what is tested: the outbox is
        raise ConnectionError("kept in the outbox")


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _faults(quiet: float = 60.0, interval: float = 600.0) -> tuple[FaultAlerts, MemoryStore, Seconds]:
    store = MemoryStore()
    alerts = AlertService(store.uow_factory, Channel(), SimClock(datetime(2026, 1, 1, tzinfo=UTC)))
    seconds = Seconds()
    return FaultAlerts(alerts, quiet_seconds=quiet, min_interval=interval, now=seconds), store, seconds


async def _kinds(store: MemoryStore) -> list[str]:
    async with store.uow_factory() as uow:
        return [row.alert.kind for row in await uow.alerts.pending(limit=1000)]


async def test_an_outage_failing_every_job_many_times_is_one_alert_then_one_recovery_note() -> None:
    faults, store, clock = _faults()
    for _ in range(20):  # 20 runs of three jobs, 10 s apart, all failing
        for job in ("monitor", "equity", "tick breakout BTC/USDT 1h"):
            await faults.failed(job, "ExchangeUnavailable: 503")
        clock.now += 10
    assert await _kinds(store) == [FAULT_KIND]
    for job in ("monitor", "equity"):
        await faults.succeeded(job)
    clock.now += 120
    await faults.succeeded("monitor")
    assert faults.episode is not None  # the tick has not worked again yet
    await faults.succeeded("tick breakout BTC/USDT 1h")
    assert faults.episode is None
    assert await _kinds(store) == [FAULT_KIND, CLEARED_KIND]
    async with store.uow_factory() as uow:
        cleared = (await uow.alerts.pending(limit=10))[1].alert.text
    assert "60 fault(s)" in cleared and "monitor x20" in cleared


async def test_a_fault_right_after_recovery_belongs_to_the_same_episode_until_it_was_quiet() -> None:
    faults, store, clock = _faults(quiet=60)
    await faults.failed("monitor", "RequestTimeout")
    clock.now += 5
    await faults.succeeded("monitor")
    clock.now += 30
    await faults.failed("monitor", "RequestTimeout")  # flapping: still the first episode
    clock.now += 61
    await faults.succeeded("monitor")
    assert await _kinds(store) == [FAULT_KIND, CLEARED_KIND]


async def test_episodes_closer_than_the_rate_limit_are_counted_into_the_next_alert() -> None:
    faults, store, clock = _faults(quiet=10, interval=600)
    for _ in range(3):  # three short episodes within ten minutes
        await faults.failed("venue", "3 calls in a row got no answer")
        clock.now += 20
        await faults.succeeded("venue")
        clock.now += 100
    assert await _kinds(store) == [FAULT_KIND, CLEARED_KIND]  # the 2nd and 3rd are held back
    clock.now += 600
    await faults.failed("venue", "again")
    async with store.uow_factory() as uow:
        rows = await uow.alerts.pending(limit=10)
    assert [r.alert.kind for r in rows] == [FAULT_KIND, CLEARED_KIND, FAULT_KIND]
    assert "2 earlier fault episode(s)" in rows[-1].alert.text
