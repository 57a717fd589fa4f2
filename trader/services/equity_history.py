"""The store's equity snapshots, oldest first, read again only from the newest one already held.

Why a cache: the dashboard asks for KPIs and the equity curve every 10 s, and a year of hourly
snapshots (8,760 rows) cost a few hundred milliseconds per request on the event loop the trading engine
shares. Snapshots are only ever appended, so a call reads the snapshots at or after the newest one held
plus a count; when the count disagrees (a snapshot stored with an older time, or one removed) the whole
history is read again, so the answer is always the store's.
"""

from __future__ import annotations

import asyncio
import bisect
from datetime import UTC, datetime

from trader.ports.store import EquitySnapshot, TradingUnitOfWorkFactory

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EquityHistory:
    """Every equity snapshot in the store, oldest first (ties in the store's order)."""

    def __init__(self, uow_factory: TradingUnitOfWorkFactory) -> None:
        self._uow = uow_factory
        self._lock = asyncio.Lock()  # concurrent requests wait for one read instead of each doing it
        self._snapshots: list[EquitySnapshot] = []
        self._times: list[datetime] = []

    async def since(self, since: datetime | None = None) -> tuple[EquitySnapshot, ...]:
        """Return the snapshots at or after ``since`` (all with None), oldest first."""
        async with self._lock, self._uow() as uow:
            total = await uow.equity.count()
            if self._snapshots and total >= len(self._snapshots):
                newest = self._snapshots[-1].ts
                held = len(self._snapshots) - bisect.bisect_left(self._times, newest)
                fresh = await uow.equity.since(newest)
                appended = len(self._snapshots) + len(fresh) - held == total
                if appended and fresh[:held] == self._snapshots[-held:]:
                    self._extend(fresh[held:])
                else:
                    self._reset(await uow.equity.since(EPOCH))
            elif total != len(self._snapshots):
                self._reset(await uow.equity.since(EPOCH))
        start = 0 if since is None else bisect.bisect_left(self._times, since)
        return tuple(self._snapshots[start:])

    def _reset(self, snapshots: list[EquitySnapshot]) -> None:
        self._snapshots, self._times = [], []
        self._extend(snapshots)

    def _extend(self, snapshots: list[EquitySnapshot]) -> None:
        self._snapshots.extend(snapshots)
        self._times.extend(s.ts for s in snapshots)
