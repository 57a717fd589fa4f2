"""SQL repositories (SQLAlchemy 2, async) of the trading context: orders, fills, positions, equity, risk
state and the engine's state documents."""


from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from trader.adapters.store import mappers
from trader.adapters.store.db import upsert
from trader.adapters.store.orm import (
    CooldownRow,
    EquitySnapshotRow,
    FillRow,
    OrderRow,
    PositionRow,
    RiskStateRow,
)
from trader.core.domain.enums import OrderStatus
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import Fill, check_transition
from trader.core.errors import StoreError
from trader.core.positions.state import Position, PositionStatus
from trader.core.risk.state import RiskState
from trader.ports.store import (
    EquitySnapshot,
    OrderRecord,
)

_RISK_ID = 1  # one account, one risk state row


_TERMINAL_ORDER = [s.value for s in OrderStatus if s.is_terminal]
_TERMINAL_POSITION = [s.value for s in PositionStatus if s.is_terminal]


class SqlOrderRepository:
    """Orders in the ``orders`` table."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: OrderRecord) -> bool:
        """Store a new order; return False (and change nothing) when the client id exists."""
        conn = await self._session.connection()
        stmt = upsert(OrderRow.__table__, conn.dialect.name)  # type: ignore[arg-type]
        stmt = stmt.values(**mappers.order_values(record)).on_conflict_do_nothing(
            index_elements=["client_order_id"]
        )
        result = await self._session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def update(self, record: OrderRecord) -> None:
        """Replace the venue view; StoreError if unknown, InvariantViolation on an illegal status move."""
        row = await self._row(record.client_order_id)
        if row is None:
            raise StoreError(f"order {record.client_order_id} is not stored; add it before updating")
        check_transition(OrderStatus(row.status), record.status)
        values = mappers.order_values(record)
        values.pop("created_at")  # the intent's time never changes
        for name, value in values.items():
            setattr(row, name, value)
        await self._session.flush()

    async def get(self, client_order_id: ClientOrderId) -> OrderRecord | None:
        """Return the order or None."""
        row = await self._row(client_order_id)
        return mappers.order_from_row(row) if row is not None else None

    async def open(self, symbol: Symbol | None = None) -> list[OrderRecord]:
        """Return orders not in a terminal status, oldest first."""
        stmt = select(OrderRow).where(OrderRow.status.not_in(_TERMINAL_ORDER))
        if symbol is not None:
            stmt = stmt.where(OrderRow.symbol == symbol)
        rows = (await self._session.scalars(stmt.order_by(OrderRow.id))).all()
        return [mappers.order_from_row(r) for r in rows]

    async def for_position(self, position_id: PositionId) -> list[OrderRecord]:
        """Return a position's orders, oldest first."""
        stmt = select(OrderRow).where(OrderRow.position_id == position_id).order_by(OrderRow.id)
        return [mappers.order_from_row(r) for r in (await self._session.scalars(stmt)).all()]

    async def _row(self, client_order_id: ClientOrderId) -> OrderRow | None:
        stmt = select(OrderRow).where(OrderRow.client_order_id == client_order_id)
        return (await self._session.scalars(stmt)).one_or_none()


class SqlFillRepository:
    """Fills in the ``fills`` table."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, fill: Fill) -> bool:
        """Store a fill; return False (and change nothing) when (symbol, trade id) exists."""
        conn = await self._session.connection()
        stmt = upsert(FillRow.__table__, conn.dialect.name)  # type: ignore[arg-type]
        stmt = stmt.values(**mappers.fill_values(fill)).on_conflict_do_nothing(
            index_elements=["symbol", "trade_id"]
        )
        result = await self._session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def for_order(self, client_order_id: ClientOrderId) -> list[Fill]:
        """Return an order's fills, oldest first."""
        stmt = select(FillRow).where(FillRow.client_order_id == client_order_id)
        rows = (await self._session.scalars(stmt.order_by(FillRow.ts, FillRow.id))).all()
        return [mappers.fill_from_row(r) for r in rows]

    async def since(self, since: datetime, symbol: Symbol | None = None) -> list[Fill]:
        """Return fills at or after ``since``, oldest first."""
        stmt = select(FillRow).where(FillRow.ts >= since)
        if symbol is not None:
            stmt = stmt.where(FillRow.symbol == symbol)
        rows = (await self._session.scalars(stmt.order_by(FillRow.ts, FillRow.id))).all()
        return [mappers.fill_from_row(r) for r in rows]


# Lists are read as plain tuples, not ORM entities: a year of closed trades or hourly equity snapshots
# (thousands of rows) loads several times faster without the identity map and per-attribute access, and
# nothing here is modified through the loaded rows.
_POSITION_COLUMNS = select(*(PositionRow.__table__.c[name] for name in mappers.POSITION_FIELDS))
_EQUITY_COLUMNS = select(EquitySnapshotRow.ts, EquitySnapshotRow.quote, EquitySnapshotRow.equity,
                         EquitySnapshotRow.free, EquitySnapshotRow.exposure)


class SqlPositionRepository:
    """Positions in the ``positions`` table."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, position: Position) -> None:
        """Insert or replace the position."""
        await self._session.merge(PositionRow(**mappers.position_values(position)))
        await self._session.flush()

    async def get(self, position_id: PositionId) -> Position | None:
        """Return the position or None."""
        row = await self._session.get(PositionRow, position_id)
        return mappers.position_from_row(row) if row is not None else None

    async def unfinished(self) -> list[Position]:
        """Return every non-terminal position, oldest first."""
        stmt = _POSITION_COLUMNS.where(PositionRow.status.not_in(_TERMINAL_POSITION))
        stmt = stmt.order_by(PositionRow.created_at.asc().nulls_first(), PositionRow.id)
        return await self._positions(stmt)

    async def finished(
        self, limit: int = 50, offset: int = 0, symbol: Symbol | None = None
    ) -> list[Position]:
        """Return terminal positions, newest close first (paged)."""
        stmt = _POSITION_COLUMNS.where(PositionRow.status.in_(_TERMINAL_POSITION))
        if symbol is not None:
            stmt = stmt.where(PositionRow.symbol == symbol)
        stmt = stmt.order_by(
            PositionRow.closed_at.desc().nulls_last(), PositionRow.id.desc()
        ).limit(limit).offset(offset)
        return await self._positions(stmt)

    async def count_finished(self, symbol: Symbol | None = None) -> int:
        """Return how many terminal positions exist."""
        stmt = select(func.count()).select_from(PositionRow).where(
            PositionRow.status.in_(_TERMINAL_POSITION)
        )
        if symbol is not None:
            stmt = stmt.where(PositionRow.symbol == symbol)
        return int((await self._session.execute(stmt)).scalar_one())

    async def closed_between(self, start: datetime, end: datetime | None = None) -> list[Position]:
        """Return terminal positions closed in [start, end), oldest first."""
        stmt = _POSITION_COLUMNS.where(PositionRow.status.in_(_TERMINAL_POSITION),
                                       PositionRow.closed_at >= start)
        if end is not None:
            stmt = stmt.where(PositionRow.closed_at < end)
        stmt = stmt.order_by(PositionRow.closed_at, PositionRow.id)
        return await self._positions(stmt)

    async def _positions(self, stmt: Select[Any]) -> list[Position]:
        return [mappers.position_from_columns(r) for r in (await self._session.execute(stmt)).all()]


class SqlEquityRepository:
    """Equity snapshots in ``equity_snapshots``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, snapshot: EquitySnapshot) -> None:
        """Store a snapshot."""
        self._session.add(mappers.equity_row(snapshot))
        await self._session.flush()

    async def since(self, since: datetime) -> list[EquitySnapshot]:
        """Return snapshots at or after ``since``, oldest first."""
        stmt = _EQUITY_COLUMNS.where(EquitySnapshotRow.ts >= since)
        rows = (await self._session.execute(stmt.order_by(EquitySnapshotRow.ts, EquitySnapshotRow.id))).all()
        return [EquitySnapshot(*r) for r in rows]

    async def latest(self) -> EquitySnapshot | None:
        """Return the newest snapshot."""
        stmt = select(EquitySnapshotRow).order_by(EquitySnapshotRow.ts.desc(), EquitySnapshotRow.id.desc())
        row = (await self._session.scalars(stmt.limit(1))).first()
        return mappers.equity_from_row(row) if row is not None else None

    async def count(self) -> int:
        """Return how many snapshots are stored."""
        stmt = select(func.count()).select_from(EquitySnapshotRow)
        return int((await self._session.execute(stmt)).scalar_one())


class SqlRiskStateRepository:
    """The single risk state row plus its per-pair cooldowns."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self) -> RiskState | None:
        """Return the stored state, or None before the first save."""
        row = await self._session.get(RiskStateRow, _RISK_ID)
        if row is None:
            return None
        cooldowns = (await self._session.scalars(select(CooldownRow))).all()
        return mappers.risk_from_row(row, {c.symbol: c.until for c in cooldowns})

    async def save(self, state: RiskState) -> None:
        """Replace the stored state and its cooldowns."""
        await self._session.merge(RiskStateRow(id=_RISK_ID, **mappers.risk_values(state)))
        await self._session.flush()
        await self._session.execute(delete(CooldownRow))
        self._session.add_all(
            CooldownRow(symbol=symbol, risk_state_id=_RISK_ID, until=until)
            for symbol, until in state.cooldowns.items()
        )
        await self._session.flush()
