"""Run the engine's commands against the Exchange port and report what the venue said.

Every placement is keyed by its deterministic client order id and ``Exchange.place`` is idempotent on
it, so running a command again after a crash never creates a second order. Errors map to outcomes:
InsufficientFunds / InvalidOrder -> the order is REJECTED with the reason (like the backtest's
simulator); RetryableError (unknown outcome after the adapter's own retries) -> the order stays
PENDING and the protection monitor resolves it by client-id lookup; a cancel of an order the venue
never had counts as cancelled.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from trader.core.domain.commands import CancelOrder, Command, PlaceOrder, ReplaceStop
from trader.core.domain.enums import OrderStatus
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.orders import Order, OrderRequest
from trader.core.errors import (
    AuthError,
    ExchangeError,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    RetryableError,
)
from trader.ports.exchange import Exchange
from trader.ports.metrics import NO_METRICS, EngineMetrics

logger = logging.getLogger(__name__)

Checkpoint = Callable[[str], Awaitable[None]]
"""A test seam: awaited with a step name ("intent_persisted", "request_sent", ...); may raise."""


async def no_checkpoint(_name: str) -> None:
    """Do nothing (the production checkpoint)."""


@dataclass(frozen=True, slots=True)
class VenueResult:
    """What the venue said about one of our orders after a command: its view, or why it refused."""

    client_order_id: ClientOrderId
    status: OrderStatus
    order: Order | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """Results of one command; ``unresolved`` when the outcome is unknown (left PENDING)."""

    command: Command
    results: tuple[VenueResult, ...] = ()
    unresolved: bool = False
    error: str = ""


class CommandExecutor:
    """Execute one command at a time through the Exchange port; never raises for venue refusals."""

    def __init__(self, exchange: Exchange, checkpoint: Checkpoint = no_checkpoint,
                 metrics: EngineMetrics = NO_METRICS) -> None:
        self._exchange = exchange
        self._checkpoint = checkpoint
        self._metrics = metrics

    async def run(self, command: Command) -> Outcome:
        """Execute ``command`` and return what the venue said (AuthError propagates: stop trading)."""
        try:
            if isinstance(command, PlaceOrder):
                results: tuple[VenueResult, ...] = (await self._place(command.request),)
            elif isinstance(command, ReplaceStop):
                results = await self._replace(command)
            else:
                results = (await self._cancel(command.symbol, command.client_order_id),)
        except AuthError:
            raise
        except RetryableError as exc:
            logger.warning("outcome unknown for %s: %s; the monitor will look it up", _label(command), exc)
            return Outcome(command, unresolved=True, error=str(exc))
        except ExchangeError as exc:
            logger.error("%s failed: %s; the monitor will look it up", _label(command), exc)
            return Outcome(command, unresolved=True, error=str(exc))
        await self._checkpoint("request_sent")
        return Outcome(command, results)

    async def run_outbox(self, outbox: tuple[Command, ...],
                         blocked: set[Symbol]) -> tuple[list[Outcome], tuple[Command, ...]]:
        """Run the outbox in order; return the finished outcomes and the commands left, in order.

        After an unknown outcome the later commands of that pair wait (on spot they share its coins and
        must keep their order) and the pair is added to ``blocked``; other pairs go on, so one stuck
        order never freezes every pair.
        """
        done: list[Outcome] = []
        left: list[Command] = []
        for command in outbox:
            if command_symbol(command) in blocked:
                left.append(command)
                continue
            outcome = await self.run(command)
            if outcome.unresolved:
                blocked.add(command_symbol(command))
                left.append(command)
            else:
                done.append(outcome)
        return done, tuple(left)

    async def _place(self, request: OrderRequest) -> VenueResult:
        try:
            order = await self._exchange.place(request)
        except (InsufficientFunds, InvalidOrder) as exc:
            if isinstance(exc, InvalidOrder):
                logger.error("venue refused %s as invalid: %s", request.client_order_id, exc)
            else:
                logger.warning("venue refused %s: %s", request.client_order_id, exc)
            self._metrics.order_failed()
            return VenueResult(request.client_order_id, OrderStatus.REJECTED, reason=str(exc))
        self._count(order.status)
        return VenueResult(request.client_order_id, order.status, order)

    def _count(self, status: OrderStatus) -> None:
        # Only definite answers count; an unknown outcome is counted when a retry gets the answer.
        if status is OrderStatus.REJECTED:
            self._metrics.order_failed()
        else:
            self._metrics.order_placed()

    async def _cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> VenueResult:
        try:
            order = await self._exchange.cancel(symbol, client_order_id)
        except OrderNotFound:
            return VenueResult(client_order_id, OrderStatus.CANCELLED, reason="unknown to the venue")
        return VenueResult(client_order_id, order.status, order)

    async def _replace(self, command: ReplaceStop) -> tuple[VenueResult, ...]:
        request = command.request
        try:
            result = await self._exchange.replace(command.symbol, command.cancel_client_order_id, request)
        except (InsufficientFunds, InvalidOrder) as exc:
            # The cancel went through (the adapter places only after it): the new order was refused.
            old = await self._exchange.order(command.symbol, command.cancel_client_order_id)
            cancelled = _result_of(command.cancel_client_order_id, old)
            self._metrics.order_failed()
            return cancelled, VenueResult(request.client_order_id, OrderStatus.REJECTED, reason=str(exc))
        old_result = _result_of(command.cancel_client_order_id, result.cancelled)
        if result.placed is None:  # the old order filled first: the new one was never sent
            return old_result, VenueResult(request.client_order_id, OrderStatus.CANCELLED,
                                           reason="not placed: the previous order filled first")
        self._count(result.placed.status)
        return old_result, VenueResult(request.client_order_id, result.placed.status, result.placed)


def command_symbol(command: Command) -> Symbol:
    """Return the pair a command trades."""
    return command.request.symbol if isinstance(command, PlaceOrder) else command.symbol


def outbox_ids(outbox: Iterable[Command]) -> set[ClientOrderId]:
    """Return the client ids of the orders the outbox still has to place."""
    return {c.request.client_order_id for c in outbox if isinstance(c, PlaceOrder | ReplaceStop)}


def _result_of(client_order_id: ClientOrderId, order: Order | None) -> VenueResult:
    if order is None:
        return VenueResult(client_order_id, OrderStatus.CANCELLED, reason="unknown to the venue")
    return VenueResult(client_order_id, order.status, order)


def _label(command: Command) -> str:
    if isinstance(command, CancelOrder):
        return f"cancel {command.client_order_id}"
    return f"{type(command).__name__} {command.request.client_order_id}"
