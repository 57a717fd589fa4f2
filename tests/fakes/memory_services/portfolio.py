"""The real portfolio service over the state's in-memory store, priced by a fixed in-memory source."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tests.fakes.memory_services.state import NOW, MemoryState
from trader.config import PortfolioConfig
from trader.core.errors import DataError
from trader.runtime.clock import SimClock
from trader.services.baskets import BasketCatalog
from trader.services.portfolio import PortfolioService


@dataclass
class MemoryPrices:
    """A ``PriceSource`` with fixed prices: ``spot[(ticker, vs)]`` and ``daily[(ticker, vs)][day]``."""

    spot: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    daily: dict[tuple[str, str], dict[date, Decimal]] = field(default_factory=dict)
    name: str = "memory"

    async def prices(self, assets: Iterable[str], vs: str,
                     ids: Mapping[str, str] | None = None) -> dict[str, Decimal]:
        """Return the fixed spot prices the source has."""
        return {a: self.spot[(a, vs)] for a in assets if (a, vs) in self.spot}

    async def daily_prices(self, asset: str, vs: str, start: date, end: date,
                           coin_id: str | None = None) -> dict[date, Decimal]:
        """Return the fixed daily prices in ``start..end``; DataError for an unknown asset."""
        if (asset, vs) not in self.daily:
            raise DataError(f"no prices for {asset}")
        return {d: p for d, p in self.daily[(asset, vs)].items() if start <= d <= end}

    async def close(self) -> None:
        """Nothing to release."""


def memory_portfolio(state: MemoryState, prices: MemoryPrices | None = None) -> PortfolioService:
    """Return the real PortfolioService over ``state.store`` (no exchange; ``prices`` as the source)."""
    from trader.adapters.charts.renderer import (
        MatplotlibChartRenderer,  # matplotlib only when charts are used
    )

    return PortfolioService(state.store.uow_factory, BasketCatalog.load(None), SimClock(NOW),
                            PortfolioConfig(), exchange=None, exchange_name="memory", exchange_quote="USDT",
                            source=prices or MemoryPrices(), renderer=MatplotlibChartRenderer(), theme="dark")
