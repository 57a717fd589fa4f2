"""SQL repositories (SQLAlchemy 2, async) of the ops context: encrypted secrets, the audit log, the alert
outbox, API tokens and webhook receipts."""


from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trader.adapters.store import mappers
from trader.adapters.store.db import upsert
from trader.adapters.store.orm import (
    AlertRow,
    ApiTokenRow,
    AuditRow,
    SecretRow,
    SignalReceiptRow,
)
from trader.core.domain.alerts import Alert
from trader.core.errors import StoreError
from trader.ports.store import (
    AuditEntry,
    OutboxAlert,
    SecretRecord,
)
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


class SqlSecretRepository:
    """Encrypted secrets in ``secrets``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def put(self, name: str, ciphertext: bytes, now: datetime) -> None:
        """Create or replace a secret, keeping its creation time."""
        row = await self._session.get(SecretRow, name)
        if row is None:
            self._session.add(SecretRow(name=name, ciphertext=ciphertext, created_at=now, updated_at=now))
        else:
            row.ciphertext = ciphertext
            row.updated_at = now
        await self._session.flush()

    async def get(self, name: str) -> SecretRecord | None:
        """Return the secret or None."""
        row = await self._session.get(SecretRow, name)
        return mappers.secret_from_row(row) if row is not None else None

    async def all(self) -> list[SecretRecord]:
        """Return every secret, sorted by name."""
        rows = (await self._session.scalars(select(SecretRow).order_by(SecretRow.name))).all()
        return [mappers.secret_from_row(r) for r in rows]

    async def delete(self, name: str) -> bool:
        """Delete a secret; return False when it did not exist."""
        result = await self._session.execute(delete(SecretRow).where(SecretRow.name == name))
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlAuditRepository:
    """The append-only ``audit_log``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> int:
        """Append an entry and return its id."""
        row = mappers.audit_row(entry)
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """Return the newest entries, newest first."""
        stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        return [mappers.audit_from_row(r) for r in (await self._session.scalars(stmt)).all()]


class SqlAlertOutboxRepository:
    """The ``alert_outbox`` table."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(self, alert: Alert, now: datetime) -> int:
        """Queue an alert and return its id."""
        row = mappers.alert_row(alert, now)
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def pending(self, limit: int = 20) -> list[OutboxAlert]:
        """Return undelivered alerts, oldest first."""
        stmt = select(AlertRow).where(AlertRow.delivered_at.is_(None)).order_by(AlertRow.id).limit(limit)
        return [mappers.alert_from_row(r) for r in (await self._session.scalars(stmt)).all()]

    async def mark_delivered(self, alert_id: int, now: datetime) -> None:
        """Record a successful delivery."""
        row = await self._row(alert_id)
        row.delivered_at = now
        row.attempts += 1
        await self._session.flush()

    async def mark_failed(self, alert_id: int, error: str) -> None:
        """Count a failed attempt and keep the error text."""
        row = await self._row(alert_id)
        row.attempts += 1
        row.last_error = error
        await self._session.flush()

    async def _row(self, alert_id: int) -> AlertRow:
        row = await self._session.get(AlertRow, alert_id)
        if row is None:
            raise StoreError(f"alert {alert_id} is not in the outbox")
        return row


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
