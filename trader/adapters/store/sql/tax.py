"""SQL repositories (SQLAlchemy 2, async) of the tax context: daily AUD rates and opening holdings."""


from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trader.adapters.store import mappers
from trader.adapters.store.db import upsert
from trader.adapters.store.orm import (
    AudRateRow,
    OpeningHoldingRow,
)
from trader.ports.store import (
    AudRate,
    OpeningParcel,
)


class SqlAudRateRepository:
    """Daily AUD rates in ``aud_rates``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, rates: Iterable[AudRate]) -> int:
        """Insert or replace rates; return how many were written."""
        rows = [{"day": r.day, "currency": r.currency, "rate": r.rate, "source": r.source} for r in rates]
        if not rows:
            return 0
        conn = await self._session.connection()
        stmt = upsert(AudRateRow.__table__, conn.dialect.name)  # type: ignore[arg-type]
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "currency"],
            set_={"rate": stmt.excluded.rate, "source": stmt.excluded.source},
        )
        await self._session.execute(stmt, rows)
        self._session.expire_all()  # rows loaded earlier in this session are now stale
        return len(rows)

    async def get(self, currency: str, day: date) -> AudRate | None:
        """Return the rate for exactly ``day`` or None."""
        row = await self._session.get(AudRateRow, (day, currency))
        return mappers.aud_rate_from_row(row) if row is not None else None

    async def on_or_before(self, currency: str, day: date) -> AudRate | None:
        """Return the latest rate on or before ``day``, or None."""
        stmt = (
            select(AudRateRow).where(AudRateRow.currency == currency, AudRateRow.day <= day)
            .order_by(AudRateRow.day.desc()).limit(1)
        )
        row = (await self._session.scalars(stmt)).first()
        return mappers.aud_rate_from_row(row) if row is not None else None


class SqlOpeningHoldingRepository:
    """Parcels acquired before the bot's records, in ``opening_holdings``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, parcels: Iterable[OpeningParcel]) -> int:
        """Insert or replace parcels by (asset, acquired_at); return how many were written."""
        latest = {p.key: p for p in parcels}  # one row per key: PostgreSQL refuses a key twice per statement
        rows = [mappers.opening_holding_row(p) for p in latest.values()]
        if not rows:
            return 0
        conn = await self._session.connection()
        stmt = upsert(OpeningHoldingRow.__table__, conn.dialect.name)  # type: ignore[arg-type]
        stmt = stmt.on_conflict_do_update(
            index_elements=["asset", "acquired_at"],
            set_={c: stmt.excluded[c] for c in ("quantity", "cost_aud", "note", "source")},
        )
        await self._session.execute(stmt, rows)
        self._session.expire_all()  # rows loaded earlier in this session are now stale
        return len(rows)

    async def all(self) -> list[OpeningParcel]:
        """Return every parcel, oldest acquisition first (then by asset)."""
        stmt = select(OpeningHoldingRow).order_by(OpeningHoldingRow.acquired_at, OpeningHoldingRow.asset)
        return [mappers.opening_holding_from_row(r) for r in (await self._session.scalars(stmt)).all()]
