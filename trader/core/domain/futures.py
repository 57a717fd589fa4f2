"""Linear (USDT-margined) perpetual swaps: leverage, maintenance-margin tiers and the liquidation price.

Pure Decimal arithmetic, no I/O. The liquidation price of a one-way position (Binance's published
formula, which OKX and Bybit share for linear contracts) is the price at which the margin backing the
position plus its unrealised gain falls to the maintenance margin ``notional * rate - maintenance_amount``
of the tier its notional is in at that price. Isolated: the position's own margin backs it. Cross: the
account's free margin (the wallet balance available to the position) backs it too, so the price lies
further away. Fees and funding paid later shrink the margin and move the real liquidation price closer;
risk keeps a buffer for that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, TypeVar

from trader.core.domain.enums import Direction
from trader.core.domain.money import ONE, ZERO

if TYPE_CHECKING:
    from trader.core.domain.market import MarketSpec

MarginMode = Literal["isolated", "cross"]
MarketType = Literal["spot", "swap"]
MarketLike = TypeVar("MarketLike", bound="MarketSpec")


@dataclass(frozen=True, slots=True)
class MarginTier:
    """One maintenance-margin bracket: applies to a notional from ``floor`` up to the next tier's floor.

    ``maintenance_amount`` is the venue's "cum" deduction that keeps the maintenance margin continuous
    from one tier to the next; ``tiers_from`` computes it.
    """

    floor: Decimal
    rate: Decimal
    maintenance_amount: Decimal = ZERO
    max_leverage: Decimal | None = None


def tiers_from(brackets: Sequence[tuple[Decimal, Decimal]], max_leverage: Sequence[Decimal | None] = ()
               ) -> tuple[MarginTier, ...]:
    """Return tiers from (floor, rate) pairs ascending, with each tier's maintenance amount computed."""
    tiers: list[MarginTier] = []
    amount, previous = ZERO, ZERO
    for i, (floor, rate) in enumerate(brackets):
        amount += floor * (rate - previous)
        previous = rate
        cap = max_leverage[i] if i < len(max_leverage) else None
        tiers.append(MarginTier(floor, rate, amount, cap))
    return tuple(tiers)


# Used when the venue publishes no tiers for a market: steeper than Binance's BTCUSDT brackets, so a
# missing table makes risk more careful, never less.
DEFAULT_TIERS: tuple[MarginTier, ...] = tiers_from([
    (Decimal(0), Decimal("0.01")), (Decimal(50_000), Decimal("0.025")), (Decimal(250_000), Decimal("0.05")),
    (Decimal(1_000_000), Decimal("0.1")), (Decimal(5_000_000), Decimal("0.125")),
    (Decimal(10_000_000), Decimal("0.25")), (Decimal(20_000_000), Decimal("0.5")),
])


@dataclass(frozen=True, slots=True)
class FuturesTerms:
    """How a strategy trades one perpetual: leverage, margin mode and the market's margin tiers."""

    leverage: Decimal = ONE
    margin_mode: MarginMode = "isolated"
    tiers: tuple[MarginTier, ...] = DEFAULT_TIERS
    max_leverage: Decimal | None = None  # the venue's limit for the market, when it said

    def tier(self, notional: Decimal) -> MarginTier:
        """Return the tier a position of ``notional`` (quote, absolute) falls in."""
        found = self.tiers[0]
        for tier in self.tiers:
            if notional >= tier.floor:
                found = tier
        return found

    def initial_margin(self, notional: Decimal) -> Decimal:
        """Return the margin a position of ``notional`` locks."""
        return notional / self.leverage

    def maintenance_margin(self, notional: Decimal) -> Decimal:
        """Return the margin below which the venue liquidates a position of ``notional``.

        With the maintenance amounts of ``tiers_from`` this is the tier's ``notional * rate - amount``,
        which equals the largest of all tiers' lines (the function is continuous and convex).
        """
        return max(*(notional * t.rate - t.maintenance_amount for t in self.tiers), ZERO)

    def leverage_problem(self, notional: Decimal = ZERO) -> str | None:
        """Return why the leverage is not allowed on this market for ``notional`` (None when it is)."""
        if self.leverage < 1:
            return f"leverage {self.leverage} is below 1"
        if self.max_leverage is not None and self.leverage > self.max_leverage:
            return f"leverage {self.leverage}x is above the market's maximum {self.max_leverage}x"
        tier = self.tier(notional)
        if tier.max_leverage is not None and self.leverage > tier.max_leverage:
            return (f"leverage {self.leverage}x is above {tier.max_leverage}x, the maximum for a "
                    f"position of {notional:,.0f}")
        return None


@dataclass(frozen=True, slots=True)
class StrategyTrading:
    """How one strategy trades: whether it may short, and on a swap its leverage and margin mode."""

    allow_short: bool = False
    swap: bool = False
    leverage: Decimal = ONE
    margin_mode: MarginMode = "isolated"

    def market_for(self, market: MarketLike) -> MarketLike:
        """Return ``market`` with this strategy's leverage and margin mode on a swap (spot: unchanged)."""
        if not self.swap or market.futures is None:
            return market
        terms = replace(market.futures, leverage=self.leverage, margin_mode=self.margin_mode)
        return replace(market, futures=terms)


def swap_symbol(pair: str) -> str:
    """Return the unified symbol of ``pair``'s linear perpetual: 'BTC/USDT' -> 'BTC/USDT:USDT'."""
    if ":" in pair:
        return pair
    return f"{pair}:{pair.partition('/')[2]}"


def liquidation_price(direction: Direction, entry: Decimal, amount: Decimal, terms: FuturesTerms,
                      margin: Decimal | None = None, *, free: Decimal = ZERO) -> Decimal | None:
    """Return the liquidation price of ``amount`` entered at ``entry`` (None: never liquidated).

    ``margin`` is the position's own margin (default: the initial margin at ``terms.leverage``); funding
    and fees paid since entry are subtracted by the caller. On cross margin ``free`` (the account's
    margin not locked by any position) backs the position too; isolated ignores it. Long: backing +
    amount * (P - entry) equals the maintenance margin; short: backing + amount * (entry - P) does.
    """
    if amount <= 0 or entry <= 0:
        return None
    notional = amount * entry
    wallet = terms.initial_margin(notional) if margin is None else margin
    if terms.margin_mode == "cross":  # the free wallet balance is lost before the venue liquidates
        wallet += max(free, ZERO)
    # Each tier's line meets the margin balance at one price; since the maintenance margin is the
    # largest line, a long is liquidated at the highest of those prices and a short at the lowest,
    # whichever tier the notional has moved into by then.
    if direction is Direction.LONG:
        price = max((notional - wallet - t.maintenance_amount) / (amount * (ONE - t.rate))
                    for t in terms.tiers)
        return price if price > 0 else None
    return min((notional + wallet + t.maintenance_amount) / (amount * (ONE + t.rate)) for t in terms.tiers)


def margin_balance(direction: Direction, entry: Decimal, amount: Decimal, price: Decimal,
                   terms: FuturesTerms) -> Decimal:
    """Return the isolated margin plus the unrealised gain at ``price`` (before fees and funding)."""
    gain = (price - entry) * amount if direction is Direction.LONG else (entry - price) * amount
    return terms.initial_margin(amount * entry) + gain


def funding_payment(direction: Direction, amount: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """Return the quote a position PAYS at a funding time (negative: it receives).

    A positive rate means longs pay shorts.
    """
    sign = ONE if direction is Direction.LONG else -ONE
    return sign * amount * mark * rate
