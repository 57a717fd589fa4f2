"""Builders for real positions, markets and contexts used by the positions tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from trader.config.sections import TrailingConfig
from trader.core.domain.commands import Command
from trader.core.domain.entries import Approved, EntryRequest
from trader.core.domain.enums import Direction
from trader.core.domain.ids import PositionId, Symbol
from trader.core.domain.market import Capabilities, MarketSpec
from trader.core.positions import position_events as ev
from trader.core.positions.machine import apply
from trader.core.positions.opening import open_position
from trader.core.positions.protection import PositionContext
from trader.core.positions.state import Position

NOW = datetime(2024, 7, 1, 12, tzinfo=UTC)


def market(native_stop: bool = True, oco: bool = False, min_amount: str = "0.0001",
           min_cost: str = "5") -> MarketSpec:
    """Return a BTC/USDT market with 0.0001 amount step and 0.01 price step."""
    return MarketSpec(Symbol("BTC/USDT"), "BTC", "USDT", amount_step=Decimal("0.0001"),
                      price_step=Decimal("0.01"), min_amount=Decimal(min_amount),
                      min_cost=Decimal(min_cost),
                      capabilities=Capabilities(native_stop=native_stop, oco=oco, shorting=True))


def context(native_stop: bool = True, oco: bool = False, trailing: TrailingConfig | None = None,
            swap: str = "0.005") -> PositionContext:
    """Return a PositionContext on ``market(...)``."""
    return PositionContext(market(native_stop, oco), trailing or TrailingConfig(), Decimal(swap))


def pending(ctx: PositionContext, amount: str = "1", stop: str | None = "95", tp: str | None = None,
            direction: Direction = Direction.LONG, entry: str = "100",
            limit: bool = False) -> tuple[Position, tuple[Command, ...]]:
    """Return a fresh PENDING_ENTRY position and its entry command."""
    request = EntryRequest(Symbol("BTC/USDT"), direction, Decimal(entry),
                           Decimal(stop) if stop else None, "test",
                           take_profit=Decimal(tp) if tp else None, limit=limit)
    approved = Approved(amount=Decimal(amount), stop_price=Decimal(stop) if stop else Decimal(0),
                        entry_price=Decimal(entry), risk=Decimal(5), sizing="fixed_fraction")
    position, commands = open_position(PositionId("pos1"), request, approved, NOW, ctx)
    if stop is None:
        from dataclasses import replace

        position = replace(position, stop_price=None, initial_stop=None)
    return position, commands


def opened(ctx: PositionContext, amount: str = "1", price: str = "100", **kw: object
           ) -> tuple[Position, tuple[Command, ...]]:
    """Return a position whose entry filled completely at ``price``, with the protection commands."""
    position, _ = pending(ctx, amount=amount, entry=price, **kw)  # type: ignore[arg-type]
    return apply(position, ev.EntryFilled(Decimal(amount), Decimal(price), at=NOW), ctx)
