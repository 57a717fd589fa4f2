"""Live account KPIs: total equity, cash, exposure, unrealised PnL and daily PnL since 00:00 UTC.

Daily PnL is the account's gain since the UTC day boundary, split into a realised part (trades closed
today) and an unrealised part (positions still open). Moves before the boundary are excluded: a trade
or position opened before it is measured from its symbol's price at the boundary, so the result
equals the change of equity since 00:00 UTC without deposits and withdrawals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from trader.core.analytics.records import OpenPosition, TradeRecord
from trader.core.domain.enums import Direction
from trader.core.domain.money import ZERO
from trader.core.errors import DataError


@dataclass(frozen=True, slots=True)
class AccountKpis:
    """A snapshot for /status and /balance, all money in the quote currency."""

    total_equity: Decimal
    cash: Decimal
    exposure_pct: Decimal  # open notional / equity x 100
    unrealised_pnl: Decimal
    realised_today: Decimal
    unrealised_today: Decimal
    day_start: datetime

    @property
    def daily_pnl(self) -> Decimal:
        """Return realised plus unrealised PnL since the day boundary."""
        return self.realised_today + self.unrealised_today


def day_start(now: datetime) -> datetime:
    """Return 00:00 UTC of the day containing ``now``."""
    if now.tzinfo is None:
        raise ValueError("now is naive: it must be timezone-aware UTC")
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _boundary_price(prices: Mapping[str, Decimal], symbol: str, boundary: datetime) -> Decimal:
    price = prices.get(symbol)
    if price is None:
        raise DataError(f"no {symbol} price at the day boundary {boundary:%Y-%m-%d %H:%M} UTC")
    return price


def account_kpis(
    cash: Decimal,
    positions: Sequence[OpenPosition],
    trades: Sequence[TradeRecord],
    now: datetime,
    boundary_prices: Mapping[str, Decimal],
) -> AccountKpis:
    """Return equity, exposure and daily PnL; ``boundary_prices`` are each symbol's price at 00:00 UTC.

    Longs count at market value; a short counts its unrealised PnL (its margin stays in ``cash``).
    A boundary price is needed only for positions and today's trades opened before the boundary.
    """
    boundary = day_start(now)
    long_value = sum((p.notional for p in positions if p.direction is Direction.LONG), ZERO)
    short_pnl = sum((p.unrealised_pnl for p in positions if p.direction is Direction.SHORT), ZERO)
    equity = cash + long_value + short_pnl
    notional = sum((p.notional for p in positions), ZERO)
    realised = ZERO
    for t in trades:
        if t.exit_time < boundary:
            continue
        realised += t.pnl
        if t.entry_time < boundary:
            sign = 1 if t.direction is Direction.LONG else -1
            moved = (_boundary_price(boundary_prices, t.symbol, boundary) - t.entry_price) * t.amount
            realised -= moved * sign
    unrealised_today = ZERO
    for p in positions:
        reference = p.entry_price if p.entry_time >= boundary else _boundary_price(
            boundary_prices, p.symbol, boundary)
        unrealised_today += p.unrealised_from(reference)
    return AccountKpis(
        total_equity=equity,
        cash=cash,
        exposure_pct=notional / equity * 100 if equity > 0 else ZERO,
        unrealised_pnl=sum((p.unrealised_pnl for p in positions), ZERO),
        realised_today=realised,
        unrealised_today=unrealised_today,
        day_start=boundary,
    )
