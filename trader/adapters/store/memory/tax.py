"""In-memory repositories (backtests, unit tests) of the tax context: daily AUD rates and opening holdings."""


from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from trader.adapters.store.memory.tables import OverlayTable, normalise
from trader.ports.store import (
    AudRate,
    OpeningParcel,
)


class MemoryAudRateRepository:
    """AUD rates by (day, currency)."""

    def __init__(self, table: OverlayTable[tuple[date, str], AudRate]) -> None:
        self._t = table

    async def upsert(self, rates: Iterable[AudRate]) -> int:
        """Insert or replace rates; return how many were written."""
        count = 0
        for rate in rates:
            self._t.put((rate.day, rate.currency), normalise(rate))
            count += 1
        return count

    async def get(self, currency: str, day: date) -> AudRate | None:
        """Return the rate for exactly ``day`` or None."""
        return self._t.get((day, currency))

    async def on_or_before(self, currency: str, day: date) -> AudRate | None:
        """Return the latest rate on or before ``day``, or None."""
        found = [r for r in self._t.values() if r.currency == currency and r.day <= day]
        return max(found, key=lambda r: r.day) if found else None


class MemoryOpeningHoldingRepository:
    """Opening parcels by (asset, acquired_at in UTC)."""

    def __init__(self, table: OverlayTable[tuple[str, datetime], OpeningParcel]) -> None:
        self._t = table

    async def upsert(self, parcels: Iterable[OpeningParcel]) -> int:
        """Insert or replace parcels by (asset, acquired_at); return how many were written."""
        latest = {p.key: p for p in parcels}  # the last parcel of a key wins, as in the SQL store
        for key, parcel in latest.items():
            self._t.put(key, normalise(parcel))
        return len(latest)

    async def all(self) -> list[OpeningParcel]:
        """Return every parcel, oldest acquisition first (then by asset)."""
        return sorted(self._t.values(), key=lambda p: (p.acquired_at, p.asset))
