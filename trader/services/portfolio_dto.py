"""Values the portfolio service returns to front ends (/portfolio, /holdings, the CLI, /api/v1/portfolio).

The valuation and rebalancing values are the pure ones of ``trader.core.analytics.portfolio``, re-exported
here so front ends import DTOs from ``trader.services`` only. Money is ``Decimal`` in the basket's quote;
percentages and weights are fractions; times are aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from trader.core.analytics.portfolio import AssetPrice as AssetPrice  # noqa: PLC0414 - re-exported
from trader.core.analytics.portfolio import AssetValue as AssetValue  # noqa: PLC0414 - re-exported
from trader.core.analytics.portfolio import BasketValuation as BasketValuation  # noqa: PLC0414 - re-exported
from trader.core.analytics.portfolio import CategoryValue as CategoryValue  # noqa: PLC0414 - re-exported
from trader.core.analytics.portfolio import RebalanceLine as RebalanceLine  # noqa: PLC0414 - re-exported
from trader.core.analytics.portfolio import RebalancePlan as RebalancePlan  # noqa: PLC0414 - re-exported
from trader.core.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    """A basket category as the basket file declares it, with its number of assets."""

    id: str
    title: str
    description: str
    assets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BasketInfo:
    """A basket's definition: quote, total initial amount (None for weights only), categories; held?"""

    name: str
    description: str
    quote: str
    amount: Decimal | None
    categories: tuple[CategoryInfo, ...]
    held: int = 0  # holdings stored for it (0: neither bought nor tracked yet)

    @property
    def asset_count(self) -> int:
        """Return the number of assets in the basket."""
        return sum(len(c.assets) for c in self.categories)


@dataclass(frozen=True, slots=True)
class HoldingView:
    """One stored purchase (/holdings): a fill of a basket buy, or a virtual (tracked-only) purchase."""

    basket: str
    asset: str
    quantity: Decimal
    cost: Decimal
    quote: str
    kind: str
    acquired_at: datetime
    proceeds: Decimal = ZERO  # what its exits (stop, take-profit, close) brought back, fees deducted


@dataclass(frozen=True, slots=True)
class TrackResult:
    """What a tracked-only purchase recorded: assets bought virtually on ``day``, those without a price."""

    basket: str
    day: date
    tracked: tuple[str, ...]
    missing: tuple[str, ...]
    cost: Decimal
    quote: str


@dataclass(frozen=True, slots=True)
class BasketBuyResult:
    """What ``buy-basket`` did per asset: orders sent, refused by the rules, or not listed on the venue."""

    basket: str
    quote: str
    bought: tuple[tuple[str, str], ...]  # (asset, what was sent)
    refused: tuple[tuple[str, str], ...]  # (asset, why)
    not_listed: tuple[str, ...]
