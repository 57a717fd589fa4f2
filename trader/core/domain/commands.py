"""Commands: frozen, imperative instructions the pure core hands to whoever executes orders.

The engine persists each command (outbox) before executing it; every order is keyed by its
deterministic client order id, so executing a command twice never places two orders.
"""

from __future__ import annotations

from dataclasses import dataclass

from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.orders import OrderRequest


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Place ``request`` on the venue."""

    request: OrderRequest


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel the order with this client id (already gone is fine)."""

    symbol: Symbol
    client_order_id: ClientOrderId


@dataclass(frozen=True, slots=True)
class ReplaceStop:
    """Cancel the resting protective order, then place ``request`` once the cancel is confirmed.

    On spot both orders lock the same coins, so ``request`` must not be sent before the cancel
    succeeds. If the old order was (partly) filled meanwhile, report that fill as its event and place
    ``request`` for ``request.amount`` minus that filled amount (nothing when that is zero); the
    position machine books the fill against the new order, so the two views stay equal.
    """

    symbol: Symbol
    cancel_client_order_id: ClientOrderId
    request: OrderRequest


Command = PlaceOrder | CancelOrder | ReplaceStop
