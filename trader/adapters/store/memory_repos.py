"""In-memory repositories for candles, orders, fills and positions (contract-tested against SQL)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from trader.adapters.store.memory_tables import OverlayTable, normalise
from trader.core.domain.candles import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, CandleFrame
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import Fill, check_transition
from trader.core.errors import StoreError
from trader.core.positions.state import Position
from trader.ports.store import (
    CandleSeries,
    OrderRecord,
)

SeriesKey = tuple[str, str, str]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MemoryCandleRepository:
    """Candles as one CandleFrame per series."""

    def __init__(self, table: OverlayTable[SeriesKey, CandleFrame]) -> None:
        self._t = table

    async def upsert(self, exchange: str, symbol: Symbol, timeframe: str, frame: CandleFrame) -> int:
        """Merge ``frame`` into the series; new values win on equal open times."""
        if len(frame) == 0:
            return 0
        old = self._t.get((exchange, symbol, timeframe))
        rows = _rows(frame) if old is None else np.vstack([_rows(old), _rows(frame)])
        order = np.argsort(rows[:, 0], kind="stable")  # stable: the newer row is last among equals
        rows = rows[order]
        keep = np.r_[rows[1:, 0] != rows[:-1, 0], True]
        self._t.put((exchange, symbol, timeframe), CandleFrame.from_arrays(rows[keep]))
        return len(frame)

    async def load(
        self, exchange: str, symbol: Symbol, timeframe: str,
        start_ms: int | None = None, end_ms: int | None = None,
    ) -> CandleFrame:
        """Return candles with ``start_ms <= open time < end_ms``, oldest first."""
        frame = self._t.get((exchange, symbol, timeframe))
        if frame is None:
            return CandleFrame.from_arrays(np.empty((0, 6)))
        lo = 0 if start_ms is None else int(np.searchsorted(frame.timestamp, start_ms, side="left"))
        hi = len(frame) if end_ms is None else int(np.searchsorted(frame.timestamp, end_ms, side="left"))
        return CandleFrame.from_arrays(_rows(frame)[lo:hi])

    async def delete(self, exchange: str, symbol: Symbol, timeframe: str, timestamps: Sequence[int]) -> int:
        """Delete the candles with these open times; return how many were stored."""
        frame = self._t.get((exchange, symbol, timeframe))
        if frame is None:
            return 0
        drop = np.isin(frame.timestamp, np.asarray(timestamps, dtype=np.int64))
        self._t.put((exchange, symbol, timeframe), CandleFrame.from_arrays(_rows(frame)[~drop]))
        return int(drop.sum())

    async def first_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the oldest stored open time, or None."""
        sane = self._sane_times(exchange, symbol, timeframe)
        return int(sane[0]) if len(sane) else None

    async def last_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the newest stored open time, or None."""
        sane = self._sane_times(exchange, symbol, timeframe)
        return int(sane[-1]) if len(sane) else None

    def _sane_times(self, exchange: str, symbol: Symbol, timeframe: str) -> np.ndarray:  # type: ignore[type-arg]
        """Open times within the sane range (like the SQL repository's edges)."""
        frame = self._t.get((exchange, symbol, timeframe))
        if frame is None:
            return np.empty(0, dtype=np.int64)
        ts = frame.timestamp
        return ts[(ts >= MIN_TIMESTAMP_MS) & (ts < MAX_TIMESTAMP_MS)]

    async def series(self) -> list[CandleSeries]:
        """Return every stored series, sorted."""
        return [
            CandleSeries(exchange=k[0], symbol=Symbol(k[1]), timeframe=k[2], first_ms=int(f.timestamp[0]),
                         last_ms=int(f.timestamp[-1]), count=len(f))
            for k, f in sorted(self._t.items()) if len(f)
        ]


def _rows(frame: CandleFrame) -> np.ndarray:  # type: ignore[type-arg]
    return np.column_stack([frame.timestamp.astype(np.float64), frame.open, frame.high, frame.low,
                            frame.close, frame.volume])


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
