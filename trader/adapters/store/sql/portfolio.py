"""SQL repository for basket holdings, the price cache and daily basket snapshots."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from trader.adapters.store.db import upsert
from trader.adapters.store.orm import BasketSnapshotRow, HoldingRow, PriceQuoteRow
from trader.ports.portfolio import BasketSnapshot, Holding, HoldingKind, PriceQuote


def _holding(row: HoldingRow) -> Holding:
    return Holding(row.basket, row.asset, row.quantity, row.cost, row.quote, HoldingKind(row.kind),
                   row.acquired_at, row.reference)


class SqlPortfolioRepository:
    """``portfolio_holdings``, ``price_quotes`` and ``basket_snapshots``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_holdings(self, items: Iterable[Holding]) -> int:
        """Store holdings not stored yet (by basket, asset and reference); return how many were new."""
        fresh = {(h.basket, h.asset, h.reference): h for h in items}
        if not fresh:
            return 0
        baskets = {b for b, _, _ in fresh}
        stored = {(r.basket, r.asset, r.reference) for r in (await self._session.scalars(
            select(HoldingRow).where(HoldingRow.basket.in_(baskets)))).all()}
        added = [h for key, h in fresh.items() if key not in stored]
        self._session.add_all(
            HoldingRow(basket=h.basket, asset=h.asset, quantity=h.quantity, cost=h.cost, quote=h.quote,
                       kind=h.kind.value, acquired_at=h.acquired_at, reference=h.reference) for h in added)
        await self._session.flush()
        return len(added)

    async def holdings(self, basket: str | None = None) -> list[Holding]:
        """Return the holdings of ``basket`` (all when None), by basket, asset and time."""
        stmt = select(HoldingRow).order_by(HoldingRow.basket, HoldingRow.asset, HoldingRow.acquired_at,
                                           HoldingRow.id)
        if basket is not None:
            stmt = stmt.where(HoldingRow.basket == basket)
        return [_holding(r) for r in (await self._session.scalars(stmt)).all()]

    async def remove_basket(self, basket: str) -> int:
        """Forget every holding of ``basket``; return how many were removed."""
        found = len(await self.holdings(basket))
        await self._session.execute(delete(HoldingRow).where(HoldingRow.basket == basket))
        return found

    async def put_prices(self, quotes: Iterable[PriceQuote]) -> int:
        """Insert or replace the cached price of each (asset, quote)."""
        rows = [{"asset": q.asset, "quote": q.quote, "price": q.price, "source": q.source, "at": q.at}
                for q in {(q.asset, q.quote): q for q in quotes}.values()]
        if not rows:
            return 0
        conn = await self._session.connection()
        stmt = upsert(PriceQuoteRow.__table__, conn.dialect.name)  # type: ignore[arg-type]
        stmt = stmt.on_conflict_do_update(
            index_elements=["asset", "quote"],
            set_={"price": stmt.excluded.price, "source": stmt.excluded.source, "at": stmt.excluded.at})
        await self._session.execute(stmt, rows)
        self._session.expire_all()  # rows loaded earlier in this session are now stale
        return len(rows)

    async def prices(self, quote: str, assets: Iterable[str]) -> dict[str, PriceQuote]:
        """Return the cached prices in ``quote`` of those ``assets`` that have one."""
        wanted = sorted(set(assets))
        if not wanted:
            return {}
        stmt = select(PriceQuoteRow).where(PriceQuoteRow.quote == quote, PriceQuoteRow.asset.in_(wanted))
        return {r.asset: PriceQuote(r.asset, r.quote, r.price, r.source, r.at)
                for r in (await self._session.scalars(stmt)).all()}

    async def put_snapshot(self, snapshot: BasketSnapshot) -> None:
        """Insert or replace the snapshot of (basket, day)."""
        conn = await self._session.connection()
        stmt = upsert(BasketSnapshotRow.__table__, conn.dialect.name)  # type: ignore[arg-type]
        stmt = stmt.on_conflict_do_update(
            index_elements=["basket", "day"],
            set_={"value": stmt.excluded.value, "cost": stmt.excluded.cost, "quote": stmt.excluded.quote,
                  "stale": stmt.excluded.stale})
        await self._session.execute(stmt, [{"basket": snapshot.basket, "day": snapshot.day,
                                            "value": snapshot.value, "cost": snapshot.cost,
                                            "quote": snapshot.quote, "stale": snapshot.stale}])
        self._session.expire_all()

    async def snapshots(self, basket: str, since: date | None = None) -> list[BasketSnapshot]:
        """Return the basket's snapshots from ``since`` on (all when None), oldest first."""
        stmt = select(BasketSnapshotRow).where(BasketSnapshotRow.basket == basket).order_by(
            BasketSnapshotRow.day)
        if since is not None:
            stmt = stmt.where(BasketSnapshotRow.day >= since)
        return [BasketSnapshot(r.basket, r.day, r.value, r.cost, r.quote, r.stale)
                for r in (await self._session.scalars(stmt)).all()]
