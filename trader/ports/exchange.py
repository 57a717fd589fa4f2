"""Exchange port used by every mode: ccxt live adapter, paper exchange, fakes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from trader.core.domain.account import AccountSnapshot
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.orders import Fill, Order, OrderRequest


@dataclass(frozen=True, slots=True)
class ReplaceResult:
    """Outcome of a cancel-then-place of a protective order (trailing move or stop/take-profit swap).

    ``cancelled`` is the old order's final state (None when the venue never had it). ``placed`` is the
    new order, or None when the old one had (partly) filled: the position machine decides from that fill.
    """

    cancelled: Order | None
    placed: Order | None


class Exchange(Protocol):
    """A venue seen through our types; ``place`` is idempotent on the client order id."""

    async def market(self, symbol: Symbol) -> MarketSpec:
        """Return precision, limits, fees and capabilities; DataError for an unknown pair."""
        ...

    async def markets(self) -> dict[Symbol, MarketSpec]:
        """Return every spot market the venue lists, by unified symbol."""
        ...

    async def candles(
        self, symbol: Symbol, timeframe: str, since: datetime | None = None, limit: int | None = None
    ) -> CandleFrame:
        """Return OHLCV candles from ``since`` (oldest first)."""
        ...

    async def last_price(self, symbol: Symbol) -> Decimal:
        """Return the latest traded price."""
        ...

    async def order_book_top(self, symbol: Symbol) -> tuple[Decimal, Decimal]:
        """Return (best bid, best ask)."""
        ...

    async def balances(self) -> AccountSnapshot:
        """Return balances and equity in the account's quote currency."""
        ...

    async def place(self, request: OrderRequest) -> Order:
        """Place an order; a repeat of the same client order id returns the existing order."""
        ...

    async def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Order:
        """Cancel an order; cancelling a finished order returns it unchanged."""
        ...

    async def replace(self, symbol: Symbol, cancel_client_order_id: ClientOrderId,
                      request: OrderRequest) -> ReplaceResult:
        """Cancel the resting protective order, then place ``request`` only if the old one did not fill.

        Safe to repeat after a crash at any point: both steps are idempotent on their client ids.
        """
        ...

    async def order(self, symbol: Symbol, client_order_id: ClientOrderId) -> Order | None:
        """Look an order up by client id; None when the venue never saw it."""
        ...

    async def open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        """Return resting orders, optionally for one pair."""
        ...

    async def fills_since(self, symbol: Symbol, since: datetime) -> list[Fill]:
        """Return our executions on ``symbol`` since ``since``."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class FundingSource(Protocol):
    """A venue that reports the funding the account paid on its perpetual positions."""

    async def funding_paid(self, symbol: str, since: datetime) -> list[tuple[datetime, Decimal]]:
        """Return (time, quote paid) per funding charge on ``symbol``'s perpetual since ``since``
        (negative: received)."""
        ...
