"""What the engine already knows about the venue: when it last answered, and how its calls are failing.

``WatchedExchange`` wraps the exchange port the engine uses and tells a ``VenueWatch`` the outcome of
every call. A call "answers" unless it raised ``RetryableError`` (network, timeout, 5xx, 429): a
refusal such as ``OrderNotFound`` or ``InsufficientFunds`` is an answer too. Readiness reads the
watch (``/ready`` never calls the venue itself, so a burst of probes cannot eat the engine's rate
limit), start-up publishes its waiting state on it, and the fault alerts read its failure streak.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from trader.core.domain.account import AccountSnapshot
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.orders import Fill, Order, OrderRequest
from trader.core.errors import ExchangeError, RetryableError
from trader.ports.exchange import Exchange, FundingSource, ReplaceResult

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class VenueState:
    """A snapshot of the watch: seconds since the last answer (None: never), the failure streak."""

    answered_ago: float | None
    failures: int  # consecutive calls that got no answer
    last_error: str
    waiting: str  # start-up's "waiting for the venue ..." line, "" once it answered


class VenueWatch:
    """Outcomes of the engine's venue calls; cheap, synchronous, never raises."""

    def __init__(self, stale_after: float, now: Callable[[], float] = time.monotonic) -> None:
        self.stale_after = stale_after
        self._now = now
        self._answered_at: float | None = None
        self._failures = 0
        self._last_error = ""
        self._waiting = ""
        self._listeners: list[Callable[[BaseException | None], None]] = []

    def listen(self, listener: Callable[[BaseException | None], None]) -> None:
        """Also tell ``listener`` every outcome (None: answered), e.g. the venue's circuit breaker."""
        self._listeners.append(listener)

    def answered(self) -> None:
        """Record a call the venue answered."""
        self._answered_at = self._now()
        self._failures = 0
        for listener in self._listeners:
            listener(None)

    def failed(self, error: BaseException) -> None:
        """Record a call that got no answer."""
        self._failures += 1
        self._last_error = type(error).__name__  # shown on /ready: the type only, messages carry hosts
        for listener in self._listeners:
            listener(error)

    def waiting(self, line: str) -> None:
        """Publish start-up's waiting state ("" when it is over)."""
        self._waiting = line

    def state(self) -> VenueState:
        """Return the current snapshot."""
        ago = None if self._answered_at is None else self._now() - self._answered_at
        return VenueState(ago, self._failures, self._last_error, self._waiting)

    def readiness(self) -> tuple[bool, str]:
        """Return (ready, detail): the last call answered, and not longer than ``stale_after`` ago."""
        state = self.state()
        if state.waiting:
            return False, state.waiting
        if state.answered_ago is None:
            return False, "no venue call answered yet"
        detail = f"last answer {state.answered_ago:.1f}s ago"
        if state.failures:
            return False, f"{state.failures} call(s) unanswered since the {detail}: {state.last_error}"
        if state.answered_ago > self.stale_after:
            return False, f"{detail} (stale after {self.stale_after:g}s)"
        return True, detail


class WatchedExchange:
    """The Exchange port, delegating to ``inner`` and reporting every call's outcome to ``watch``."""

    def __init__(self, inner: Exchange, watch: VenueWatch) -> None:
        self.inner = inner
        self.watch = watch

    @property
    def venue(self) -> str:
        """Return the inner exchange's venue name (messages name it)."""
        return str(getattr(self.inner, "venue", "the exchange"))

    async def _watch(self, pending: Awaitable[T]) -> T:
        try:
            value = await pending
        except RetryableError as exc:
            self.watch.failed(exc)
            raise
        except ExchangeError:
            self.watch.answered()  # a refusal (unknown order, no funds) is an answer
            raise
        self.watch.answered()
        return value

    async def market(self, symbol: Symbol) -> MarketSpec:
        """Return the pair's market spec."""
        return await self._watch(self.inner.market(symbol))

    async def markets(self) -> dict[Symbol, MarketSpec]:
        """Return every market."""
        return await self._watch(self.inner.markets())

    async def candles(self, symbol: Symbol, timeframe: str, since: datetime | None = None,
                      limit: int | None = None) -> CandleFrame:
        """Return candles."""
        return await self._watch(self.inner.candles(symbol, timeframe, since, limit))

    async def last_price(self, symbol: Symbol) -> Decimal:
        """Return the last price."""
        return await self._watch(self.inner.last_price(symbol))

    async def order_book_top(self, symbol: Symbol) -> tuple[Decimal, Decimal]:
        """Return (best bid, best ask)."""
        return await self._watch(self.inner.order_book_top(symbol))

    async def balances(self) -> AccountSnapshot:
        """Return balances and equity."""
        return await self._watch(self.inner.balances())

    async def funding_paid(self, symbol: str, since: datetime) -> list[tuple[datetime, Decimal]]:
        """Return the funding paid on a perpetual since ``since`` (none when the venue reports none)."""
        if not isinstance(self.inner, FundingSource):
            return []
        return await self._watch(self.inner.funding_paid(symbol, since))

    async def place(self, request: OrderRequest) -> Order:
        """Place an order (idempotent on its client id)."""
        return await self._watch(self.inner.place(request))

    async def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Order:
        """Cancel an order."""
        return await self._watch(self.inner.cancel(symbol, client_order_id))

    async def replace(self, symbol: Symbol, cancel_client_order_id: ClientOrderId,
                      request: OrderRequest) -> ReplaceResult:
        """Cancel a protective order, then place ``request`` unless the old one filled."""
        return await self._watch(self.inner.replace(symbol, cancel_client_order_id, request))

    async def order(self, symbol: Symbol, client_order_id: ClientOrderId) -> Order | None:
        """Look an order up by client id."""
        return await self._watch(self.inner.order(symbol, client_order_id))

    async def open_orders(self, symbol: Symbol | None = None) -> list[Order]:
        """Return resting orders."""
        return await self._watch(self.inner.open_orders(symbol))

    async def fills_since(self, symbol: Symbol, since: datetime) -> list[Fill]:
        """Return our executions since ``since``."""
        return await self._watch(self.inner.fills_since(symbol, since))

    async def close(self) -> None:
        """Release the inner exchange's connections."""
        await self.inner.close()
