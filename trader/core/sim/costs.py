"""Trading costs of the simulator: fees per side and slippage on taker fills.

Fees are a fraction of the fill's quote value, charged in the quote currency on every fill (entry and
exit each pay one side). Slippage moves taker fills (market orders, triggered stops) against the trader:
buys fill higher, sells lower. Resting limit orders (take-profits) fill at their price, as makers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from trader.core.domain.enums import Side
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ONE, ZERO


class Liquidity(StrEnum):
    """Whether a fill took liquidity (market, triggered stop) or rested in the book (limit)."""

    TAKER = "taker"
    MAKER = "maker"


@dataclass(frozen=True, slots=True)
class FeeModel:
    """Fee rates per side as fractions of the fill's quote value (0.001 = 0.1 %)."""

    taker: Decimal = Decimal("0.001")
    maker: Decimal = Decimal("0.001")

    def __post_init__(self) -> None:
        if not (ZERO <= self.taker < ONE and ZERO <= self.maker < ONE):
            raise ValueError(f"fee rates must be in [0, 1): taker={self.taker} maker={self.maker}")

    @classmethod
    def flat(cls, rate: Decimal) -> FeeModel:
        """Return a model charging ``rate`` on both maker and taker fills."""
        return cls(taker=rate, maker=rate)

    @classmethod
    def from_market(cls, market: MarketSpec) -> FeeModel:
        """Return the market's own maker/taker rates."""
        return cls(taker=market.taker_fee, maker=market.maker_fee)

    def rate(self, liquidity: Liquidity) -> Decimal:
        """Return the fee fraction for a fill of this liquidity."""
        return self.taker if liquidity is Liquidity.TAKER else self.maker

    def fee(self, notional: Decimal, liquidity: Liquidity) -> Decimal:
        """Return the quote-currency fee on a fill worth ``notional`` quote."""
        return notional * self.rate(liquidity)


@dataclass(frozen=True, slots=True)
class SlippageModel:
    """Proportional slippage applied to taker fills, always against the trader."""

    rate: Decimal = ZERO

    def __post_init__(self) -> None:
        if not ZERO <= self.rate < ONE:
            raise ValueError(f"slippage must be in [0, 1): {self.rate}")

    def apply(self, price: Decimal, side: Side) -> Decimal:
        """Return ``price`` moved against a ``side`` taker: up for buys, down for sells."""
        if self.rate == ZERO:
            return price
        return price * (ONE + self.rate) if side is Side.BUY else price * (ONE - self.rate)
