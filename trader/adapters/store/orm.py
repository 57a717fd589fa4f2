"""SQLAlchemy 2 declarative rows for every table; they never leave ``trader.adapters.store``
(mappers convert them).

Candle prices are float64 (they feed numpy indicator maths, design principle 6) with the open time as
epoch milliseconds, so a series loads straight into a CandleFrame. Every money column is ``Money``.
Enums are stored as their string values (no database enum types, so adding a value needs no migration).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from trader.adapters.store.columns import Money, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Double = Float(precision=53)


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (so migrations can name them)."""

    metadata = MetaData(naming_convention=NAMING)


class CandleRow(Base):
    """One OHLCV candle; the key is (exchange, symbol, timeframe, open time in UTC ms)."""

    __tablename__ = "candles"

    exchange: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    close: Mapped[float] = mapped_column(Double)
    volume: Mapped[float] = mapped_column(Double)


class PositionRow(Base):
    """One position (see ``trader.core.positions.state.Position``)."""

    __tablename__ = "positions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    strategy: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    filled: Mapped[Decimal] = mapped_column(Money)
    entry_price: Mapped[Decimal | None] = mapped_column(Money)
    exit_filled: Mapped[Decimal] = mapped_column(Money)
    exit_price: Mapped[Decimal | None] = mapped_column(Money)
    stop_price: Mapped[Decimal | None] = mapped_column(Money)
    take_profit: Mapped[Decimal | None] = mapped_column(Money)
    high_water: Mapped[Decimal | None] = mapped_column(Money)
    protection: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Double)
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    exit_reason: Mapped[str | None] = mapped_column(String(32))
    fees: Mapped[Decimal] = mapped_column(Money)
    realised_pnl: Mapped[Decimal] = mapped_column(Money)
    entry_attempt: Mapped[int] = mapped_column(Integer)
    stop_attempt: Mapped[int] = mapped_column(Integer)
    tp_attempt: Mapped[int] = mapped_column(Integer)
    exit_attempt: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entry_executed: Mapped[Decimal] = mapped_column(Money)
    entry_limit: Mapped[Decimal | None] = mapped_column(Money)
    requested_price: Mapped[Decimal | None] = mapped_column(Money)
    initial_stop: Mapped[Decimal | None] = mapped_column(Money)
    working: Mapped[str] = mapped_column(String(16))
    working_amount: Mapped[Decimal] = mapped_column(Money)
    tp_local: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    leverage: Mapped[Decimal] = mapped_column(Money, server_default="1")
    funding: Mapped[Decimal] = mapped_column(Money, server_default="0")


class OrderRow(Base):
    """One order, stored as an intent before it is sent; the client order id is unique."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    exchange_order_id: Mapped[str | None] = mapped_column(String(64))
    position_id: Mapped[str] = mapped_column(String(64), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal | None] = mapped_column(Money)
    trigger_price: Mapped[Decimal | None] = mapped_column(Money)
    filled: Mapped[Decimal] = mapped_column(Money)
    average_price: Mapped[Decimal | None] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money)
    fee_currency: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), index=True)
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FillRow(Base):
    """One execution. Venue trade ids are sequences per market, so (symbol, trade id) is unique."""

    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("symbol", "trade_id", name="uq_fills_symbol_trade_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trade_id: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str] = mapped_column(String(64), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money)
    fee_currency: Mapped[str] = mapped_column(String(16))
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class EquitySnapshotRow(Base):
    """Account equity at one moment (for the equity curve, drawdown and daily summaries)."""

    __tablename__ = "equity_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    quote: Mapped[str] = mapped_column(String(16))
    equity: Mapped[Decimal] = mapped_column(Money)
    free: Mapped[Decimal] = mapped_column(Money)
    exposure: Mapped[Decimal] = mapped_column(Money)


class RiskStateRow(Base):
    """The account's risk state (``trader.core.risk.state.RiskState``): one row, id 1; HALTED survives
    restarts."""

    __tablename__ = "risk_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trading_state: Mapped[str] = mapped_column(String(16))
    halt_reason: Mapped[str] = mapped_column(Text)
    flatten_requested: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    day: Mapped[date | None] = mapped_column(Date)
    day_start_equity: Mapped[Decimal | None] = mapped_column(Money)
    trades_today: Mapped[int] = mapped_column(Integer)
    realised_today: Mapped[Decimal] = mapped_column(Money)
    daily_loss_day: Mapped[date | None] = mapped_column(Date)
    peak_equity: Mapped[Decimal | None] = mapped_column(Money)
    last_equity: Mapped[Decimal | None] = mapped_column(Money)
    consecutive_stops: Mapped[int] = mapped_column(Integer)


class CooldownRow(Base):
    """A per-pair cooldown: no new entry on ``symbol`` before ``until``."""

    __tablename__ = "risk_cooldowns"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    risk_state_id: Mapped[int] = mapped_column(ForeignKey("risk_state.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UtcDateTime)


class SecretRow(Base):
    """An encrypted secret (Fernet token); the key never touches the database."""

    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """Who did what and how it ended (commands, refusals, config changes)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(64))


class AlertRow(Base):
    """Alert outbox: queued after commit, delivered (maybe after restarts) by the dispatcher."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_pending", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class BacktestRunRow(Base):
    """A finished backtest: inputs, KPIs and trades (JSON, Decimals as strings)."""

    __tablename__ = "backtest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    strategy: Mapped[str] = mapped_column(String(64))
    params: Mapped[Any] = mapped_column(JSON)
    pairs: Mapped[Any] = mapped_column(JSON)
    timeframe: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    kpis: Mapped[Any] = mapped_column(JSON)
    trades: Mapped[Any] = mapped_column(JSON)


class AudRateRow(Base):
    """Daily AUD value of one unit of ``currency`` (for ATO reports)."""

    __tablename__ = "aud_rates"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(16), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(64))


class OpeningHoldingRow(Base):
    """A parcel acquired before the bot's records: quantity and AUD cost base incl. fees (ATO export)."""

    __tablename__ = "opening_holdings"

    asset: Mapped[str] = mapped_column(String(16), primary_key=True)
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(Money)
    cost_aud: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(128))


class PaperStateRow(Base):
    """Paper exchange state (balances, resting orders) as JSON under a key."""

    __tablename__ = "paper_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiTokenRow(Base):
    """A web API bearer token: name, role and the SHA-256 of the token (never the token itself)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SignalReceiptRow(Base):
    """A webhook signal as received, unique per (source, idempotency key), with its outcome."""

    __tablename__ = "signal_receipts"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    pair: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    position_ids: Mapped[Any] = mapped_column(JSON)


metadata = Base.metadata


class NewsItemRow(Base):
    """A stored headline; ``assets`` is ",BTC,ETH," so one LIKE finds the items mentioning a ticker."""

    __tablename__ = "news_items"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    assets: Mapped[str] = mapped_column(String(512))


class HoldingRow(Base):
    """A basket holding: a real fill or a virtual purchase; (basket, asset, reference) is unique."""

    __tablename__ = "portfolio_holdings"
    __table_args__ = (UniqueConstraint("basket", "asset", "reference", name="uq_portfolio_holdings_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    basket: Mapped[str] = mapped_column(String(40), index=True)
    asset: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)
    quote: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reference: Mapped[str] = mapped_column(String(64))


class PriceQuoteRow(Base):
    """The cached last price of one asset in one quote currency, with its source and time."""

    __tablename__ = "price_quotes"

    asset: Mapped[str] = mapped_column(String(16), primary_key=True)
    quote: Mapped[str] = mapped_column(String(16), primary_key=True)
    price: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class BasketSnapshotRow(Base):
    """A basket's value and cost at the end of one UTC day."""

    __tablename__ = "basket_snapshots"

    basket: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)
    quote: Mapped[str] = mapped_column(String(16))
    stale: Mapped[int] = mapped_column(Integer)
