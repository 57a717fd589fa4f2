"""SQL repositories for backtest runs, AUD rates, opening holdings and paper exchange state."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trader.adapters.store import mappers
from trader.adapters.store.db import upsert
from trader.adapters.store.jsondoc import to_json
from trader.adapters.store.orm import AudRateRow, BacktestRunRow, OpeningHoldingRow, PaperStateRow
from trader.ports.store import AudRate, BacktestRun, JsonValue, OpeningParcel


class SqlBacktestRunRepository:
    """Backtest runs in ``backtest_runs``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, run: BacktestRun) -> int:
        """Store a run and return its id."""
        row = mappers.backtest_row(run)
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def get(self, run_id: int) -> BacktestRun | None:
        """Return the run or None."""
        row = await self._session.get(BacktestRunRow, run_id)
        return mappers.backtest_from_row(row) if row is not None else None

    async def recent(self, limit: int = 20) -> list[BacktestRun]:
        """Return the newest runs first."""
        stmt = select(BacktestRunRow).order_by(BacktestRunRow.id.desc()).limit(limit)
        return [mappers.backtest_from_row(r) for r in (await self._session.scalars(stmt)).all()]


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


class SqlPaperStateRepository:
    """Paper exchange documents in ``paper_state``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, key: str) -> JsonValue | None:
        """Return the document or None."""
        row = await self._session.get(PaperStateRow, key)
        return row.data if row is not None else None

    async def put(self, key: str, data: JsonValue, now: datetime) -> None:
        """Create or replace the document."""
        await self._session.merge(PaperStateRow(key=key, data=to_json(data), updated_at=now))
        await self._session.flush()

    async def scan(self, prefix: str) -> list[tuple[str, JsonValue]]:
        """Return (key, document) for every key starting with ``prefix``, sorted by key."""
        row = PaperStateRow
        stmt = select(row.key, row.data).where(row.key.startswith(prefix, autoescape=True)).order_by(row.key)
        return [(key, data) for key, data in (await self._session.execute(stmt)).all()]
