"""Performance tables (by pair, strategy, day/week/month) and the paged, filtered trade history.

Rows are frozen dataclasses that the services turn into DTOs and ``rows_csv`` exports. A trade counts in
the period in which it closed (PnL is realised at exit). Weeks are ISO weeks (Monday 00:00 UTC).
Grouping is a single pass with exact Decimal sums: 10,000 trades take milliseconds.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from trader.core.analytics.records import TradeRecord
from trader.core.domain.enums import Direction
from trader.core.domain.money import ZERO
from trader.core.errors import InputError


class Period(StrEnum):
    """Calendar bucket of a performance table (UTC)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Outcome(StrEnum):
    """Trade outcome filter."""

    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class PerformanceRow:
    """Aggregate of the trades sharing ``key`` (a pair, a strategy, or a period label)."""

    key: str
    trades: int
    wins: int
    losses: int
    pnl: Decimal
    fees: Decimal
    win_rate: float | None
    profit_factor: float | None
    average_return: Decimal | None  # mean of the trades' return fractions


def _row(key: str, trades: Sequence[TradeRecord]) -> PerformanceRow:
    wins = sum(1 for t in trades if t.is_win)
    losses = sum(1 for t in trades if t.is_loss)
    profit = sum((t.pnl for t in trades if t.pnl > 0), ZERO)
    loss = -sum((t.pnl for t in trades if t.pnl < 0), ZERO)
    factor = float(profit / loss) if loss else (math.inf if profit else None)
    n = len(trades)
    return PerformanceRow(
        key=key, trades=n, wins=wins, losses=losses,
        pnl=sum((t.pnl for t in trades), ZERO), fees=sum((t.fees for t in trades), ZERO),
        win_rate=wins / n if n else None, profit_factor=factor,
        average_return=sum((t.return_fraction for t in trades), ZERO) / n if n else None,
    )


def _group(trades: Iterable[TradeRecord], key: Callable[[TradeRecord], str]) -> dict[str, list[TradeRecord]]:
    groups: dict[str, list[TradeRecord]] = {}
    for t in trades:
        groups.setdefault(key(t), []).append(t)
    return groups


def by_pair(trades: Iterable[TradeRecord]) -> list[PerformanceRow]:
    """Return one row per pair, best PnL first."""
    rows = [_row(k, v) for k, v in _group(trades, lambda t: t.symbol).items()]
    return sorted(rows, key=lambda r: (-r.pnl, r.key))


def by_strategy(trades: Iterable[TradeRecord]) -> list[PerformanceRow]:
    """Return one row per strategy, best PnL first."""
    rows = [_row(k, v) for k, v in _group(trades, lambda t: t.strategy).items()]
    return sorted(rows, key=lambda r: (-r.pnl, r.key))


def period_start(moment: datetime, period: Period) -> datetime:
    """Return the UTC start of the day, ISO week or month containing ``moment``."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return day
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next(start: datetime, period: Period) -> datetime:
    if period is Period.DAY:
        return start + timedelta(days=1)
    if period is Period.WEEK:
        return start + timedelta(weeks=1)
    return (start + timedelta(days=32)).replace(day=1)


def period_label(start: datetime, period: Period) -> str:
    """Return ``2024-03-05``, ``2024-W10`` or ``2024-03``."""
    if period is Period.DAY:
        return start.strftime("%Y-%m-%d")
    if period is Period.WEEK:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.strftime("%Y-%m")


def by_period(trades: Iterable[TradeRecord], period: Period, *, start: datetime | None = None,
              end: datetime | None = None) -> list[PerformanceRow]:
    """Return one row per period from ``start`` to ``end`` (default: first to last exit), oldest first.

    Periods without trades are included with zero PnL, so "last 7 days" always shows 7 rows.
    """
    groups = _group(trades, lambda t: period_start(t.exit_time, period).isoformat())
    if not groups and (start is None or end is None):
        return []
    first = period_start(start, period) if start else datetime.fromisoformat(min(groups))
    last = period_start(end, period) if end else datetime.fromisoformat(max(groups))
    rows: list[PerformanceRow] = []
    cursor = first
    while cursor <= last:
        rows.append(_row(period_label(cursor, period), groups.get(cursor.isoformat(), [])))
        cursor = _next(cursor, period)
    return rows


@dataclass(frozen=True, slots=True)
class TradeFilter:
    """Trade history filter; None means any. ``since``/``until`` bound the exit time [since, until)."""

    symbol: str | None = None
    strategy: str | None = None
    direction: Direction | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, trade: TradeRecord) -> bool:
        """Return True when ``trade`` passes every set criterion."""
        if self.symbol is not None and trade.symbol != self.symbol:
            return False
        if self.strategy is not None and trade.strategy != self.strategy:
            return False
        if self.direction is not None and trade.direction is not self.direction:
            return False
        if self.outcome is Outcome.WON and not trade.is_win:
            return False
        if self.outcome is Outcome.LOST and not trade.is_loss:
            return False
        if self.since is not None and trade.exit_time < self.since:
            return False
        return self.until is None or trade.exit_time < self.until


@dataclass(frozen=True, slots=True)
class TradeHistoryPage:
    """One page of the filtered history, newest exit first, and how many trades matched in all."""

    trades: tuple[TradeRecord, ...]
    total: int


def select_trades(trades: Iterable[TradeRecord], selection: TradeFilter = TradeFilter()) -> list[TradeRecord]:
    """Return the trades matching ``selection``, newest exit first (the one history order)."""
    return sorted((t for t in trades if selection.matches(t)), key=lambda t: t.exit_time, reverse=True)


def trade_history(trades: Iterable[TradeRecord], selection: TradeFilter = TradeFilter(), *,
                  page: int = 0, page_size: int = 10) -> TradeHistoryPage:
    """Return page ``page`` (from 0) of the trades matching ``selection``; a page past the end is empty.

    The one trade-history implementation: /trades, the web API and the CLI all page through it.
    """
    if page < 0 or page_size < 1:
        raise InputError(f"bad page {page} of size {page_size}", user_message="Page numbers start at 1.")
    chosen = select_trades(trades, selection)
    return TradeHistoryPage(tuple(chosen[page * page_size:(page + 1) * page_size]), len(chosen))


HISTORY_COLUMNS = ("id", "symbol", "strategy", "direction", "entry_time", "exit_time", "entry_price",
                   "exit_price", "amount", "fees", "pnl", "return_fraction", "exit_reason", "duration")


def rows_csv(rows: Sequence[PerformanceRow]) -> str:
    """Return performance rows as CSV text with a header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.name for f in fields(PerformanceRow)])
    for row in rows:
        writer.writerow([_cell(v) for v in astuple(row)])
    return out.getvalue()


def history_csv(trades: Iterable[TradeRecord], selection: TradeFilter = TradeFilter()) -> str:
    """Return every trade matching ``selection`` (newest first, unpaged) as CSV text (ISO times, seconds)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for trade in select_trades(trades, selection):
        writer.writerow([_cell(getattr(trade, name)) for name in HISTORY_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if value is None:
        return ""
    return value
