"""Wiring for the second price source: CoinGecko behind ``PriceSource``, AUD rates and the portfolio."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from trader.adapters.prices.coingecko import CoinGeckoPrices
from trader.config import PricesConfig, Settings
from trader.core.errors import InputError
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import UnitOfWorkFactory
from trader.services.aud_rates import AudRateService
from trader.services.baskets import BasketCatalog
from trader.services.portfolio import PortfolioService

logger = logging.getLogger(__name__)


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


def portfolio_service(settings: Settings, uow_factory: UnitOfWorkFactory, exchange: Exchange | None,
                      clock: Clock, closers: list[Callable[[], Awaitable[None]]]) -> PortfolioService:
    """Return the portfolio service over CoinGecko and ``exchange``; a bad basket file is logged, not fatal.

    The trading service must not stop for a typo in a basket file: it starts with the default basket
    and the error names the file, as ``tradebot portfolio list`` does.
    """
    try:
        catalog = BasketCatalog.load(settings.portfolio.baskets_dir)
    except InputError as exc:
        logger.error("basket files not loaded, using the default basket only: %s", exc)
        catalog = BasketCatalog.load(None)
    from trader.adapters.charts.renderer import MatplotlibChartRenderer  # matplotlib: the service only

    source = build_price_source(settings.prices)
    closers.append(source.close)
    return PortfolioService(uow_factory, catalog, clock, settings.portfolio, exchange=exchange,
                            exchange_name=settings.exchange.name,
                            exchange_quote=settings.exchange.quote_currency, source=source,
                            renderer=MatplotlibChartRenderer(), theme=settings.telegram.theme)


@asynccontextmanager
async def offline_portfolio(settings: Settings, uow_factory: UnitOfWorkFactory, clock: Clock
                            ) -> AsyncIterator[PortfolioService]:
    """Yield a portfolio service without an exchange (the CLI): CoinGecko and the store's price cache.

    A bad basket file is an error here (the CLI reports it), unlike in the running service.
    """
    source = build_price_source(settings.prices)
    try:
        yield PortfolioService(uow_factory, BasketCatalog.load(settings.portfolio.baskets_dir), clock,
                               settings.portfolio, exchange=None, exchange_name=settings.exchange.name,
                               exchange_quote=settings.exchange.quote_currency, source=source)
    finally:
        await source.close()
