"""Keep the stored orders and fills equal to the venue's view, and turn differences into order updates.

``read_venue`` asks the exchange (no transaction open: the paper exchange saves through the store);
``apply_venue`` then writes the differences in the caller's unit of work and returns the OrderUpdates
for ``step``: each order's OPEN first, then its fills (each recorded once, by trade id), then any
other status, so a fill is always booked before a cancel or a replacement of the same order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from trader.core.domain.enums import OrderStatus
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.orders import ORDER_TRANSITIONS, Fill
from trader.core.engine.orders import OrderUpdate
from trader.live.execution import VenueResult
from trader.ports.exchange import Exchange
from trader.ports.store import OrderRecord, TradingUnitOfWork

logger = logging.getLogger(__name__)

FIRST_FILL_LOOKBACK = timedelta(days=1)  # no cursor yet: fetch fills this far before the oldest order


@dataclass(frozen=True, slots=True)
class VenueView:
    """What the venue said about some of our orders and which fills it reported."""

    results: tuple[VenueResult, ...] = ()
    fills: tuple[Fill, ...] = ()
    cursors: Mapping[Symbol, datetime] = field(default_factory=dict)


async def read_venue(exchange: Exchange, records: Sequence[OrderRecord],
                     cursors: Mapping[Symbol, datetime], symbols: Iterable[Symbol] = (),
                     now: datetime | None = None) -> VenueView:
    """Return the venue's view of ``records`` and the fills since each pair's cursor.

    Statuses are read before fills, so a fill behind a FILLED status is always among the fills.
    PENDING orders the venue does not know are left alone (never sent yet, or still in flight).
    A pair without a cursor reads fills from a day before its oldest order (or before ``now``).
    """
    by_symbol: dict[Symbol, list[OrderRecord]] = {}
    for record in records:
        by_symbol.setdefault(record.symbol, []).append(record)
    for symbol in symbols:
        by_symbol.setdefault(symbol, [])
    results: list[VenueResult] = []
    fills: list[Fill] = []
    new_cursors = dict(cursors)
    for symbol, mine in sorted(by_symbol.items()):
        if mine:
            results += await _statuses(exchange, symbol, mine)
        since = cursors.get(symbol)
        if since is None:
            oldest = min((r.created_at for r in mine), default=now)
            if oldest is None:
                continue
            since = oldest - FIRST_FILL_LOOKBACK
        found = await exchange.fills_since(symbol, since)
        fills += found
        if found:
            new_cursors[symbol] = max(since, *(f.timestamp for f in found))
        else:
            new_cursors.setdefault(symbol, since)
    return VenueView(tuple(results), tuple(fills), new_cursors)


async def _statuses(exchange: Exchange, symbol: Symbol, mine: list[OrderRecord]) -> list[VenueResult]:
    results: list[VenueResult] = []
    resting = {o.client_order_id: o for o in await exchange.open_orders(symbol)}
    for record in mine:
        order = resting.get(record.client_order_id)
        if order is None:
            order = await exchange.order(symbol, record.client_order_id)
        if order is not None:
            if order.status != record.status or order.filled != record.filled:
                results.append(VenueResult(record.client_order_id, order.status, order))
        elif record.status is not OrderStatus.PENDING:
            results.append(VenueResult(record.client_order_id, OrderStatus.CANCELLED,
                                       reason="the venue no longer knows the order"))
    return results


async def apply_venue(uow: TradingUnitOfWork, view: VenueView, now: datetime) -> list[OrderUpdate]:
    """Record the view in the store; return the updates for ``step``, ordered as the module says."""
    first: list[OrderUpdate] = []
    fills: list[OrderUpdate] = []
    last: list[OrderUpdate] = []
    for result in view.results:
        update = await record_result(uow, result, now)
        if update is None:
            continue
        (first if update.status is OrderStatus.OPEN else last).append(update)
    for fill in sorted(view.fills, key=lambda f: (f.timestamp, f.trade_id)):
        update = await record_fill(uow, fill, now)
        if update is not None:
            fills.append(update)
    return [*first, *fills, *last]


async def record_result(uow: TradingUnitOfWork, result: VenueResult, now: datetime) -> OrderUpdate | None:
    """Store the venue's view of one order; return the status update when the status changed."""
    record = await uow.orders.get(result.client_order_id)
    if record is None:
        return None
    order = result.order
    status = result.status
    if status == record.status and (order is None or order.filled == record.filled):
        return None
    if status != record.status and (record.status, status) not in ORDER_TRANSITIONS:
        logger.warning("ignoring venue status %s for %s stored as %s", status, record.client_order_id,
                       record.status)
        return None
    changes: dict[str, object] = {"status": status, "updated_at": now}
    if order is not None:
        changes.update(exchange_order_id=order.exchange_order_id or record.exchange_order_id,
                       average_price=order.average_price or record.average_price,
                       filled=max(order.filled, record.filled))
    await uow.orders.update(replace(record, **changes))  # type: ignore[arg-type]
    if status == record.status:
        return None
    return OrderUpdate(result.client_order_id, status, reason=result.reason)


async def record_fill(uow: TradingUnitOfWork, fill: Fill, now: datetime) -> OrderUpdate | None:
    """Store a fill of one of our orders once; return its update (None: a stranger's or seen before)."""
    if not fill.client_order_id:
        return None
    record = await uow.orders.get(fill.client_order_id)
    if record is None or not await uow.fills.add(fill):
        return None
    fills = await uow.fills.for_order(fill.client_order_id)
    filled = sum((f.amount for f in fills), start=fill.amount * 0)
    cost = sum((f.amount * f.price for f in fills), start=fill.amount * 0)
    status = OrderStatus.FILLED if filled >= record.amount else OrderStatus.PARTIALLY_FILLED
    if record.status.is_terminal:
        status = record.status
    elif (record.status, status) not in ORDER_TRANSITIONS and status != record.status:
        status = record.status
    await uow.orders.update(replace(
        record, status=status, filled=max(filled, record.filled),
        average_price=cost / filled if filled else None, fee=sum((f.fee for f in fills), start=fill.fee * 0),
        fee_currency=fill.fee_currency, updated_at=now))
    return OrderUpdate(fill.client_order_id, status, fill)


def opens_first(updates: Sequence[OrderUpdate], fills: Sequence[OrderUpdate]) -> tuple[OrderUpdate, ...]:
    """Return status ``updates`` and ``fills`` in the order ``step`` needs: OPEN, fills, other statuses."""
    opens = [u for u in updates if u.status is OrderStatus.OPEN]
    return (*opens, *fills, *(u for u in updates if u.status is not OrderStatus.OPEN))


def unresolved_ids(records: Iterable[OrderRecord]) -> list[ClientOrderId]:
    """Return the client ids of PENDING records (intents whose outcome is not known yet)."""
    return [r.client_order_id for r in records if r.status is OrderStatus.PENDING]
