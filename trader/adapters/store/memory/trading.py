"""In-memory repositories (backtests, unit tests) of the trading context: orders, fills, positions, equity,
risk state and the engine's state documents."""


from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime

from trader.adapters.store.memory.tables import OverlayTable, normalise, utc
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import Fill, check_transition
from trader.core.errors import StoreError
from trader.core.positions.state import Position
from trader.core.risk.state import RiskState
from trader.ports.store import (
    EquitySnapshot,
    OrderRecord,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MemoryOrderRepository:
    """Orders by client id, with an insertion sequence for ordering."""

    def __init__(self, table: OverlayTable[str, tuple[int, OrderRecord]], ids: itertools.count[int]) -> None:
        self._t = table
        self._ids = ids

    async def add(self, record: OrderRecord) -> bool:
        """Store a new order; False when the client id exists."""
        if record.client_order_id in self._t:
            return False
        self._t.put(record.client_order_id, (next(self._ids), normalise(record)))
        return True

    async def update(self, record: OrderRecord) -> None:
        """Replace the venue view, checking the status transition."""
        stored = self._t.get(record.client_order_id)
        if stored is None:
            raise StoreError(f"order {record.client_order_id} is not stored; add it before updating")
        check_transition(stored[1].status, record.status)
        self._t.put(record.client_order_id,
                    (stored[0], normalise(replace(record, created_at=stored[1].created_at))))

    async def get(self, client_order_id: ClientOrderId) -> OrderRecord | None:
        """Return the order or None."""
        stored = self._t.get(client_order_id)
        return stored[1] if stored is not None else None

    async def open(self, symbol: Symbol | None = None) -> list[OrderRecord]:
        """Return non-terminal orders, oldest first."""
        return [r for r in self._sorted() if not r.status.is_terminal and symbol in (None, r.symbol)]

    async def for_position(self, position_id: PositionId) -> list[OrderRecord]:
        """Return a position's orders, oldest first."""
        return [r for r in self._sorted() if r.position_id == position_id]

    def _sorted(self) -> list[OrderRecord]:
        return [r for _, r in sorted(self._t.values(), key=lambda pair: pair[0])]


class MemoryFillRepository:
    """Fills keyed by (symbol, trade id)."""

    def __init__(
        self, table: OverlayTable[tuple[str, str], tuple[int, Fill]], ids: itertools.count[int]
    ) -> None:
        self._t = table
        self._ids = ids

    async def add(self, fill: Fill) -> bool:
        """Store a fill; False when (symbol, trade id) exists."""
        if (fill.symbol, fill.trade_id) in self._t:
            return False
        self._t.put((fill.symbol, fill.trade_id), (next(self._ids), normalise(fill)))
        return True

    async def for_order(self, client_order_id: ClientOrderId) -> list[Fill]:
        """Return an order's fills, oldest first."""
        return [f for f in self._sorted() if f.client_order_id == client_order_id]

    async def since(self, since: datetime, symbol: Symbol | None = None) -> list[Fill]:
        """Return fills at or after ``since``, oldest first."""
        return [f for f in self._sorted() if f.timestamp >= since and symbol in (None, f.symbol)]

    def _sorted(self) -> list[Fill]:
        return [f for _, f in sorted(self._t.values(), key=lambda p: (p[1].timestamp, p[0]))]


class MemoryPositionRepository:
    """Positions by id."""

    def __init__(self, table: OverlayTable[str, Position]) -> None:
        self._t = table

    async def save(self, position: Position) -> None:
        """Insert or replace the position."""
        self._t.put(position.id, normalise(position))

    async def get(self, position_id: PositionId) -> Position | None:
        """Return the position or None."""
        return self._t.get(position_id)

    async def unfinished(self) -> list[Position]:
        """Return every non-terminal position, oldest first (unknown creation time first)."""
        live = [p for p in self._t.values() if not p.status.is_terminal]
        return sorted(live, key=lambda p: (p.created_at is not None, p.created_at or _EPOCH, p.id))

    async def finished(
        self, limit: int = 50, offset: int = 0, symbol: Symbol | None = None
    ) -> list[Position]:
        """Return terminal positions, newest close first (unknown close time last)."""
        done = self._finished(symbol)
        with_time = sorted((p for p in done if p.closed_at), key=lambda p: (p.closed_at, p.id), reverse=True)
        without = sorted((p for p in done if not p.closed_at), key=lambda p: p.id, reverse=True)
        return (with_time + without)[offset : offset + limit]

    async def count_finished(self, symbol: Symbol | None = None) -> int:
        """Return how many terminal positions exist."""
        return len(self._finished(symbol))

    async def closed_between(self, start: datetime, end: datetime | None = None) -> list[Position]:
        """Return terminal positions closed in [start, end), oldest first."""
        found = [p for p in self._finished(None)
                 if p.closed_at is not None and p.closed_at >= start and (end is None or p.closed_at < end)]
        return sorted(found, key=lambda p: (p.closed_at, p.id))

    def _finished(self, symbol: Symbol | None) -> list[Position]:
        return [p for p in self._t.values() if p.status.is_terminal and symbol in (None, p.symbol)]


class MemoryEquityRepository:
    """Equity snapshots by sequence."""

    def __init__(self, table: OverlayTable[int, EquitySnapshot], ids: itertools.count[int]) -> None:
        self._t = table
        self._ids = ids

    async def add(self, snapshot: EquitySnapshot) -> None:
        """Store a snapshot."""
        self._t.put(next(self._ids), normalise(snapshot))

    async def since(self, since: datetime) -> list[EquitySnapshot]:
        """Return snapshots at or after ``since``, oldest first."""
        return [s for _, s in sorted(self._t.items(), key=lambda kv: (kv[1].ts, kv[0])) if s.ts >= since]

    async def latest(self) -> EquitySnapshot | None:
        """Return the newest snapshot."""
        items = sorted(self._t.items(), key=lambda kv: (kv[1].ts, kv[0]))
        return items[-1][1] if items else None

    async def count(self) -> int:
        """Return how many snapshots are stored."""
        return len(self._t.values())


class MemoryRiskStateRepository:
    """The single risk state."""

    def __init__(self, table: OverlayTable[int, RiskState]) -> None:
        self._t = table

    async def get(self) -> RiskState | None:
        """Return the stored state or None."""
        return self._t.get(1)

    async def save(self, state: RiskState) -> None:
        """Replace the stored state."""
        self._t.put(1, normalise(replace(state, cooldowns={k: utc(v) for k, v in state.cooldowns.items()})))
