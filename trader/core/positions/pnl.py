"""Profit and loss of a position, in the quote currency, all Decimal.

Conventions: ``realised_pnl`` is the price gain on the closed part minus every fee paid so far
(entry fees count as realised when paid), so ``realised + unrealised`` is the position's total PnL at
a mark price. A fee paid in the base currency on a long entry reduces the coins held; otherwise a
base-currency fee is valued at the fill price and counted in ``fees``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

from trader.core.domain.enums import Direction
from trader.core.domain.futures import FuturesTerms, liquidation_price
from trader.core.domain.money import ZERO
from trader.core.positions.state import Position, PositionStatus

_AVERAGE = Context(prec=38, rounding=ROUND_HALF_EVEN)
_AVERAGE_QUANTUM = Decimal(1).scaleb(-18)


def fee_split(amount: Decimal, price: Decimal, fee: Decimal, fee_in_base: bool,
              reduces_holding: bool) -> tuple[Decimal, Decimal]:
    """Return (base amount gained, fee in quote) for one fill of ``amount`` at ``price``."""
    if not fee_in_base:
        return amount, fee
    if reduces_holding:
        return amount - fee, fee * price
    return amount, fee * price


def average_price(old_amount: Decimal, old_price: Decimal | None, amount: Decimal,
                  price: Decimal) -> Decimal:
    """Return the volume-weighted average price after adding ``amount`` at ``price``, to 18 places.

    18 decimal places, half-even, is what the store keeps: a position reloaded from the store (live,
    paper, replay) then computes exactly the PnL of one that stayed in memory (the backtest).
    """
    if old_price is None or old_amount <= 0:
        return price
    exact = (old_amount * old_price + amount * price) / (old_amount + amount)
    return _AVERAGE.quantize(exact, _AVERAGE_QUANTUM)


def price_gain(direction: Direction, entry: Decimal, exit_price: Decimal, amount: Decimal) -> Decimal:
    """Return the quote gain of closing ``amount`` bought (long) or sold (short) at ``entry``, to 18 places
    (an averaged entry has 18 places already; the store keeps 18, see ``average_price``)."""
    diff = exit_price - entry if direction is Direction.LONG else entry - exit_price
    return _AVERAGE.quantize(diff * amount, _AVERAGE_QUANTUM)


def unrealised_pnl(position: Position, mark: Decimal) -> Decimal:
    """Return the gain of the still-held amount at ``mark``, before exit fees."""
    if position.entry_price is None:
        return ZERO
    return price_gain(position.direction, position.entry_price, mark, position.open_amount)


def total_pnl(position: Position, mark: Decimal) -> Decimal:
    """Return realised plus unrealised PnL at ``mark``."""
    return position.realised_pnl + unrealised_pnl(position, mark)


def cost_basis(position: Position) -> Decimal:
    """Return the quote value of the entry (executed amount times average entry price)."""
    if position.entry_price is None:
        return ZERO
    return position.entry_executed * position.entry_price


def return_fraction(position: Position, mark: Decimal) -> Decimal:
    """Return total PnL as a fraction of the cost basis (0 before any entry fill)."""
    basis = cost_basis(position)
    if basis <= 0:
        return ZERO
    return total_pnl(position, mark) / basis


def exposure(position: Position) -> Decimal:
    """Return the quote value committed: the requested amount while pending, else the held amount."""
    if not position.status.is_active:
        return ZERO
    price = position.entry_price or position.entry_limit or position.requested_price
    if price is None:
        return ZERO
    if position.status is PositionStatus.PENDING_ENTRY:
        return max(position.amount, position.filled) * price
    return position.open_amount * price


def position_liquidation(position: Position, terms: FuturesTerms | None, free: Decimal = ZERO
                         ) -> Decimal | None:
    """Return where the venue would liquidate the held amount (None on spot, flat, or never).

    The position's margin is the initial margin at its own leverage less the funding paid since; on
    cross margin the account's ``free`` margin backs it too.
    """
    if terms is None or position.entry_price is None or position.open_amount <= 0:
        return None
    own = FuturesTerms(position.leverage, terms.margin_mode, terms.tiers, terms.max_leverage)
    margin = own.initial_margin(position.open_amount * position.entry_price) - position.funding
    return liquidation_price(position.direction, position.entry_price, position.open_amount, own, margin,
                             free=free)
