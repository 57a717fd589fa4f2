"""Row <-> domain dataclass conversion, explicit and typed; no ORM object leaves ``trader.adapters.store``."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from trader.adapters.store.jsondoc import to_json
from trader.adapters.store.orm import (
    AlertRow,
    AuditRow,
    AudRateRow,
    BacktestRunRow,
    EquitySnapshotRow,
    FillRow,
    OpeningHoldingRow,
    OrderRow,
    PositionRow,
    RiskStateRow,
    SecretRow,
)
from trader.core.domain.alerts import Alert, Severity
from trader.core.domain.enums import (
    Direction,
    ExitReason,
    OrderPurpose,
    OrderStatus,
    OrderType,
    ProtectionKind,
    Side,
    TradingState,
)
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import Fill
from trader.core.positions.state import Position, PositionStatus, Working
from trader.core.risk.state import RiskState
from trader.ports.store import (
    AuditEntry,
    AudRate,
    BacktestRun,
    EquitySnapshot,
    OpeningParcel,
    OrderRecord,
    OutboxAlert,
    SecretRecord,
)

# Position fields stored as enum values; every other field is stored as is (the column names match).
_POSITION_ENUMS: dict[str, type[Any]] = {
    "direction": Direction, "status": PositionStatus, "protection": ProtectionKind,
    "exit_reason": ExitReason, "working": Working,
}
POSITION_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Position))


def position_values(position: Position) -> dict[str, Any]:
    """Return the column values of a position."""
    values = {name: getattr(position, name) for name in POSITION_FIELDS}
    for name in _POSITION_ENUMS:
        if values[name] is not None:
            values[name] = values[name].value
    return values


def position_from_row(row: PositionRow) -> Position:
    """Return the Position stored in ``row``."""
    return position_from_columns([getattr(row, name) for name in POSITION_FIELDS])


def position_from_columns(columns: Sequence[Any]) -> Position:
    """Return the Position whose column values are ``columns``, in ``POSITION_FIELDS`` order."""
    values = dict(zip(POSITION_FIELDS, columns, strict=True))
    for name, enum in _POSITION_ENUMS.items():
        if values[name] is not None:
            values[name] = enum(values[name])
    values["id"] = PositionId(values["id"])
    values["symbol"] = Symbol(values["symbol"])
    return Position(**values)


def order_values(record: OrderRecord) -> dict[str, Any]:
    """Return the column values of an order."""
    return {
        "client_order_id": record.client_order_id, "exchange_order_id": record.exchange_order_id,
        "position_id": record.position_id, "symbol": record.symbol, "side": record.side.value,
        "type": record.type.value, "purpose": record.purpose.value, "amount": record.amount,
        "price": record.price, "trigger_price": record.trigger_price, "filled": record.filled,
        "average_price": record.average_price, "fee": record.fee, "fee_currency": record.fee_currency,
        "status": record.status.value, "reduce_only": record.reduce_only,
        "created_at": record.created_at, "updated_at": record.updated_at,
    }


def order_from_row(row: OrderRow) -> OrderRecord:
    """Return the OrderRecord stored in ``row``."""
    return OrderRecord(
        client_order_id=ClientOrderId(row.client_order_id), position_id=PositionId(row.position_id),
        symbol=Symbol(row.symbol), side=Side(row.side), type=OrderType(row.type),
        purpose=OrderPurpose(row.purpose), amount=row.amount, status=OrderStatus(row.status),
        created_at=row.created_at, updated_at=row.updated_at, price=row.price,
        trigger_price=row.trigger_price, filled=row.filled, average_price=row.average_price,
        fee=row.fee, fee_currency=row.fee_currency, exchange_order_id=row.exchange_order_id,
        reduce_only=row.reduce_only,
    )


def fill_values(fill: Fill) -> dict[str, Any]:
    """Return the column values of a fill."""
    return {
        "trade_id": fill.trade_id, "client_order_id": fill.client_order_id, "symbol": fill.symbol,
        "side": fill.side.value, "amount": fill.amount, "price": fill.price, "fee": fill.fee,
        "fee_currency": fill.fee_currency, "ts": fill.timestamp,
    }


def fill_from_row(row: FillRow) -> Fill:
    """Return the Fill stored in ``row``."""
    return Fill(
        trade_id=row.trade_id, client_order_id=ClientOrderId(row.client_order_id),
        symbol=Symbol(row.symbol), side=Side(row.side), amount=row.amount, price=row.price,
        fee=row.fee, fee_currency=row.fee_currency, timestamp=row.ts,
    )


def equity_row(snapshot: EquitySnapshot) -> EquitySnapshotRow:
    """Return a new row for a snapshot."""
    return EquitySnapshotRow(ts=snapshot.ts, quote=snapshot.quote, equity=snapshot.equity,
                             free=snapshot.free, exposure=snapshot.exposure)


def equity_from_row(row: EquitySnapshotRow) -> EquitySnapshot:
    """Return the EquitySnapshot stored in ``row``."""
    return EquitySnapshot(ts=row.ts, quote=row.quote, equity=row.equity, free=row.free,
                          exposure=row.exposure)


RISK_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RiskState) if f.name != "cooldowns")


def risk_values(state: RiskState) -> dict[str, Any]:
    """Return the risk_state column values (cooldowns are stored in their own table)."""
    values = {name: getattr(state, name) for name in RISK_FIELDS}
    values["trading_state"] = state.trading_state.value
    return values


def risk_from_row(row: RiskStateRow, cooldowns: dict[str, datetime]) -> RiskState:
    """Return the RiskState stored in ``row`` plus its cooldowns."""
    values = {name: getattr(row, name) for name in RISK_FIELDS}
    values["trading_state"] = TradingState(row.trading_state)
    return RiskState(**values, cooldowns=cooldowns)


def secret_from_row(row: SecretRow) -> SecretRecord:
    """Return the SecretRecord stored in ``row``."""
    return SecretRecord(name=row.name, ciphertext=bytes(row.ciphertext), created_at=row.created_at,
                        updated_at=row.updated_at)


def audit_row(entry: AuditEntry) -> AuditRow:
    """Return a new row for an audit entry (the id is assigned by the database)."""
    return AuditRow(ts=entry.ts, actor=entry.actor, action=entry.action, detail=entry.detail,
                    result=entry.result)


def audit_from_row(row: AuditRow) -> AuditEntry:
    """Return the AuditEntry stored in ``row``."""
    return AuditEntry(ts=row.ts, actor=row.actor, action=row.action, detail=row.detail,
                      result=row.result, id=row.id)


def alert_row(alert: Alert, now: datetime) -> AlertRow:
    """Return a new, undelivered outbox row."""
    return AlertRow(kind=alert.kind, severity=alert.severity.value, text=alert.text, image=alert.image,
                    dedupe_key=alert.dedupe_key, created_at=now, delivered_at=None, attempts=0,
                    last_error=None)


def alert_from_row(row: AlertRow) -> OutboxAlert:
    """Return the OutboxAlert stored in ``row``."""
    alert = Alert(kind=row.kind, text=row.text, severity=Severity(row.severity),
                  image=bytes(row.image) if row.image is not None else None, dedupe_key=row.dedupe_key)
    return OutboxAlert(id=row.id, alert=alert, created_at=row.created_at, delivered_at=row.delivered_at,
                       attempts=row.attempts, last_error=row.last_error)


def backtest_row(run: BacktestRun) -> BacktestRunRow:
    """Return a new row for a backtest run."""
    return BacktestRunRow(
        created_at=run.created_at, strategy=run.strategy, params=to_json(run.params),
        pairs=to_json(run.pairs), timeframe=run.timeframe, period_start=run.period_start,
        period_end=run.period_end, kpis=to_json(run.kpis), trades=to_json(run.trades),
    )


def backtest_from_row(row: BacktestRunRow) -> BacktestRun:
    """Return the BacktestRun stored in ``row`` (JSON values as stored)."""
    return BacktestRun(
        created_at=row.created_at, strategy=row.strategy, params=row.params, pairs=tuple(row.pairs),
        timeframe=row.timeframe, period_start=row.period_start, period_end=row.period_end,
        kpis=row.kpis, trades=list(row.trades), id=row.id,
    )


def aud_rate_from_row(row: AudRateRow) -> AudRate:
    """Return the AudRate stored in ``row``."""
    return AudRate(day=row.day, currency=row.currency, rate=row.rate, source=row.source)


def opening_holding_row(parcel: OpeningParcel) -> dict[str, Any]:
    """Return the column values of an opening parcel (for a bulk upsert)."""
    return {"asset": parcel.asset, "acquired_at": parcel.acquired_at, "quantity": parcel.quantity,
            "cost_aud": parcel.cost_aud, "note": parcel.note, "source": parcel.source}


def opening_holding_from_row(row: OpeningHoldingRow) -> OpeningParcel:
    """Return the OpeningParcel stored in ``row``."""
    return OpeningParcel(asset=row.asset, quantity=row.quantity, acquired_at=row.acquired_at,
                         cost_aud=row.cost_aud, note=row.note, source=row.source)
