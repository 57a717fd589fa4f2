"""Store port: the unit of work and its small typed repositories (SQL and in-memory implement it).

Services open ``async with uow_factory() as uow:``, use the repositories, then ``await uow.commit()``;
leaving the block without commit rolls everything back. Only domain dataclasses cross this port.
Do not open a unit of work while another one of the same store has an open transaction in the same
task (commit it first, or pass it down): that raises StoreError, because on SQLite it would deadlock.
All datetimes are aware UTC; candle times are epoch milliseconds (``CandleFrame.timestamp``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self

from trader.core.analytics.tax.holdings import OpeningParcel as OpeningParcel  # noqa: PLC0414 - re-exported
from trader.core.analytics.tax.rates import AudRate as AudRate  # noqa: PLC0414 - re-exported: the stored rate
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.alerts import Alert
from trader.core.domain.candles import CandleFrame
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill, Order, OrderRequest
from trader.core.positions.state import Position
from trader.core.risk.state import RiskState
from trader.ports.news import NewsRepository
from trader.ports.web_records import ApiTokenRepository, SignalReceiptRepository

JsonValue = Any  # JSON-ready data: dict/list/str/int/float/bool/None; Decimal and datetime become str


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """A stored order: the intent plus the venue's latest view of it."""

    client_order_id: ClientOrderId
    position_id: PositionId
    symbol: Symbol
    side: Side
    type: OrderType
    purpose: OrderPurpose
    amount: Decimal
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    filled: Decimal = ZERO
    average_price: Decimal | None = None
    fee: Decimal = ZERO
    fee_currency: str | None = None
    exchange_order_id: str | None = None
    reduce_only: bool = False

    @classmethod
    def from_request(cls, request: OrderRequest, now: datetime) -> OrderRecord:
        """Return the PENDING record stored before ``request`` is sent."""
        return cls(
            client_order_id=request.client_order_id, position_id=request.position_id,
            symbol=request.symbol, side=request.side, type=request.type, purpose=request.purpose,
            amount=request.amount, status=OrderStatus.PENDING, created_at=now, updated_at=now,
            price=request.price, trigger_price=request.trigger_price, reduce_only=request.reduce_only,
        )

    def to_order(self) -> Order:
        """Return the venue-view Order."""
        return Order(
            client_order_id=self.client_order_id, symbol=self.symbol, side=self.side, type=self.type,
            amount=self.amount, status=self.status, filled=self.filled, average_price=self.average_price,
            price=self.price, trigger_price=self.trigger_price, exchange_order_id=self.exchange_order_id,
            fee=self.fee, fee_currency=self.fee_currency, updated_at=self.updated_at,
        )


@dataclass(frozen=True, slots=True)
class EquitySnapshot:
    """Account equity at ``ts`` in the quote currency."""

    ts: datetime
    quote: str
    equity: Decimal
    free: Decimal
    exposure: Decimal = ZERO

    @classmethod
    def from_account(cls, account: AccountSnapshot, ts: datetime) -> EquitySnapshot:
        """Return the snapshot of an account view."""
        return cls(ts=ts, quote=account.quote, equity=account.equity, free=account.free,
                   exposure=account.exposure)


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


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """A stored backtest: inputs, KPIs and trades as JSON-ready data; ``id`` assigned by the store."""

    created_at: datetime
    strategy: str
    params: Mapping[str, JsonValue]
    pairs: tuple[str, ...]
    timeframe: str
    period_start: datetime
    period_end: datetime
    kpis: Mapping[str, JsonValue]
    trades: Sequence[JsonValue] = ()
    id: int | None = None


@dataclass(frozen=True, slots=True)
class CandleSeries:
    """What is stored for one (exchange, symbol, timeframe): first/last open time (ms) and count."""

    exchange: str
    symbol: Symbol
    timeframe: str
    first_ms: int
    last_ms: int
    count: int


class CandleRepository(Protocol):
    """OHLCV candles keyed by (exchange, symbol, timeframe, open time)."""

    async def upsert(self, exchange: str, symbol: Symbol, timeframe: str, frame: CandleFrame) -> int:
        """Insert or overwrite every candle of ``frame``; return the number written."""
        ...

    async def load(
        self, exchange: str, symbol: Symbol, timeframe: str,
        start_ms: int | None = None, end_ms: int | None = None,
    ) -> CandleFrame:
        """Return candles with ``start_ms <= open time < end_ms`` (open bounds when None), oldest first."""
        ...

    async def first_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the oldest stored open time in 2000..2100 (the sane range), or None when there is none."""
        ...

    async def last_ms(self, exchange: str, symbol: Symbol, timeframe: str) -> int | None:
        """Return the newest stored open time in 2000..2100 (the sane range), or None when there is none."""
        ...

    async def series(self) -> list[CandleSeries]:
        """Return every stored series, sorted by exchange, symbol, timeframe."""
        ...

    async def delete(self, exchange: str, symbol: Symbol, timeframe: str, timestamps: Sequence[int]) -> int:
        """Delete the candles with these open times; return how many were stored."""
        ...


class OrderRepository(Protocol):
    """Orders by client order id; each is stored once, as an intent, before it is sent."""

    async def add(self, record: OrderRecord) -> bool:
        """Store a new order; return False (and change nothing) when the client id exists."""
        ...

    async def update(self, record: OrderRecord) -> None:
        """Replace the venue view; StoreError if unknown, InvariantViolation on an illegal status move."""
        ...

    async def get(self, client_order_id: ClientOrderId) -> OrderRecord | None:
        """Return the order or None."""
        ...

    async def open(self, symbol: Symbol | None = None) -> list[OrderRecord]:
        """Return orders not in a terminal status, oldest first."""
        ...

    async def for_position(self, position_id: PositionId) -> list[OrderRecord]:
        """Return a position's orders, oldest first."""
        ...


class FillRepository(Protocol):
    """Executions, each recorded once."""

    async def add(self, fill: Fill) -> bool:
        """Store a fill; return False (and change nothing) when (symbol, trade id) exists."""
        ...

    async def for_order(self, client_order_id: ClientOrderId) -> list[Fill]:
        """Return an order's fills, oldest first."""
        ...

    async def since(self, since: datetime, symbol: Symbol | None = None) -> list[Fill]:
        """Return fills at or after ``since``, oldest first."""
        ...


class PositionRepository(Protocol):
    """Positions by id."""

    async def save(self, position: Position) -> None:
        """Insert or replace the position."""
        ...

    async def get(self, position_id: PositionId) -> Position | None:
        """Return the position or None."""
        ...

    async def unfinished(self) -> list[Position]:
        """Return every non-terminal position (pending entry, open, exiting and error), oldest first."""
        ...

    async def finished(
        self, limit: int = 50, offset: int = 0, symbol: Symbol | None = None
    ) -> list[Position]:
        """Return terminal positions, newest close first (paged)."""
        ...

    async def count_finished(self, symbol: Symbol | None = None) -> int:
        """Return how many terminal positions exist."""
        ...

    async def closed_between(self, start: datetime, end: datetime | None = None) -> list[Position]:
        """Return terminal positions with ``start <= closed_at < end`` (open end when None), oldest first."""
        ...


class EquityRepository(Protocol):
    """Equity snapshots over time."""

    async def add(self, snapshot: EquitySnapshot) -> None:
        """Store a snapshot."""
        ...

    async def since(self, since: datetime) -> list[EquitySnapshot]:
        """Return snapshots at or after ``since``, oldest first."""
        ...

    async def latest(self) -> EquitySnapshot | None:
        """Return the newest snapshot."""
        ...


class RiskStateRepository(Protocol):
    """The single account risk state (``trader.core.risk.state.RiskState``)."""

    async def get(self) -> RiskState | None:
        """Return the stored state, or None before the first save."""
        ...

    async def save(self, state: RiskState) -> None:
        """Replace the stored state (cooldowns included)."""
        ...


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


class BacktestRunRepository(Protocol):
    """Stored backtest runs."""

    async def add(self, run: BacktestRun) -> int:
        """Store a run and return its id."""
        ...

    async def get(self, run_id: int) -> BacktestRun | None:
        """Return the run or None."""
        ...

    async def recent(self, limit: int = 20) -> list[BacktestRun]:
        """Return the newest runs first."""
        ...


class AudRateRepository(Protocol):
    """Daily AUD rates."""

    async def upsert(self, rates: Iterable[AudRate]) -> int:
        """Insert or replace rates; return how many were written."""
        ...

    async def get(self, currency: str, day: date) -> AudRate | None:
        """Return the rate for exactly ``day`` or None."""
        ...

    async def on_or_before(self, currency: str, day: date) -> AudRate | None:
        """Return the latest rate on or before ``day`` (weekends use Friday's), or None."""
        ...


class OpeningHoldingRepository(Protocol):
    """Parcels acquired before the bot's records (ATO export), keyed by (asset, acquired_at)."""

    async def upsert(self, parcels: Iterable[OpeningParcel]) -> int:
        """Insert or replace parcels by (asset, acquired_at), last of a key wins; return the keys written."""
        ...

    async def all(self) -> list[OpeningParcel]:
        """Return every parcel, oldest acquisition first (then by asset)."""
        ...


class PaperStateRepository(Protocol):
    """Paper exchange state as JSON documents by key."""

    async def get(self, key: str) -> JsonValue | None:
        """Return the document or None."""
        ...

    async def put(self, key: str, data: JsonValue, now: datetime) -> None:
        """Create or replace the document."""
        ...

    async def scan(self, prefix: str) -> list[tuple[str, JsonValue]]:
        """Return (key, document) for every key starting with ``prefix``, sorted by key."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository; rolls back unless ``commit()`` was awaited."""

    # Read-only members, so implementations may hold more specific repository types.
    @property
    def candles(self) -> CandleRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def fills(self) -> FillRepository: ...
    @property
    def positions(self) -> PositionRepository: ...
    @property
    def equity(self) -> EquityRepository: ...
    @property
    def risk(self) -> RiskStateRepository: ...
    @property
    def secrets(self) -> SecretRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def alerts(self) -> AlertOutboxRepository: ...
    @property
    def backtests(self) -> BacktestRunRepository: ...
    @property
    def aud_rates(self) -> AudRateRepository: ...
    @property
    def paper(self) -> PaperStateRepository: ...
    @property
    def opening_holdings(self) -> OpeningHoldingRepository: ...
    @property
    def api_tokens(self) -> ApiTokenRepository: ...
    @property
    def signals(self) -> SignalReceiptRepository: ...
    @property
    def news(self) -> NewsRepository: ...

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back whatever was not committed and release the connection."""
        ...

    async def commit(self) -> None:
        """Make every change so far durable; the unit of work stays usable."""
        ...

    async def rollback(self) -> None:
        """Discard every change since the last commit."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
