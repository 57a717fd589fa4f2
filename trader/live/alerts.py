"""Alert outbox: queue alerts in the store with the state change they announce, then deliver them.

Delivery is in order and at least once: the dispatcher sends the oldest undelivered alert first, stops
at the first failure and retries it with exponential backoff, so a later alert never overtakes an
earlier one. Attempts and the last error are persisted; alerts still undelivered at a restart are sent
after it. An alert that failed ``max_attempts`` times is left undelivered in the store (visible, never
marked delivered) and skipped so it cannot block everything behind it. A crash between sending and
recording the delivery re-sends that one alert after restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from trader.core.domain.alerts import Alert
from trader.ports.clock import Clock
from trader.ports.notify import Notifier
from trader.ports.store import OpsUnitOfWork, OpsUnitOfWorkFactory, OutboxAlert

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff between delivery attempts, in seconds: initial * factor**(attempts-1), capped."""

    initial_seconds: float = 2.0
    factor: float = 2.0
    max_seconds: float = 300.0
    max_attempts: int = 30

    def delay(self, attempts: int) -> timedelta:
        """Return the wait after the ``attempts``-th failure (attempts >= 1)."""
        seconds = self.initial_seconds * self.factor ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.max_seconds))


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """What one dispatch pass did; ``next_due`` is when a backed-off alert may be tried again.

    ``remaining`` counts undelivered alerts seen in this pass (at most one page), abandoned ones excluded.
    """

    delivered: int = 0
    failed: int = 0
    remaining: int = 0
    next_due: datetime | None = None
    more: bool = False  # the page was full: more alerts may wait beyond it


class AlertService:
    """Enqueue alerts in the outbox and deliver them through the Notifier port."""

    def __init__(self, uow_factory: OpsUnitOfWorkFactory, notifier: Notifier, clock: Clock,
                 policy: RetryPolicy | None = None, on_pending: Callable[[int], None] | None = None,
                 batch_size: int = 50, redact: Callable[[str], str] | None = None) -> None:
        self._uow_factory = uow_factory
        self._notifier = notifier
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._on_pending = on_pending
        self._batch = batch_size
        self._redact = redact or (lambda text: text)
        self._retry_at: dict[int, datetime] = {}
        self._abandoned: set[int] = set()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    async def enqueue(self, uow: OpsUnitOfWork, alert: Alert) -> int:
        """Queue ``alert`` inside the caller's transaction; after ``uow.commit()`` call ``wake()``."""
        return await uow.alerts.enqueue(self._clean(alert), self._clock.now())

    async def publish(self, alert: Alert) -> int:
        """Queue ``alert`` in its own transaction, commit, and wake the dispatcher."""
        async with self._uow_factory() as uow:
            alert_id = await uow.alerts.enqueue(self._clean(alert), self._clock.now())
            await uow.commit()
        self.wake()
        return alert_id

    async def publish_urgent(self, alert: Alert) -> None:
        """Queue ``alert`` and deliver it now; when the store itself fails, send it straight to the channels.

        For fatal errors: the outbox may be the broken part (a full disk), and the user must still hear
        of it. Raises only when no channel could take it either.
        """
        try:
            await self.publish(alert)
        except Exception as exc:  # the store is the failing part: bypass the outbox
            logger.warning("the alert outbox is not writable (%s); sending the %s alert directly",
                           self._redact(f"{type(exc).__name__}: {exc}"), alert.kind)
            await self._notifier.send(self._clean(alert))
            return
        await self.dispatch_once()

    def _clean(self, alert: Alert) -> Alert:
        # Known secrets never reach the outbox table: an error text may quote one.
        text = self._redact(alert.text)
        return alert if text == alert.text else replace(alert, text=text)

    def wake(self) -> None:
        """Tell the dispatcher that new alerts were committed."""
        self._wake.set()

    def retry_now(self) -> None:
        """Forget every backoff and wake the dispatcher (a channel that was down came back)."""
        self._retry_at.clear()
        self._wake.set()

    async def dispatch_once(self) -> DispatchResult:
        """Deliver due alerts oldest first; stop at the first failure so order is kept."""
        async with self._lock:
            return await self._dispatch()

    async def _dispatch(self) -> DispatchResult:
        limit = self._batch + len(self._abandoned)
        async with self._uow_factory() as uow:
            rows = await uow.alerts.pending(limit=limit)
        more = len(rows) == limit
        delivered = 0
        for index, row in enumerate(rows):
            if self._is_abandoned(row):
                continue
            due = self._retry_at.get(row.id)
            if due is not None and due > self._clock.now():
                return self._result(delivered, 0, rows[index:], more, due)
            error = await self._deliver(row)
            if error is not None:
                due = await self._record_failure(row, error)
                return self._result(delivered, 1, rows[index:], more, due)
            delivered += 1
        return self._result(delivered, 0, [], more, None)

    async def _deliver(self, row: OutboxAlert) -> str | None:
        try:
            await self._notifier.send(row.alert)
        except Exception as exc:  # any channel failure is retried; the dispatcher must keep running
            # The error text is stored in the outbox; a vendor message may quote a URL with a token.
            return self._redact(f"{type(exc).__name__}: {exc}")[:500]
        async with self._uow_factory() as uow:
            await uow.alerts.mark_delivered(row.id, self._clock.now())
            await uow.commit()
        self._retry_at.pop(row.id, None)
        return None

    async def _record_failure(self, row: OutboxAlert, error: str) -> datetime:
        attempts = row.attempts + 1
        async with self._uow_factory() as uow:
            await uow.alerts.mark_failed(row.id, error)
            await uow.commit()
        due = self._clock.now() + self._policy.delay(attempts)
        self._retry_at[row.id] = due
        logger.warning("alert %d (%s) not delivered, attempt %d: %s", row.id, row.alert.kind, attempts, error)
        if attempts >= self._policy.max_attempts:
            logger.error("alert %d (%s) abandoned after %d attempts; it stays undelivered in the outbox",
                         row.id, row.alert.kind, attempts)
        return due

    def _is_abandoned(self, row: OutboxAlert) -> bool:
        if row.attempts < self._policy.max_attempts:
            return False
        self._abandoned.add(row.id)
        self._retry_at.pop(row.id, None)
        return True

    def _result(self, delivered: int, failed: int, left: list[OutboxAlert], more: bool,
                next_due: datetime | None) -> DispatchResult:
        remaining = sum(1 for r in left if r.id not in self._abandoned)
        if self._on_pending is not None:
            self._on_pending(remaining)
        return DispatchResult(delivered, failed, remaining, next_due, more)

    async def run(self, idle_seconds: float = 30.0) -> None:
        """Dispatch until cancelled: on wake(), when a backoff ends, and every ``idle_seconds``."""
        while True:
            self._wake.clear()
            try:
                result = await self.dispatch_once()
            except Exception:  # the store may be briefly unreachable; keep the dispatcher alive
                logger.exception("alert dispatch failed; retrying in %.0fs", idle_seconds)
                result = DispatchResult()
            wait = idle_seconds
            if result.next_due is not None:
                wait = min(wait, max((result.next_due - self._clock.now()).total_seconds(), 0.0))
            if result.more and result.next_due is None:
                wait = 0.0
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass
