"""Market descriptions for backtests when no venue data is at hand.

Defaults follow Binance spot's conventions for USDT pairs (the bundled data's venue): an amount step
and a tick of about one part in a million of the typical price, a 5 USDT minimum order value, and an
OCO order so the stop and the take-profit rest together (the live engine approximates this on venues
without OCO by swapping the resting order; see positions.protection).
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import Symbol, split_symbol
from trader.core.domain.market import Capabilities, MarketSpec

DEFAULT_MIN_COST = Decimal(5)


def default_market(symbol: Symbol, typical_price: float, *, fee: Decimal = Decimal("0.001"),
                   min_cost: Decimal = DEFAULT_MIN_COST) -> MarketSpec:
    """Return a spot MarketSpec for ``symbol`` sized for prices around ``typical_price``."""
    if not math.isfinite(typical_price) or typical_price <= 0:
        raise ValueError(f"{symbol}: typical price must be positive, got {typical_price}")
    magnitude = math.floor(math.log10(typical_price))
    price_step = Decimal(1).scaleb(magnitude - 6)
    amount_step = Decimal(1).scaleb(min(0, -(magnitude + 1)))
    base, quote = split_symbol(symbol)
    return MarketSpec(symbol, base, quote, amount_step=amount_step, price_step=price_step,
                      min_amount=amount_step, min_cost=min_cost, maker_fee=fee, taker_fee=fee,
                      capabilities=Capabilities(native_stop=True, stop_limit=True, oco=True))


def as_swap(spec: MarketSpec, terms: FuturesTerms | None = None) -> MarketSpec:
    """Return ``spec`` as its linear perpetual: traded on margin with ``terms``, shorts allowed."""
    return replace(spec, futures=terms or FuturesTerms(),
                   capabilities=replace(spec.capabilities, shorting=True))
