"""Alert outbox: in-order, at-least-once delivery with backoff, persisted attempts, restart recovery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from trader.adapters.store.memory.uow import MemoryStore
from trader.core.domain.alerts import Alert, Severity
from trader.live.alerts import AlertService, RetryPolicy
from trader.runtime.clock import SimClock

T0 = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
POLICY = RetryPolicy(initial_seconds=2, factor=2, max_seconds=30, max_attempts=4)


class FlakyNotifier:
    """Records delivered alerts; raises while ``failures_left`` > 0."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[str] = []
        self.failures_left = failures
        self.failed = asyncio.Event()
        self.delivered = asyncio.Event()

    async def send(self, alert: Alert) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            self.failed.set()
            raise ConnectionError("telegram unreachable")
        self.sent.append(alert.text)
        self.delivered.set()


def _service(memory: MemoryStore, notifier: FlakyNotifier, clock: SimClock,
             pending: list[int] | None = None) -> AlertService:
    on_pending = pending.append if pending is not None else None
    return AlertService(memory.uow, notifier, clock, POLICY, on_pending=on_pending)


async def _pending(memory: MemoryStore) -> list[tuple[str, int, str | None]]:
    async with memory.uow() as uow:
        return [(r.alert.text, r.attempts, r.last_error) for r in await uow.alerts.pending(100)]


def test_backoff_grows_exponentially_and_is_capped() -> None:
    assert [POLICY.delay(n).total_seconds() for n in range(1, 6)] == [2, 4, 8, 16, 30]


async def test_published_alerts_are_delivered_oldest_first_and_marked() -> None:
    memory, notifier, clock = MemoryStore(), FlakyNotifier(), SimClock(T0)
    service = _service(memory, notifier, clock)
    for text in ("one", "two", "three"):
        await service.publish(Alert(kind="entry", text=text))
    result = await service.dispatch_once()
    assert (result.delivered, result.failed, result.remaining) == (3, 0, 0)
    assert notifier.sent == ["one", "two", "three"]
    assert await _pending(memory) == []


async def test_enqueue_in_a_rolled_back_transaction_sends_nothing() -> None:
    memory, notifier, clock = MemoryStore(), FlakyNotifier(), SimClock(T0)
    service = _service(memory, notifier, clock)
    async with memory.uow() as uow:
        await service.enqueue(uow, Alert(kind="entry", text="never committed"))
    async with memory.uow() as uow:
        await service.enqueue(uow, Alert(kind="entry", text="committed"))
        await uow.commit()
    await service.dispatch_once()
    assert notifier.sent == ["committed"]


async def test_failure_blocks_later_alerts_until_backoff_ends_then_keeps_order() -> None:
    memory, notifier, clock = MemoryStore(), FlakyNotifier(failures=2), SimClock(T0)
    pending: list[int] = []
    service = _service(memory, notifier, clock, pending)
    await service.publish(Alert(kind="exit", text="first"))
    await service.publish(Alert(kind="exit", text="second"))

    result = await service.dispatch_once()
    assert (result.delivered, result.failed, result.remaining) == (0, 1, 2)
    assert result.next_due == T0 + timedelta(seconds=2)
    assert await _pending(memory) == [
        ("first", 1, "ConnectionError: telegram unreachable"), ("second", 0, None)
    ]

    clock.advance(timedelta(seconds=1))  # still backing off: no attempt
    assert (await service.dispatch_once()).failed == 0
    assert notifier.failures_left == 1

    clock.advance(timedelta(seconds=1))
    result = await service.dispatch_once()  # second failure, now 4 s backoff
    assert result.next_due == clock.now() + timedelta(seconds=4)

    clock.advance(timedelta(seconds=4))
    result = await service.dispatch_once()
    assert result.delivered == 2
    assert notifier.sent == ["first", "second"]
    assert pending == [2, 2, 2, 0]


async def test_undelivered_alerts_are_sent_after_a_restart() -> None:
    memory, clock = MemoryStore(), SimClock(T0)
    before = _service(memory, FlakyNotifier(failures=10), clock)
    await before.publish(Alert(kind="halt", text="halted", severity=Severity.CRITICAL))
    await before.publish(Alert(kind="summary", text="daily"))
    await before.dispatch_once()  # fails; the process then "dies"

    notifier = FlakyNotifier()
    after = _service(memory, notifier, clock)  # fresh process: no in-memory backoff state
    result = await after.dispatch_once()
    assert result.delivered == 2
    assert notifier.sent == ["halted", "daily"]
    assert await _pending(memory) == []


async def test_alert_failing_max_attempts_is_abandoned_but_stays_undelivered() -> None:
    memory, clock = MemoryStore(), SimClock(T0)
    notifier = FlakyNotifier(failures=POLICY.max_attempts)
    service = _service(memory, notifier, clock)
    await service.publish(Alert(kind="error", text="poison"))
    await service.publish(Alert(kind="entry", text="behind it"))
    for _ in range(POLICY.max_attempts):
        await service.dispatch_once()
        clock.advance(timedelta(minutes=1))
    result = await service.dispatch_once()
    assert result.delivered == 1
    assert notifier.sent == ["behind it"]
    assert await _pending(memory) == [("poison", 4, "ConnectionError: telegram unreachable")]
    restarted = _service(memory, FlakyNotifier(), clock)  # abandoned stays abandoned after restart
    assert (await restarted.dispatch_once()).delivered == 0


async def test_more_abandoned_alerts_than_a_page_do_not_starve_new_ones() -> None:
    memory, clock = MemoryStore(), SimClock(T0)
    async with memory.uow() as uow:
        for i in range(5):
            alert_id = await uow.alerts.enqueue(Alert(kind="error", text=f"dead {i}"), T0)
            for _ in range(POLICY.max_attempts):
                await uow.alerts.mark_failed(alert_id, "gone")
        await uow.alerts.enqueue(Alert(kind="entry", text="fresh"), T0)
        await uow.commit()
    notifier = FlakyNotifier()
    service = AlertService(memory.uow, notifier, clock, POLICY, batch_size=3)
    results = [await service.dispatch_once() for _ in range(3)]
    assert notifier.sent == ["fresh"]
    assert results[0].more is True
    assert results[-1].more is False


async def test_run_delivers_on_wake_and_retries_after_backoff() -> None:
    memory = MemoryStore()
    clock = SimClock(T0)
    notifier = FlakyNotifier(failures=1)
    fast = RetryPolicy(initial_seconds=0.05, max_seconds=0.05)
    service = AlertService(memory.uow, notifier, clock, fast)
    task = asyncio.create_task(service.run(idle_seconds=5))
    try:
        await service.publish(Alert(kind="entry", text="hello"))
        async with asyncio.timeout(2):
            await notifier.failed.wait()  # the first attempt fails
            clock.advance(timedelta(seconds=1))  # the simulated backoff has passed
            await notifier.delivered.wait()
        assert notifier.sent == ["hello"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
