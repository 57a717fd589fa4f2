"""The trading context: orders, fills, positions, risk state, equity and the engine's state documents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from trader.core.domain.account import AccountSnapshot
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill, Order, OrderRequest
from trader.core.engine.memory import EngineMemory
from trader.core.positions.state import Position
from trader.core.risk.state import RiskState
from trader.ports.store.transaction import JsonValue, Transaction


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

    async def count(self) -> int:
        """Return how many snapshots are stored."""
        ...


class RiskStateRepository(Protocol):
    """The single account risk state (``trader.core.risk.state.RiskState``)."""

    async def get(self) -> RiskState | None:
        """Return the stored state, or None before the first save."""
        ...

    async def save(self, state: RiskState) -> None:
        """Replace the stored state (cooldowns included)."""
        ...


class EngineStateRepository(Protocol):
    """The engine's memory between cycles (``EngineMemory``), typed; its codec lives in the store."""

    async def get(self) -> EngineMemory | None:
        """Return the stored memory, or None before the first save."""
        ...

    async def save(self, memory: EngineMemory, now: datetime) -> None:
        """Create or replace the memory."""
        ...


class PaperAccountRepository(Protocol):
    """The paper venue's account: a small core document plus each fill and finished order once.

    The documents are the paper venue's own JSON-ready state; saving the history item by item keeps a
    save's cost flat whatever the account's age.
    """

    async def core(self, account: str) -> JsonValue | None:
        """Return the account's core document (balances, open orders, prices), or None."""
        ...

    async def save(self, account: str, core: JsonValue, fills: Sequence[tuple[int, JsonValue]],
                   finished: Sequence[tuple[int, JsonValue]], now: datetime) -> None:
        """Write the core and the numbered new fills and finished orders."""
        ...

    async def history(self, account: str) -> tuple[list[JsonValue], list[JsonValue]]:
        """Return (finished orders, fills) in the order they were numbered."""
        ...


class TradingUnitOfWork(Transaction, Protocol):
    """What the live engine reads and writes in one transaction."""

    # Read-only members, so implementations may hold more specific repository types.
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
    def engine(self) -> EngineStateRepository: ...
    @property
    def paper_account(self) -> PaperAccountRepository: ...
