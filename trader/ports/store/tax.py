"""The tax context: daily AUD rates and the opening holdings the ATO export starts from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol

from trader.core.analytics.tax.holdings import OpeningParcel as OpeningParcel  # noqa: PLC0414 - re-exported
from trader.core.analytics.tax.rates import AudRate as AudRate  # noqa: PLC0414 - re-exported: the stored rate
from trader.ports.store.transaction import Transaction


class AudRateRepository(Protocol):
    """Daily AUD rates."""

    async def upsert(self, rates: Iterable[AudRate]) -> int:
        """Insert or replace rates; return how many were written."""
        ...

    async def get(self, currency: str, day: date) -> AudRate | None:
        """Return the rate for exactly ``day`` or None."""
        ...

    async def on_or_before(self, currency: str, day: date) -> AudRate | None:
        """Return the latest rate on or before ``day`` (weekends use Friday's), or None."""
        ...


class OpeningHoldingRepository(Protocol):
    """Parcels acquired before the bot's records (ATO export), keyed by (asset, acquired_at)."""

    async def upsert(self, parcels: Iterable[OpeningParcel]) -> int:
        """Insert or replace parcels by (asset, acquired_at), last of a key wins; return the keys written."""
        ...

    async def all(self) -> list[OpeningParcel]:
        """Return every parcel, oldest acquisition first (then by asset)."""
        ...


class TaxUnitOfWork(Transaction, Protocol):
    """What the tax export reads and writes: AUD rates and opening holdings."""

    # Read-only members, so implementations may hold more specific repository types.
    @property
    def aud_rates(self) -> AudRateRepository: ...
    @property
    def opening_holdings(self) -> OpeningHoldingRepository: ...
