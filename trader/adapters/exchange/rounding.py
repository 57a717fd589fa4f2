"""Bring an order request to market precision and check it against the minimums before it is sent.

Shared by the live and paper adapters so both refuse and round exactly alike: amounts round down,
a protective trigger rounds toward the position (never widening the risk), limit prices to the tick.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from trader.core.domain.enums import Direction, OrderType, Side
from trader.core.domain.ids import attached_entry
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO
from trader.core.domain.orders import OrderRequest
from trader.core.errors import InvalidOrder


def rounded_request(request: OrderRequest, spec: MarketSpec, last_price: Decimal | None) -> OrderRequest:
    """Return ``request`` at market precision; InvalidOrder when it is below the venue's minimums.

    ``last_price`` values an order that has neither price nor trigger (a market order).
    """
    # A sell protects a long: its stop rounds up (tighter); a buy protects a short: rounds down.
    direction = Direction.LONG if request.side is Side.SELL else Direction.SHORT
    trigger = spec.round_stop(request.trigger_price, direction) if request.trigger_price else None
    price = spec.round_price(request.price) if request.price is not None else None
    amount = spec.round_amount(request.amount)
    reference = price or trigger or last_price
    problem = spec.minimums_problem(amount, reference if reference is not None else ZERO)
    if reference is None and problem and "order value" in problem:
        problem = None  # nothing to value it with: the venue checks the cost itself
    if problem:
        raise InvalidOrder(f"{request.client_order_id}: {problem}", user_message=problem)
    return replace(request, amount=amount, price=price, trigger_price=trigger)


_TRIGGERED = frozenset({OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT})


def check_supported(request: OrderRequest, spec: MarketSpec) -> None:
    """Raise InvalidOrder when the venue cannot hold this order type (the engine must watch instead)."""
    caps = spec.capabilities
    attached = caps.attached_take_profit and attached_entry(request.client_order_id) is not None
    if request.type is OrderType.OCO and not caps.oco and not attached:  # the venue-made TP/SL is one
        raise InvalidOrder(f"{request.symbol}: this venue takes no OCO orders through our adapter")
    if request.type in _TRIGGERED and not caps.native_stop:
        raise InvalidOrder(f"{request.symbol}: this venue holds no stop/take-profit orders; watch the price")
    if request.type is OrderType.STOP_LIMIT and not caps.stop_limit:
        raise InvalidOrder(f"{request.symbol}: this venue takes no stop-limit orders")
