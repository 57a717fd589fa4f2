"""Store port for the web front end: hashed API tokens and received webhook signals.

Kept apart from ``ports.store`` (which re-exports them on the unit of work) because they belong to the
access context, not to trading. Only hashes of tokens reach the store; the plaintext is shown once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    """A bearer token for the web API: its name, role and SHA-256 hash; ``id`` assigned by the store."""

    name: str
    role: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        """Return True until the token is revoked."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class SignalReceipt:
    """A webhook signal as received: unique per (source, idempotency key), with its outcome."""

    source: str
    key: str
    received_at: datetime
    pair: str
    side: str
    outcome: str  # "accepted" or "refused"
    reason: str = ""
    position_ids: tuple[str, ...] = ()


class ApiTokenRepository(Protocol):
    """API tokens by name (unique) and by hash."""

    async def add(self, token: ApiTokenRecord) -> int:
        """Store a new token and return its id; StoreError when the name is taken."""
        ...

    async def by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        """Return the token with this hash (revoked ones too) or None."""
        ...

    async def by_name(self, name: str) -> ApiTokenRecord | None:
        """Return the token called ``name`` or None."""
        ...

    async def all(self) -> list[ApiTokenRecord]:
        """Return every token, oldest first."""
        ...

    async def revoke(self, name: str, now: datetime) -> bool:
        """Mark the token revoked; False when there is no active token of that name."""
        ...


class SignalReceiptRepository(Protocol):
    """Received webhook signals, unique by (source, key)."""

    async def add(self, receipt: SignalReceipt) -> bool:
        """Store a receipt; False (and nothing stored) when (source, key) was seen before."""
        ...

    async def get(self, source: str, key: str) -> SignalReceipt | None:
        """Return the receipt of (source, key) or None."""
        ...

    async def update(self, receipt: SignalReceipt) -> None:
        """Replace the stored receipt of (source, key) (its outcome is known)."""
        ...
