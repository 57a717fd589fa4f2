"""SQL repositories for the web front end: ``api_tokens`` and ``signal_receipts``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trader.adapters.store.db import upsert
from trader.adapters.store.orm import ApiTokenRow, SignalReceiptRow
from trader.core.errors import StoreError
from trader.ports.web_records import ApiTokenRecord, SignalReceipt


def _token(row: ApiTokenRow) -> ApiTokenRecord:
    return ApiTokenRecord(row.name, row.role, row.token_hash, row.created_at, row.revoked_at, row.id)


def _receipt(row: SignalReceiptRow) -> SignalReceipt:
    return SignalReceipt(row.source, row.key, row.received_at, row.pair, row.side, row.outcome, row.reason,
                         tuple(row.position_ids or ()))


def _receipt_values(receipt: SignalReceipt) -> dict[str, object]:
    return {"source": receipt.source, "key": receipt.key, "received_at": receipt.received_at,
            "pair": receipt.pair, "side": receipt.side, "outcome": receipt.outcome,
            "reason": receipt.reason, "position_ids": list(receipt.position_ids)}


class SqlApiTokenRepository:
    """API tokens in ``api_tokens``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: ApiTokenRecord) -> int:
        """Store a new token and return its id; StoreError when the name is taken."""
        if await self.by_name(token.name) is not None:
            raise StoreError(f"an API token called {token.name!r} exists")
        row = ApiTokenRow(name=token.name, role=token.role, token_hash=token.token_hash,
                          created_at=token.created_at, revoked_at=token.revoked_at)
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        """Return the token with this hash or None."""
        row = await self._session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash))
        return _token(row) if row is not None else None

    async def by_name(self, name: str) -> ApiTokenRecord | None:
        """Return the token called ``name`` or None."""
        row = await self._session.scalar(select(ApiTokenRow).where(ApiTokenRow.name == name))
        return _token(row) if row is not None else None

    async def all(self) -> list[ApiTokenRecord]:
        """Return every token, oldest first."""
        rows = (await self._session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))).all()
        return [_token(r) for r in rows]

    async def revoke(self, name: str, now: datetime) -> bool:
        """Mark the active token ``name`` revoked; False when there is none."""
        stmt = (update(ApiTokenRow).where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=now))
        result = await self._session.execute(stmt)
        self._session.expire_all()
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlSignalReceiptRepository:
    """Webhook signals in ``signal_receipts``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, receipt: SignalReceipt) -> bool:
        """Store a receipt; False (nothing stored) when (source, key) exists."""
        conn = await self._session.connection()
        stmt = upsert(SignalReceiptRow.__table__, conn.dialect.name)  # type: ignore[arg-type]
        stmt = stmt.values(**_receipt_values(receipt)).on_conflict_do_nothing(
            index_elements=["source", "key"])
        result = await self._session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, source: str, key: str) -> SignalReceipt | None:
        """Return the receipt of (source, key) or None."""
        row = await self._session.get(SignalReceiptRow, (source, key))
        return _receipt(row) if row is not None else None

    async def update(self, receipt: SignalReceipt) -> None:
        """Replace the stored receipt of (source, key); StoreError when it was never added."""
        values = _receipt_values(receipt)
        stmt = (update(SignalReceiptRow)
                .where(SignalReceiptRow.source == receipt.source, SignalReceiptRow.key == receipt.key)
                .values(**values))
        result = await self._session.execute(stmt)
        self._session.expire_all()
        if not result.rowcount:  # type: ignore[attr-defined]
            raise StoreError(f"signal {receipt.source}/{receipt.key} is not stored")
