"""Drift: compare the trades an account really made with the trades the backtest makes on the same candles.

Both sides are reduced to ``FilledTrade`` values built from fills (the account's stored fills, the
backtest ledger's fills), so a fill changed after the fact shows up. ``compare`` pairs the trades of
each pair and direction by entry time (less than ``Tolerance.time`` apart, one candle) and splits
the PnL difference of every matched trade exactly into

- slippage: entry price difference, and exit price difference when both exited for the same reason
  on the same candle;
- fees: the difference of the fees paid;
- size: a different amount within ``Tolerance.amount`` (sizing on a slightly different equity, which
  is what slippage and fees of earlier trades cause);
- logic: what the decisions changed: a different exit reason or exit candle (the exit price
  difference counts here then), or an amount beyond the tolerance (the size part counts here then).

A trade only one side made is *missing* (the backtest made it, the account did not) or *extra* (the
account made it, the backtest did not); both are logic differences with their whole PnL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from trader.core.domain.enums import Direction, OrderPurpose
from trader.core.domain.ids import ClientOrderId, client_order_id, split_symbol
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill
from trader.core.positions.state import Position, PositionStatus


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a trade from its fills: first/last fill time, average price, amount, fee in quote."""

    time: datetime
    price: Decimal
    amount: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class FilledTrade:
    """A closed position as its fills tell it; ``pnl`` is in the quote currency, fees subtracted."""

    id: str
    symbol: str
    strategy: str
    direction: Direction
    entry: Leg
    exit: Leg
    exit_reason: str

    @property
    def sign(self) -> int:
        """Return +1 for a long, -1 for a short."""
        return 1 if self.direction is Direction.LONG else -1

    @property
    def fees(self) -> Decimal:
        """Return the fees of both legs."""
        return self.entry.fee + self.exit.fee

    @property
    def pnl(self) -> Decimal:
        """Return the exited amount times the price move, less every fee (a base-currency entry fee is
        in ``entry.fee`` at the entry price, so it is counted once)."""
        return self.sign * (self.exit.price - self.entry.price) * self.exit.amount - self.fees


def order_purposes(position: Position) -> dict[ClientOrderId, OrderPurpose]:
    """Return the client id of every order the position placed (they are deterministic) and its purpose."""
    counts = ((OrderPurpose.ENTRY, position.entry_attempt), (OrderPurpose.STOP, position.stop_attempt),
              (OrderPurpose.TAKE_PROFIT, position.tp_attempt), (OrderPurpose.EXIT, position.exit_attempt))
    return {client_order_id(position.id, purpose, attempt): purpose
            for purpose, count in counts for attempt in range(count)}


def _leg(fills: Sequence[Fill], quote: str, *, last: bool) -> Leg | None:
    amount = sum((f.amount for f in fills), ZERO)
    if not fills or amount <= 0:
        return None
    cost = sum((f.amount * f.price for f in fills), ZERO)
    base = split_symbol(fills[0].symbol)[0]
    fee = sum((f.fee if f.fee_currency == quote else f.fee * f.price if f.fee_currency == base else ZERO
               for f in fills), ZERO)  # a fee in a third currency (BNB) has no price here: left out
    times = sorted(f.timestamp for f in fills)
    return Leg(times[-1] if last else times[0], cost / amount, amount, fee)


def filled_trade(position: Position, fills: Mapping[ClientOrderId, Sequence[Fill]],
                 quote: str) -> FilledTrade | None:
    """Return the trade of a closed position from its orders' fills; None when it is not closed or a leg
    has no fill."""
    if position.status is not PositionStatus.CLOSED:
        return None
    entry: list[Fill] = []
    exits: list[Fill] = []
    for order_id, purpose in order_purposes(position).items():
        (entry if purpose is OrderPurpose.ENTRY else exits).extend(fills.get(order_id, ()))
    opened, closed = _leg(entry, quote, last=False), _leg(exits, quote, last=True)
    if opened is None or closed is None:
        return None
    reason = position.exit_reason.value if position.exit_reason is not None else ""
    return FilledTrade(position.id, position.symbol, position.strategy, position.direction, opened, closed,
                       reason)


def filled_trades(positions: Iterable[Position], fills: Iterable[Fill], quote: str) -> list[FilledTrade]:
    """Return the closed trades of ``positions`` built from ``fills``, oldest entry first."""
    by_order: dict[ClientOrderId, list[Fill]] = {}
    for fill in fills:
        by_order.setdefault(fill.client_order_id, []).append(fill)
    trades = (filled_trade(p, by_order, quote) for p in positions)
    return sorted((t for t in trades if t is not None), key=lambda t: (t.entry.time, t.symbol, t.id))


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far two trades may differ and still be the same decision."""

    # Entry and exit times differ by less than this (one candle: a backtest fill is stamped with its
    # candle's open, a live fill lands inside that same candle); a whole candle later is another decision.
    time: timedelta
    amount: Decimal = Decimal("0.05")  # relative amount difference still counted as sizing on another equity


class Status(StrEnum):
    """How a trade of either side was found in the other."""

    MATCHED = "matched"
    MISSING = "missing"  # the backtest made it, the account did not
    EXTRA = "extra"  # the account made it, the backtest did not


class Why(StrEnum):
    """Which decision differed."""

    NOT_TAKEN = "trade not taken"
    NOT_EXPECTED = "trade the backtest did not take"
    EXIT_REASON = "exit reason"
    EXIT_TIME = "exit time"
    SIZE = "size"


@dataclass(frozen=True, slots=True)
class TradeDrift:
    """One trade of either side with the parts of its PnL difference (account minus backtest)."""

    status: Status
    expected: FilledTrade | None
    actual: FilledTrade | None
    slippage: Decimal = ZERO
    fees: Decimal = ZERO
    size: Decimal = ZERO
    logic: Decimal = ZERO
    why: tuple[Why, ...] = ()

    @property
    def is_logic(self) -> bool:
        """Return True when a decision differed (an alert)."""
        return bool(self.why)

    @property
    def pnl_difference(self) -> Decimal:
        """Return the account's PnL minus the backtest's for this trade (the sum of the four parts)."""
        return self.slippage + self.fees + self.size + self.logic

    @property
    def trade(self) -> FilledTrade:
        """Return the account's side when it exists, else the backtest's."""
        trade = self.actual or self.expected
        assert trade is not None  # a drift always has at least one side
        return trade

    @property
    def symbol(self) -> str:
        """Return the pair of the trade."""
        return self.trade.symbol

    @property
    def entry_time(self) -> datetime:
        """Return the account's entry time, else the backtest's."""
        return self.trade.entry.time


@dataclass(frozen=True, slots=True)
class DriftResult:
    """Every trade of both sides, in entry time order."""

    trades: tuple[TradeDrift, ...]

    def count(self, status: Status) -> int:
        """Return how many trades have ``status``."""
        return sum(1 for t in self.trades if t.status is status)

    @property
    def logic_differences(self) -> tuple[TradeDrift, ...]:
        """Return the trades whose decisions differ."""
        return tuple(t for t in self.trades if t.is_logic)

    def total(self, part: str) -> Decimal:
        """Return the sum of one part (slippage, fees, size, logic) over every trade."""
        return sum((getattr(t, part) for t in self.trades), ZERO)


def _pair(expected: FilledTrade, actual: FilledTrade, tolerance: Tolerance) -> TradeDrift:
    s = actual.sign
    q_a, q_e = actual.exit.amount, expected.exit.amount
    entry_part = -s * q_a * (actual.entry.price - expected.entry.price)
    exit_part = s * q_a * (actual.exit.price - expected.exit.price)
    size_part = s * (q_a - q_e) * (expected.exit.price - expected.entry.price)
    fee_part = expected.fees - actual.fees
    why: list[Why] = []
    if actual.exit_reason != expected.exit_reason:
        why.append(Why.EXIT_REASON)
    if abs(actual.exit.time - expected.exit.time) >= tolerance.time:
        why.append(Why.EXIT_TIME)
    size_logic = q_e > 0 and abs(q_a - q_e) / q_e > tolerance.amount
    if size_logic:
        why.append(Why.SIZE)
    exit_logic = Why.EXIT_REASON in why or Why.EXIT_TIME in why
    return TradeDrift(
        Status.MATCHED, expected, actual,
        slippage=entry_part + (ZERO if exit_logic else exit_part), fees=fee_part,
        size=ZERO if size_logic else size_part,
        logic=(exit_part if exit_logic else ZERO) + (size_part if size_logic else ZERO), why=tuple(why))


def compare(expected: Sequence[FilledTrade], actual: Sequence[FilledTrade],
            tolerance: Tolerance) -> DriftResult:
    """Match the backtest's trades (``expected``) with the account's (``actual``) and return the drift.

    Per pair and direction, in entry time order, each backtest trade takes the earliest unmatched
    account trade whose entry is less than ``tolerance.time`` from its own.
    """
    out: list[TradeDrift] = []
    taken: set[int] = set()
    groups: dict[tuple[str, Direction], list[int]] = {}
    for k, trade in enumerate(actual):
        groups.setdefault((trade.symbol, trade.direction), []).append(k)
    for trade in sorted(expected, key=lambda t: t.entry.time):
        candidates = groups.get((trade.symbol, trade.direction), [])
        found = next((k for k in candidates if k not in taken
                      and abs(actual[k].entry.time - trade.entry.time) < tolerance.time), None)
        if found is None:
            out.append(TradeDrift(Status.MISSING, trade, None, logic=-trade.pnl, why=(Why.NOT_TAKEN,)))
            continue
        taken.add(found)
        out.append(_pair(trade, actual[found], tolerance))
    out += [TradeDrift(Status.EXTRA, None, t, logic=t.pnl, why=(Why.NOT_EXPECTED,))
            for k, t in enumerate(actual) if k not in taken]
    return DriftResult(tuple(sorted(out, key=lambda t: (t.entry_time, t.symbol))))
