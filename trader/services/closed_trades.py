"""The store's closed trades as analytics records, read again only when a position has finished since.

Why a cache: the web dashboard asks for trades, KPIs and the equity curve every 10 s, and rebuilding a
year of closed trades (thousands of rows) cost about half a second per request on the event loop the
trading engine shares. Finished positions never change (the position machine has no transition out of a
terminal state, and the engine writes a position once when it finishes), so the number of finished
positions and the newest of them tell whether the cached list is still the store's: a call costs one
small query when nothing finished since.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from trader.core.analytics.records import TradeRecord
from trader.core.domain.money import ZERO
from trader.core.positions.state import Position, PositionStatus
from trader.ports.store import TradingUnitOfWorkFactory

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_trade(position: Position) -> bool:
    """Return True for a closed position that held coins and has an exit price."""
    return (position.status is PositionStatus.CLOSED and position.filled > 0
            and position.entry_price is not None and position.exit_price is not None)


def trade_record(position: Position) -> TradeRecord:
    """Return the analytics record of a closed position (``is_trade`` must hold)."""
    opened = position.opened_at or position.created_at or position.closed_at or EPOCH
    closed = position.closed_at or opened
    return TradeRecord(position.symbol, position.strategy, position.direction, opened, max(closed, opened),
                       position.entry_price or ZERO, position.exit_price or ZERO, position.filled,
                       position.fees, position.realised_pnl, str(position.exit_reason or ""),
                       position.confidence, str(position.id), leverage=position.leverage,
                       funding=position.funding)


class ClosedTrades:
    """Every closed trade in the store as a record, newest close first; reloaded when one finished since."""

    def __init__(self, uow_factory: TradingUnitOfWorkFactory) -> None:
        self._uow = uow_factory
        self._lock = asyncio.Lock()  # concurrent requests wait for one reload instead of each doing it
        self._marker: tuple[int, str, datetime | None] | None = None
        self._records: tuple[TradeRecord, ...] = ()

    async def records(self) -> tuple[TradeRecord, ...]:
        """Return the closed trades, newest close first."""
        async with self._lock, self._uow() as uow:
            total = await uow.positions.count_finished()
            newest = await uow.positions.finished(limit=1)
            marker = (total, str(newest[0].id), newest[0].closed_at) if newest else (0, "", None)
            if marker != self._marker:
                finished = await uow.positions.finished(limit=max(total, 1))
                self._records = tuple(trade_record(p) for p in finished if is_trade(p))
                self._marker = marker
            return self._records
