"""Wiring for the second price source: CoinGecko behind ``PriceSource`` and the AUD rate service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from trader.adapters.prices.coingecko import CoinGeckoPrices
from trader.config import PricesConfig
from trader.ports.store import UnitOfWorkFactory
from trader.services.aud_rates import AudRateService


def build_price_source(config: PricesConfig) -> CoinGeckoPrices:
    """Return the CoinGecko source for ``config`` (its session opens on the first call)."""
    return CoinGeckoPrices(config)


@asynccontextmanager
async def aud_rate_service(config: PricesConfig, uow_factory: UnitOfWorkFactory
                           ) -> AsyncIterator[AudRateService]:
    """Yield an AUD rate service over CoinGecko; the HTTP session is closed afterwards."""
    source = build_price_source(config)
    try:
        yield AudRateService(uow_factory, source)
    finally:
        await source.close()
