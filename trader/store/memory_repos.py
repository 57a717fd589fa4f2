"""In-memory repositories over OverlayTables; same behaviour as the SQL ones (contract-tested)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np

from trader.domain.alerts import Alert
from trader.domain.candles import CandleFrame
from trader.domain.ids import ClientOrderId, PositionId, Symbol
from trader.domain.orders import Fill, check_transition
from trader.errors import StoreError
from trader.ports.store import (
    AuditEntry,
    AudRate,
    BacktestRun,
    CandleSeries,
    EquitySnapshot,
    JsonValue,
    OrderRecord,
    OutboxAlert,
    RiskStateRecord,
    SecretRecord,
)
from trader.positions.state import Position
from trader.store.jsondoc import round_trip
from trader.store.memory_tables import OverlayTable, normalise, utc

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

    async def first_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the oldest stored open time, or None."""
        frame = self._t.get((exchange, symbol, timeframe))
        return int(frame.timestamp[0]) if frame is not None and len(frame) else None

    async def last_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the newest stored open time, or None."""
        frame = self._t.get((exchange, symbol, timeframe))
        return int(frame.timestamp[-1]) if frame is not None and len(frame) else None

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


class MemoryRiskStateRepository:
    """The single risk state."""

    def __init__(self, table: OverlayTable[int, RiskStateRecord]) -> None:
        self._t = table

    async def get(self) -> RiskStateRecord | None:
        """Return the stored state or None."""
        return self._t.get(1)

    async def save(self, state: RiskStateRecord) -> None:
        """Replace the stored state."""
        self._t.put(1, normalise(replace(state, cooldowns={k: utc(v) for k, v in state.cooldowns.items()})))


class MemorySecretRepository:
    """Encrypted secrets by name."""

    def __init__(self, table: OverlayTable[str, SecretRecord]) -> None:
        self._t = table

    async def put(self, name: str, ciphertext: bytes, now: datetime) -> None:
        """Create or replace a secret, keeping its creation time."""
        old = self._t.get(name)
        created = old.created_at if old is not None else utc(now)
        self._t.put(name, SecretRecord(name, bytes(ciphertext), created, utc(now)))

    async def get(self, name: str) -> SecretRecord | None:
        """Return the secret or None."""
        return self._t.get(name)

    async def all(self) -> list[SecretRecord]:
        """Return every secret, sorted by name."""
        return sorted(self._t.values(), key=lambda s: s.name)

    async def delete(self, name: str) -> bool:
        """Delete a secret; False when absent."""
        return self._t.delete(name)


class MemoryAuditRepository:
    """Append-only audit entries."""

    def __init__(self, table: OverlayTable[int, AuditEntry], ids: itertools.count[int]) -> None:
        self._t = table
        self._ids = ids

    async def add(self, entry: AuditEntry) -> int:
        """Append an entry and return its id."""
        entry_id = next(self._ids)
        self._t.put(entry_id, normalise(replace(entry, id=entry_id)))
        return entry_id

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """Return the newest entries, newest first."""
        return [e for _, e in sorted(self._t.items(), reverse=True)[:limit]]


class MemoryAlertOutboxRepository:
    """The alert outbox."""

    def __init__(self, table: OverlayTable[int, OutboxAlert], ids: itertools.count[int]) -> None:
        self._t = table
        self._ids = ids

    async def enqueue(self, alert: Alert, now: datetime) -> int:
        """Queue an alert and return its id."""
        alert_id = next(self._ids)
        self._t.put(alert_id, OutboxAlert(id=alert_id, alert=alert, created_at=utc(now)))
        return alert_id

    async def pending(self, limit: int = 20) -> list[OutboxAlert]:
        """Return undelivered alerts, oldest first."""
        return [a for _, a in sorted(self._t.items()) if a.delivered_at is None][:limit]

    async def mark_delivered(self, alert_id: int, now: datetime) -> None:
        """Record a successful delivery."""
        row = self._row(alert_id)
        self._t.put(alert_id, replace(row, delivered_at=utc(now), attempts=row.attempts + 1))

    async def mark_failed(self, alert_id: int, error: str) -> None:
        """Count a failed attempt and keep the error text."""
        row = self._row(alert_id)
        self._t.put(alert_id, replace(row, attempts=row.attempts + 1, last_error=error))

    def _row(self, alert_id: int) -> OutboxAlert:
        row = self._t.get(alert_id)
        if row is None:
            raise StoreError(f"alert {alert_id} is not in the outbox")
        return row


class MemoryBacktestRunRepository:
    """Backtest runs by id (JSON fields round-tripped like a JSON column)."""

    def __init__(self, table: OverlayTable[int, BacktestRun], ids: itertools.count[int]) -> None:
        self._t = table
        self._ids = ids

    async def add(self, run: BacktestRun) -> int:
        """Store a run and return its id."""
        run_id = next(self._ids)
        stored = replace(run, id=run_id, params=round_trip(run.params), pairs=tuple(round_trip(run.pairs)),
                         kpis=round_trip(run.kpis), trades=round_trip(run.trades))
        self._t.put(run_id, normalise(stored))
        return run_id

    async def get(self, run_id: int) -> BacktestRun | None:
        """Return the run or None."""
        return self._t.get(run_id)

    async def recent(self, limit: int = 20) -> list[BacktestRun]:
        """Return the newest runs first."""
        return [r for _, r in sorted(self._t.items(), reverse=True)[:limit]]


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


class MemoryPaperStateRepository:
    """Paper exchange JSON documents."""

    def __init__(self, table: OverlayTable[str, JsonValue]) -> None:
        self._t = table

    async def get(self, key: str) -> JsonValue | None:
        """Return a copy of the document or None."""
        data = self._t.get(key)
        return round_trip(data) if data is not None else None

    async def put(self, key: str, data: JsonValue, now: datetime) -> None:
        """Create or replace the document."""
        utc(now)
        self._t.put(key, round_trip(data))
