"""SQL repositories for equity snapshots, risk state, secrets, audit log and the alert outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from trader.adapters.store import mappers
from trader.adapters.store.orm import (
    AlertRow,
    AuditRow,
    CooldownRow,
    EquitySnapshotRow,
    RiskStateRow,
    SecretRow,
)
from trader.core.domain.alerts import Alert
from trader.core.errors import StoreError
from trader.core.risk.state import RiskState
from trader.ports.store import AuditEntry, EquitySnapshot, OutboxAlert, SecretRecord

_RISK_ID = 1  # one account, one risk state row


class SqlEquityRepository:
    """Equity snapshots in ``equity_snapshots``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, snapshot: EquitySnapshot) -> None:
        """Store a snapshot."""
        self._session.add(mappers.equity_row(snapshot))
        await self._session.flush()

    async def since(self, since: datetime) -> list[EquitySnapshot]:
        """Return snapshots at or after ``since``, oldest first."""
        stmt = select(EquitySnapshotRow).where(EquitySnapshotRow.ts >= since)
        rows = (await self._session.scalars(stmt.order_by(EquitySnapshotRow.ts, EquitySnapshotRow.id))).all()
        return [mappers.equity_from_row(r) for r in rows]

    async def latest(self) -> EquitySnapshot | None:
        """Return the newest snapshot."""
        stmt = select(EquitySnapshotRow).order_by(EquitySnapshotRow.ts.desc(), EquitySnapshotRow.id.desc())
        row = (await self._session.scalars(stmt.limit(1))).first()
        return mappers.equity_from_row(row) if row is not None else None


class SqlRiskStateRepository:
    """The single risk state row plus its per-pair cooldowns."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self) -> RiskState | None:
        """Return the stored state, or None before the first save."""
        row = await self._session.get(RiskStateRow, _RISK_ID)
        if row is None:
            return None
        cooldowns = (await self._session.scalars(select(CooldownRow))).all()
        return mappers.risk_from_row(row, {c.symbol: c.until for c in cooldowns})

    async def save(self, state: RiskState) -> None:
        """Replace the stored state and its cooldowns."""
        await self._session.merge(RiskStateRow(id=_RISK_ID, **mappers.risk_values(state)))
        await self._session.flush()
        await self._session.execute(delete(CooldownRow))
        self._session.add_all(
            CooldownRow(symbol=symbol, risk_state_id=_RISK_ID, until=until)
            for symbol, until in state.cooldowns.items()
        )
        await self._session.flush()


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
