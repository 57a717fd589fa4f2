"""In-memory repositories: equity, risk state, secrets, audit, alerts, backtests, rates, holdings, paper."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime

from trader.adapters.store.jsondoc import round_trip
from trader.adapters.store.memory_tables import OverlayTable, normalise, utc
from trader.core.domain.alerts import Alert
from trader.core.errors import StoreError
from trader.core.risk.state import RiskState
from trader.ports.store import (
    AuditEntry,
    AudRate,
    BacktestRun,
    EquitySnapshot,
    JsonValue,
    OpeningParcel,
    OutboxAlert,
    SecretRecord,
)


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

    def __init__(self, table: OverlayTable[int, RiskState]) -> None:
        self._t = table

    async def get(self) -> RiskState | None:
        """Return the stored state or None."""
        return self._t.get(1)

    async def save(self, state: RiskState) -> None:
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

    async def scan(self, prefix: str) -> list[tuple[str, JsonValue]]:
        """Return (key, copy of the document) for every key starting with ``prefix``, sorted by key."""
        return sorted((k, round_trip(v)) for k, v in self._t.items() if k.startswith(prefix))
