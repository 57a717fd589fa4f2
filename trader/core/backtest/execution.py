"""Execute the engine's commands on the simulated ledger and report back as order updates.

Shared by the runner and the per-candle reference loop in the tests, so both execute identically.
A refused placement becomes a REJECTED update (the venue would say the same), to feed to the next
step at once; cancel confirmations only clean the engine's order book and may wait for any later step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from trader.core.domain.commands import CancelOrder, Command, PlaceOrder, ReplaceStop
from trader.core.domain.enums import OrderStatus
from trader.core.domain.ids import ClientOrderId
from trader.core.domain.orders import Fill, OrderRequest
from trader.core.engine.orders import OrderUpdate
from trader.core.errors import InsufficientFunds, InvalidOrder, OrderNotFound
from trader.core.sim.ledger import SimLedger


@dataclass(slots=True)
class Execution:
    """Updates produced by executing commands: ``urgent`` for the next step now, ``later`` any time."""

    urgent: list[OrderUpdate] = field(default_factory=list)
    later: list[OrderUpdate] = field(default_factory=list)


def execute(commands: Iterable[Command], ledger: SimLedger, now: datetime, into: Execution) -> None:
    """Apply ``commands`` in order to ``ledger``; collect the resulting updates in ``into``."""
    for command in commands:
        if isinstance(command, PlaceOrder):
            _place(command.request, ledger, now, into)
        elif isinstance(command, ReplaceStop):
            # The old order's fill (if it filled first) was already reported: then place nothing.
            if _cancel(command.cancel_client_order_id, ledger, now, into) is not OrderStatus.FILLED:
                _place(command.request, ledger, now, into)
        elif isinstance(command, CancelOrder):
            _cancel(command.client_order_id, ledger, now, into)


def fill_updates(fills: Iterable[Fill], ledger: SimLedger | None = None) -> list[OrderUpdate]:
    """Return each fill as an order update, then (given ``ledger``) the orders it rejected on matching."""
    updates = [OrderUpdate(f.client_order_id, OrderStatus.FILLED, f) for f in fills]
    if ledger is not None:
        updates += [OrderUpdate(o.client_order_id, OrderStatus.REJECTED, reason="insufficient funds at fill")
                    for o in ledger.pop_rejected()]
    return updates


def _place(request: OrderRequest, ledger: SimLedger, now: datetime, into: Execution) -> None:
    try:
        ledger.place(request, now)
    except (InsufficientFunds, InvalidOrder) as exc:
        into.urgent.append(OrderUpdate(request.client_order_id, OrderStatus.REJECTED, reason=str(exc)))


def _cancel(client_order_id: ClientOrderId, ledger: SimLedger, now: datetime,
            into: Execution) -> OrderStatus | None:
    try:
        order = ledger.cancel(client_order_id, now)
    except OrderNotFound:
        return None
    if order.status is OrderStatus.CANCELLED:
        into.later.append(OrderUpdate(client_order_id, OrderStatus.CANCELLED))
    return order.status
