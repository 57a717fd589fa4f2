"""In-memory repositories for API tokens and webhook signal receipts (same contract as the SQL ones)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime

from trader.adapters.store.memory_tables import OverlayTable, utc
from trader.core.errors import StoreError
from trader.ports.web_records import ApiTokenRecord, SignalReceipt


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
