"""Pair groups inside the engine: the ``pair_group`` machine's leg orders as commands, fills as its inputs.

``engine.step`` calls these pure functions; they never do I/O. A group's legs are not ``Position``s
(a position carries its own stop, and a stop on one leg alone would leave the group half open): the
group closes both legs together on the strategy's exit or stop, on a halt or a manual close. Each leg
order is a market ``PlaceOrder`` whose ``position_id`` is ``<group id>:<leg>`` and whose client id is
deterministic (``ENTRY`` attempt 0 to open, ``EXIT`` attempt k for the k-th closing or unwinding
order), so the outbox, the order sync and reconciliation treat them like every other order.

Bookkeeping per leg (``LegBook``): average entry and exit price, closing amount filled, fees (quote) and
the closing orders still working with what is left of each, so a closing order the venue drops is
sent again for its rest. A group is settled (CLOSED or FAILED) once no opening order can still fill
and every coin bought or sold short has been sent back and filled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from trader.core.domain.commands import CancelOrder, Command, PlaceOrder
from trader.core.domain.entries import RefusalReason, Refused
from trader.core.domain.enums import Direction, ExitReason, OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol, client_order_id
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill, OrderRequest
from trader.core.engine.orders import OrderUpdate
from trader.core.positions import pair_group as pg
from trader.core.positions.pnl import average_price
from trader.core.positions.state import Position, PositionStatus

_DROPPED = frozenset({OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})
_EXIT_REASONS = frozenset(r.value for r in ExitReason)


@dataclass(frozen=True, slots=True)
class PairSignal:
    """The pairs strategy's row for the candle that just closed, for the couple (``y``, ``x``).

    ``enter_long`` buys the spread (long y, short x), ``enter_short`` sells it; ``exit_*`` is the target
    and ``stop_*`` the stop of a held side (``strategies.pairs.pair_signals``).
    """

    y: Symbol
    x: Symbol
    beta: float
    zscore: float
    enter_long: bool = False
    enter_short: bool = False
    exit_long: bool = False
    exit_short: bool = False
    stop_long: bool = False
    stop_short: bool = False

    @property
    def key(self) -> str:
        """Return the couple's key (``StepInput.pair_signals`` is keyed by it)."""
        return pair_key(self.y, self.x)


def pair_key(y: str, x: str) -> str:
    """Return the key of the couple (y, x)."""
    return f"{y}|{x}"


@dataclass(frozen=True, slots=True)
class LegBook:
    """Money of one leg: average prices, closing fills, fees (quote) and its working closing orders."""

    entry_price: Decimal | None = None
    exit_filled: Decimal = ZERO
    exit_price: Decimal | None = None
    fees: Decimal = ZERO
    exits_sent: int = 0  # closing/unwinding orders sent: the next one's client id attempt
    working: tuple[tuple[ClientOrderId, Decimal], ...] = ()  # closing orders and what is left of each
    retry: Decimal = ZERO  # left by closing orders the venue dropped: sent again at the next price
    funding: Decimal = ZERO  # perpetual swaps: funding paid on this leg (negative: received)

    def pnl(self, side: Side, held: Decimal, mark: Decimal | None = None) -> Decimal:
        """Return this leg's PnL after fees: realised on what was closed, marked at ``mark`` on the rest."""
        if self.entry_price is None:
            return -self.fees - self.funding
        sign = 1 if side is Side.BUY else -1
        done = ZERO if self.exit_price is None else \
            sign * (self.exit_price - self.entry_price) * self.exit_filled
        left = held - self.exit_filled
        marked = ZERO if mark is None or left <= 0 else sign * (mark - self.entry_price) * left
        return done + marked - self.fees - self.funding


@dataclass(frozen=True, slots=True)
class GroupPosition:
    """One pair trade of a strategy: the group machine's state plus each leg's money."""

    group: pg.PairGroup
    strategy: str
    side: int  # +1: long the spread (long y, short x); -1: short the spread
    beta: Decimal
    zscore: float  # z when the entry was signalled
    books: tuple[LegBook, LegBook]
    created_at: datetime
    reduce_only: bool = False  # closing orders are reduce-only (perpetual swaps)
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    exit_reason: str = ""

    @property
    def id(self) -> str:
        """Return the group id."""
        return self.group.id

    @property
    def key(self) -> str:
        """Return the couple's key."""
        return pair_key(self.group.legs[0].symbol, self.group.legs[1].symbol)

    @property
    def symbols(self) -> tuple[Symbol, Symbol]:
        """Return the y and x pairs."""
        return Symbol(self.group.legs[0].symbol), Symbol(self.group.legs[1].symbol)

    @property
    def realised_pnl(self) -> Decimal:
        """Return the PnL of both legs after fees on what was closed (the whole PnL once settled)."""
        legs = zip(self.group.legs, self.books, strict=True)
        return sum((book.pnl(leg.side, book.exit_filled) for leg, book in legs), ZERO)

    @property
    def settled(self) -> bool:
        """Return True when flat for good: no opening order can fill and all sent back has filled."""
        g = self.group
        if g.status not in (pg.GroupStatus.CLOSING, pg.GroupStatus.UNWINDING):
            return False
        for leg, book in zip(g.legs, self.books, strict=True):
            if g.status is pg.GroupStatus.UNWINDING and not (leg.complete or leg.failed):
                return False  # its opening order may still fill (a cancel is on its way)
            if book.exit_filled < leg.held or book.working or book.retry:
                return False
        return True


def leg_position_id(group_id: str, leg: int) -> PositionId:
    """Return the ``position_id`` the leg's orders carry."""
    return PositionId(f"{group_id}:{leg}")


def split_leg_id(position_id: str) -> tuple[str, int] | None:
    """Return (group id, leg) of a leg's ``position_id``, or None for a plain position id."""
    group_id, sep, leg = position_id.rpartition(":")
    return (group_id, int(leg)) if sep and leg in ("0", "1") else None


def open_pair(group_id: str, signal: PairSignal, side: int, prices: tuple[Decimal, Decimal],  # noqa: PLR0913, PLR0917
              markets: tuple[MarketSpec, MarketSpec], equity: Decimal, free: Decimal, leg_fraction: Decimal,
              strategy: str, now: datetime) -> Refused | tuple[GroupPosition, tuple[Command, ...], Decimal]:
    """Size both legs (y: ``leg_fraction`` x equity, x: beta x that) and return the group, its two
    opening orders and the quote they tie up; or the refusal."""
    beta = Decimal(repr(signal.beta))
    if not beta > 0:
        return Refused(RefusalReason.INVALID_REQUEST, f"pairs: hedge ratio {signal.beta:.4g} is not positive")
    notional_y = equity * leg_fraction
    amounts = [markets[0].round_amount(notional_y / prices[0]),
               markets[1].round_amount(notional_y * beta / prices[1])]
    for market, amount, price in zip(markets, amounts, prices, strict=True):
        problem = market.minimums_problem(amount, price) if amount > 0 else f"{market.symbol}: nothing to buy"
        if problem is not None:
            return Refused(RefusalReason.BELOW_MINIMUM, f"pairs leg {market.symbol}: {problem}")
    sides = (Side.BUY, Side.SELL) if side > 0 else (Side.SELL, Side.BUY)
    cost = ZERO
    for market, amount, price, leg_side in zip(markets, amounts, prices, sides, strict=True):
        notional = amount * price
        if market.futures is not None:
            cost += notional / market.futures.leverage  # the margin of either side
        elif leg_side is Side.BUY:
            cost += notional  # a spot sell spends coins held, not quote (the venue refuses it without them)
        cost += notional * market.taker_fee
    if cost > free:
        return Refused(RefusalReason.INSUFFICIENT_FUNDS,
                       f"pairs: both legs need {cost:.2f} {markets[0].quote}, {free:.2f} free")
    legs = [pg.Leg(s, sd, a) for s, sd, a in zip((signal.y, signal.x), sides, amounts, strict=True)]
    group, orders = pg.open_group(group_id, legs[0], legs[1])
    swap = all(m.futures is not None for m in markets)
    gp = GroupPosition(group, strategy, side, beta, signal.zscore, (LegBook(), LegBook()), now,
                       reduce_only=swap)
    gp, commands = _send(gp, orders)
    return gp, commands, cost


def close_pair(gp: GroupPosition, reason: str, now: datetime) -> tuple[GroupPosition, tuple[Command, ...]]:
    """Close both legs of an OPEN group together.

    An OPENING group keeps ``reason`` and cancels the opening orders still working: a cancelled leg
    unwinds the other (the group ends FAILED and flat), and a group whose legs both filled before the
    cancels landed is closed as soon as it is open (``on_update``). A group already going flat is left
    alone.
    """
    if gp.group.status is pg.GroupStatus.OPENING and not gp.exit_reason:
        working = tuple(pg.CancelLeg(i, leg.symbol) for i, leg in enumerate(gp.group.legs)
                        if not leg.complete and not leg.failed)
        return _send(replace(gp, exit_reason=reason), working)
    if gp.group.status is not pg.GroupStatus.OPEN:
        return gp, ()
    group, orders = pg.close_group(gp.group)
    return _send(replace(gp, group=group, exit_reason=reason, closed_at=None), orders)


def on_update(gp: GroupPosition, leg: int, update: OrderUpdate,
              now: datetime) -> tuple[GroupPosition, tuple[Command, ...]]:
    """Book one order update of a leg: opening or closing fill, dropped order (unwind or send again)."""
    opening = update.client_order_id == client_order_id(leg_position_id(gp.id, leg), OrderPurpose.ENTRY, 0)
    if update.fill is not None:
        return _on_fill(gp, leg, update.fill, opening=opening, now=now)
    if update.status not in _DROPPED:
        return gp, ()
    if opening:
        group, orders = pg.on_open_failed(gp.group, leg)
        return _send(replace(gp, group=group), orders)
    book = gp.books[leg]
    left = dict(book.working).pop(update.client_order_id, None)
    if left is None:
        return gp, ()
    # the venue dropped a closing order: its rest goes out again with the next price (``resend``), not at
    # once, so a venue refusing every order is not asked again and again within one cycle
    book = replace(book, working=tuple((c, a) for c, a in book.working if c != update.client_order_id),
                   retry=book.retry + max(left, ZERO))
    return replace(gp, books=_with(gp.books, leg, book)), ()


def resend(gp: GroupPosition) -> tuple[GroupPosition, tuple[Command, ...]]:
    """Send again what dropped closing orders left (``LegBook.retry``) of each leg."""
    legs = enumerate(zip(gp.group.legs, gp.books, strict=True))
    orders = tuple(pg.LegOrder(i, leg.symbol, leg.side.opposite, book.retry, pg.LegPurpose.CLOSE)
                   for i, (leg, book) in legs if book.retry > 0)
    if not orders:
        return gp, ()
    books = (replace(gp.books[0], retry=ZERO), replace(gp.books[1], retry=ZERO))
    return _send(replace(gp, books=books), orders)


def legs_holding(groups: Iterable[GroupPosition], symbol: str) -> list[tuple[str, int, Decimal]]:
    """Return (group id, leg, amount still held) of every group leg holding ``symbol``."""
    return [(g.id, i, leg.held - book.exit_filled)
            for g in groups for i, (leg, book) in enumerate(zip(g.group.legs, g.books, strict=True))
            if leg.symbol == symbol and leg.held - book.exit_filled > 0]


def book_funding(gp: GroupPosition, leg: int, paid: Decimal) -> GroupPosition:
    """Return ``gp`` with ``paid`` (quote; negative: received) of funding booked on ``leg``."""
    book = gp.books[leg]
    return replace(gp, books=_with(gp.books, leg, replace(book, funding=book.funding + paid)))


def finish(gp: GroupPosition, now: datetime) -> GroupPosition:
    """Return the settled group as CLOSED (it was open) or FAILED (it never was)."""
    return replace(gp, group=pg.on_flat(gp.group), closed_at=now)


def leg_positions(done: GroupPosition, leverages: tuple[Decimal, Decimal] = (Decimal(1), Decimal(1)),
                  ) -> tuple[Position, ...]:
    """Return each leg of a finished group that held coins as a CLOSED ``Position`` (the trade record).

    The trade history, /profit and the KPIs read finished positions; a group's legs are recorded there
    once, under the leg's ``position_id`` (``<group id>:<leg>``), so a store upsert of the same group
    again (a replay, a restart) never adds a second record. The PnL is ``LegBook.pnl`` on what was
    closed, the same number /positions showed for the leg and ``realised_pnl`` sums for the group, so
    it has the leg's fees and funding subtracted as a single position's has. A leg that never filled
    (a FAILED group's rejected leg) is no trade and is left out.
    """
    reason = ExitReason(done.exit_reason) if done.exit_reason in _EXIT_REASONS else None
    note = "" if done.group.status is pg.GroupStatus.CLOSED else "pair group failed: the other leg unwound"
    positions = []
    for i, (leg, book, leverage) in enumerate(zip(done.group.legs, done.books, leverages, strict=True)):
        if leg.held <= 0:
            continue
        positions.append(Position(
            leg_position_id(done.id, i), Symbol(leg.symbol), done.strategy,
            Direction.LONG if leg.side is Side.BUY else Direction.SHORT, PositionStatus.CLOSED, leg.amount,
            filled=leg.held, entry_price=book.entry_price, exit_filled=book.exit_filled,
            exit_price=book.exit_price, reason=f"pairs z={done.zscore:.2f} beta={done.beta}",
            opened_at=done.opened_at or done.created_at, closed_at=done.closed_at, exit_reason=reason,
            fees=book.fees, realised_pnl=book.pnl(leg.side, book.exit_filled), created_at=done.created_at,
            entry_executed=leg.held, note=note, leverage=leverage, funding=book.funding,
            entry_attempt=1, exit_attempt=book.exits_sent))  # its orders' client ids (drift reads them)
    return tuple(positions)


def _on_fill(gp: GroupPosition, leg: int, fill: Fill, *, opening: bool,
             now: datetime) -> tuple[GroupPosition, tuple[Command, ...]]:
    book = gp.books[leg]
    base = fill.symbol.split("/")[0]
    fee = fill.fee * fill.price if fill.fee and fill.fee_currency == base else fill.fee
    if opening:
        held = gp.group.legs[leg].held
        book = replace(book, entry_price=average_price(held, book.entry_price, fill.amount, fill.price),
                       fees=book.fees + fee)
        group, orders = pg.on_open_fill(gp.group, leg, fill.amount)
        opened_at = now if group.status is pg.GroupStatus.OPEN and gp.opened_at is None else gp.opened_at
        gp, commands = _send(replace(gp, group=group, books=_with(gp.books, leg, book), opened_at=opened_at),
                             orders)
        if group.status is pg.GroupStatus.OPEN and gp.exit_reason:  # a close was asked while it opened
            gp, closing = close_pair(gp, gp.exit_reason, now)
            commands = (*commands, *closing)
        return gp, commands
    working = []
    for cid, left in book.working:
        rest = left - fill.amount if cid == fill.client_order_id else left
        if rest > 0:
            working.append((cid, rest))
    book = replace(book, exit_price=average_price(book.exit_filled, book.exit_price, fill.amount, fill.price),
                   exit_filled=book.exit_filled + fill.amount, fees=book.fees + fee, working=tuple(working))
    return replace(gp, books=_with(gp.books, leg, book)), ()


def _send(gp: GroupPosition,
          orders: tuple[pg.GroupCommand, ...]) -> tuple[GroupPosition, tuple[Command, ...]]:
    commands: list[Command] = []
    books = list(gp.books)
    for order in orders:
        position_id = leg_position_id(gp.id, order.leg)
        if isinstance(order, pg.CancelLeg):
            entry = client_order_id(position_id, OrderPurpose.ENTRY, 0)
            commands.append(CancelOrder(Symbol(order.symbol), entry))
            continue
        if order.purpose is pg.LegPurpose.OPEN:
            cid, purpose = client_order_id(position_id, OrderPurpose.ENTRY, 0), OrderPurpose.ENTRY
        else:
            book = books[order.leg]
            cid, purpose = client_order_id(position_id, OrderPurpose.EXIT, book.exits_sent), OrderPurpose.EXIT
            books[order.leg] = replace(book, exits_sent=book.exits_sent + 1,
                                       working=(*book.working, (cid, order.amount)))
        reduce_only = gp.reduce_only and purpose is OrderPurpose.EXIT
        request = OrderRequest(cid, position_id, Symbol(order.symbol), order.side, OrderType.MARKET, purpose,
                               order.amount, reduce_only=reduce_only)
        commands.append(PlaceOrder(request))
    return replace(gp, books=(books[0], books[1])), tuple(commands)


def _with(books: tuple[LegBook, LegBook], i: int, book: LegBook) -> tuple[LegBook, LegBook]:
    return (book, books[1]) if i == 0 else (books[0], book)
