"""In-memory repositories (backtests, unit tests) of the ops context: encrypted secrets, the audit log, the
alert outbox, API tokens and webhook receipts."""


from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime

from trader.adapters.store.memory.tables import OverlayTable, normalise, utc
from trader.core.domain.alerts import Alert
from trader.core.errors import StoreError
from trader.ports.store import (
    AuditEntry,
    OutboxAlert,
    SecretRecord,
)
from trader.ports.web_records import ApiTokenRecord, SignalReceipt


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


class MemoryApiTokenRepository:
    """API tokens by id."""

    def __init__(self, table: OverlayTable[int, ApiTokenRecord], ids: itertools.count[int]) -> None:
        self._t = table
        self._ids = ids

    async def add(self, token: ApiTokenRecord) -> int:
        """Store a new token and return its id; StoreError when the name is taken."""
        if await self.by_name(token.name) is not None:
            raise StoreError(f"an API token called {token.name!r} exists")
        token_id = next(self._ids)
        self._t.put(token_id, replace(token, id=token_id, created_at=utc(token.created_at)))
        return token_id

    async def by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        """Return the token with this hash or None."""
        return next((t for t in self._t.values() if t.token_hash == token_hash), None)

    async def by_name(self, name: str) -> ApiTokenRecord | None:
        """Return the token called ``name`` or None."""
        return next((t for t in self._t.values() if t.name == name), None)

    async def all(self) -> list[ApiTokenRecord]:
        """Return every token, oldest first."""
        return [t for _, t in sorted(self._t.items())]

    async def revoke(self, name: str, now: datetime) -> bool:
        """Mark the active token ``name`` revoked; False when there is none."""
        token = await self.by_name(name)
        if token is None or token.id is None or not token.active:
            return False
        self._t.put(token.id, replace(token, revoked_at=utc(now)))
        return True


class MemorySignalReceiptRepository:
    """Webhook signal receipts by (source, key)."""

    def __init__(self, table: OverlayTable[tuple[str, str], SignalReceipt]) -> None:
        self._t = table

    async def add(self, receipt: SignalReceipt) -> bool:
        """Store a receipt; False when (source, key) exists."""
        if self._t.get((receipt.source, receipt.key)) is not None:
            return False
        self._t.put((receipt.source, receipt.key), replace(receipt, received_at=utc(receipt.received_at)))
        return True

    async def get(self, source: str, key: str) -> SignalReceipt | None:
        """Return the receipt of (source, key) or None."""
        return self._t.get((source, key))

    async def update(self, receipt: SignalReceipt) -> None:
        """Replace the stored receipt; StoreError when it was never added."""
        if self._t.get((receipt.source, receipt.key)) is None:
            raise StoreError(f"signal {receipt.source}/{receipt.key} is not stored")
        self._t.put((receipt.source, receipt.key), replace(receipt, received_at=utc(receipt.received_at)))
