"""Cancel-then-place of a protective order, shared by the live and paper adapters.

On spot a resting stop and a resting take-profit lock the same coins, so a trailing move or a
stop/take-profit swap must cancel the old order before placing the new one, and must not place it if
the old one filled meanwhile. Both steps are idempotent on their client ids, so re-running the whole
operation after a crash between (or after) the steps never leaves two orders resting.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.orders import Order, OrderRequest
from trader.core.errors import ExchangeError, OrderNotFound
from trader.ports.exchange import ReplaceResult

logger = logging.getLogger(__name__)


async def cancel_then_place(
    cancel: Callable[[Symbol, ClientOrderId], Awaitable[Order]],
    place: Callable[[OrderRequest], Awaitable[Order]],
    symbol: Symbol,
    old: ClientOrderId,
    request: OrderRequest,
) -> ReplaceResult:
    """Cancel ``old`` then place ``request`` unless ``old`` (partly) filled; see ReplaceResult."""
    try:
        cancelled: Order | None = await cancel(symbol, old)
    except OrderNotFound:
        logger.info("replace: %s unknown to the venue; placing %s", old, request.client_order_id)
        cancelled = None
    if cancelled is not None and not cancelled.status.is_terminal:
        raise ExchangeError(f"replace: {old} is still {cancelled.status}; "
                            f"not placing {request.client_order_id}")
    if cancelled is not None and cancelled.filled > 0:
        logger.info("replace: %s filled %s before the cancel; not placing %s", old, cancelled.filled,
                    request.client_order_id)
        return ReplaceResult(cancelled, None)
    return ReplaceResult(cancelled, await place(request))
