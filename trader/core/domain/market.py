"""Market description and the one boundary where amounts and prices meet venue precision.

Amounts round down (never buy more than sized); stop prices round toward the safe side so rounding
never widens the risk (a long's stop rounds up, a short's down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from trader.core.domain.enums import Direction
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import Symbol
from trader.core.domain.money import ZERO, quantize_down, quantize_up


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the venue can hold for us; decides native vs engine-watched protection."""

    native_stop: bool = True
    stop_limit: bool = True
    oco: bool = False
    attached_stop: bool = False  # ccxt declares createOrderWithTakeProfitAndStopLoss (shown in the table)
    shorting: bool = False
    # The entry order can carry the stop (and with ``attached_take_profit`` the target too): the venue
    # places them itself when the entry fills (Bybit's TP/SL on the order, Kraken's conditional close).
    attached_bracket: bool = False
    attached_take_profit: bool = False
    attached_limit_only: bool = False  # only a limit entry may carry them (Bybit spot)


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """Precision steps, limits and fees of one market, all Decimal."""

    symbol: Symbol
    base: str
    quote: str
    amount_step: Decimal
    price_step: Decimal
    min_amount: Decimal = ZERO
    min_cost: Decimal = ZERO
    max_amount: Decimal | None = None
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    capabilities: Capabilities = field(default_factory=Capabilities)
    futures: FuturesTerms | None = None  # set for a perpetual swap traded with margin: leverage, tiers

    @property
    def is_futures(self) -> bool:
        """Return True for a perpetual swap (margin, leverage, funding; shorts allowed)."""
        return self.futures is not None

    def round_amount(self, amount: Decimal) -> Decimal:
        """Round an amount down to the amount step."""
        return quantize_down(amount, self.amount_step)

    def round_price(self, price: Decimal) -> Decimal:
        """Round a limit or fill price to the nearest tick."""
        # explicit half-even: ccxt's precision helpers change the thread's decimal context to HALF_UP
        return (price / self.price_step).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * self.price_step

    def round_stop(self, price: Decimal, direction: Direction) -> Decimal:
        """Round a stop price toward the position (tighter), never away from it."""
        if direction is Direction.LONG:
            return quantize_up(price, self.price_step)
        return quantize_down(price, self.price_step)

    def minimums_problem(self, amount: Decimal, price: Decimal) -> str | None:
        """Return why (amount, price) is below the venue's minimums, or None when it is tradable."""
        if amount <= 0:
            return "amount rounds to zero at the market's precision"
        if amount < self.min_amount:
            return f"amount {amount} is below the minimum {self.min_amount} {self.base}"
        cost = amount * price
        if cost < self.min_cost:
            return f"order value {cost:.8f} is below the minimum {self.min_cost} {self.quote}"
        if self.max_amount is not None and amount > self.max_amount:
            return f"amount {amount} is above the maximum {self.max_amount} {self.base}"
        return None
