"""The operations context: encrypted secrets, the audit log, the alert outbox, API tokens and webhook
receipts, the venue account and the venue breakers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from trader.core.domain.alerts import Alert
from trader.core.risk.breaker import Breaker
from trader.ports.store.transaction import Transaction
from trader.ports.web_records import ApiTokenRepository, SignalReceiptRepository


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """An encrypted secret; the plaintext never reaches the store."""

    name: str
    ciphertext: bytes
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action; ``id`` is assigned by the store."""

    ts: datetime
    actor: str
    action: str
    detail: str = ""
    result: str = "ok"
    id: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxAlert:
    """A queued alert with its delivery bookkeeping."""

    id: int
    alert: Alert
    created_at: datetime
    delivered_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None


class SecretRepository(Protocol):
    """Encrypted secrets by name."""

    async def put(self, name: str, ciphertext: bytes, now: datetime) -> None:
        """Create or replace a secret (``created_at`` is kept on replace)."""
        ...

    async def get(self, name: str) -> SecretRecord | None:
        """Return the secret or None."""
        ...

    async def all(self) -> list[SecretRecord]:
        """Return every secret, sorted by name (for key rotation)."""
        ...

    async def delete(self, name: str) -> bool:
        """Delete a secret; return False when it did not exist."""
        ...


class AuditRepository(Protocol):
    """Append-only audit log."""

    async def add(self, entry: AuditEntry) -> int:
        """Append an entry and return its id."""
        ...

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """Return the newest entries, newest first."""
        ...


class AlertOutboxRepository(Protocol):
    """Alert outbox: enqueue inside the same transaction as the state change it announces."""

    async def enqueue(self, alert: Alert, now: datetime) -> int:
        """Queue an alert and return its id."""
        ...

    async def pending(self, limit: int = 20) -> list[OutboxAlert]:
        """Return undelivered alerts, oldest first."""
        ...

    async def mark_delivered(self, alert_id: int, now: datetime) -> None:
        """Record a successful delivery."""
        ...

    async def mark_failed(self, alert_id: int, error: str) -> None:
        """Count a failed attempt and keep the error text."""
        ...


class SettingsRepository(Protocol):
    """The parameters changed through /settings (dotted key -> value text), kept across restarts."""

    async def overrides(self) -> dict[str, str]:
        """Return the stored overrides (empty before the first change)."""
        ...

    async def save_overrides(self, overrides: Mapping[str, str], now: datetime) -> None:
        """Replace the stored overrides."""
        ...


@dataclass(frozen=True, slots=True)
class VenueAccount:
    """Which venue and which kind of account (``demo`` or ``real``) a live database holds."""

    exchange: str
    kind: str


class VenueAccountRepository(Protocol):
    """The venue account a live database was first started with."""

    async def get(self) -> VenueAccount | None:
        """Return the account this database holds, or None before the first live start."""
        ...

    async def save(self, account: VenueAccount, now: datetime) -> None:
        """Record the account."""
        ...


@dataclass(frozen=True, slots=True)
class BreakerMemory:
    """A venue's circuit breaker as stored, so a restart during an outage neither announces a fresh
    "venue down" nor forgets the outage: the breaker, the outages counted so far (they key the alerts)
    and the protection retries of the current one."""

    breaker: Breaker
    outages: int = 0
    retries: int = 0


class BreakerRepository(Protocol):
    """Each venue's circuit breaker, by venue name."""

    async def get(self, venue: str) -> BreakerMemory | None:
        """Return the stored breaker of ``venue``, or None before its first save."""
        ...

    async def save(self, venue: str, memory: BreakerMemory, now: datetime) -> None:
        """Create or replace the breaker of ``venue``."""
        ...


class OpsUnitOfWork(Transaction, Protocol):
    """What operating the service reads and writes: secrets, audit, alerts, web access."""

    # Read-only members, so implementations may hold more specific repository types.
    @property
    def secrets(self) -> SecretRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def alerts(self) -> AlertOutboxRepository: ...
    @property
    def api_tokens(self) -> ApiTokenRepository: ...
    @property
    def signals(self) -> SignalReceiptRepository: ...
    @property
    def settings(self) -> SettingsRepository: ...
    @property
    def venue_account(self) -> VenueAccountRepository: ...
    @property
    def breakers(self) -> BreakerRepository: ...
