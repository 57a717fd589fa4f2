"""PortfolioService: baskets, their holdings, valuation with cached prices, snapshots and rebalancing.

Prices: an asset listed on the configured exchange (``ASSET/<exchange quote>``, when that quote is the
basket's currency or a USD stablecoin for a USD basket) is priced from the exchange's last trade; any
other asset, and every asset while the exchange does not answer, from CoinGecko's simple/price in one
batched call. Each price is cached in the store with its source and time; a cached price younger than
``refresh_seconds`` is reused, and one older than ``stale_seconds`` is flagged stale in every output.
These prices value baskets only: orders are always priced by the exchange (``buy_basket`` goes through
the control service, the same engine, risk limits and audit as /buy).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from trader.config import PortfolioConfig
from trader.core.analytics.portfolio import AssetPrice, MarketRules, value_basket
from trader.core.analytics.portfolio import rebalance as plan_rebalance
from trader.core.domain.basket import Basket
from trader.core.domain.ids import Symbol
from trader.core.domain.money import ZERO
from trader.core.errors import DataError, ExchangeError, InputError
from trader.ports.charts import ChartRenderer
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.portfolio import BasketSnapshot, Holding, HoldingKind, PriceQuote
from trader.ports.prices import PriceSource
from trader.ports.store import UnitOfWorkFactory
from trader.services.api import ControlService
from trader.services.baskets import DEFAULT_BASKET, BasketCatalog
from trader.services.dto import Actor
from trader.services.portfolio_dto import (
    BasketBuyResult,
    BasketInfo,
    BasketValuation,
    CategoryInfo,
    HoldingView,
    RebalancePlan,
    TrackResult,
)
from trader.services.portfolio_fills import buy_basket, settle_fill_holdings

logger = logging.getLogger(__name__)


class PortfolioService:
    """Implements ``api.PortfolioQuery``: read baskets and holdings, value them, track, snapshot."""

    def __init__(self, uow_factory: UnitOfWorkFactory, catalog: BasketCatalog, clock: Clock,  # noqa: PLR0913
                 config: PortfolioConfig, *, exchange: Exchange | None, exchange_name: str,
                 exchange_quote: str, source: PriceSource | None,
                 control: ControlService | None = None, renderer: ChartRenderer | None = None,
                 theme: str = "light") -> None:
        self._uow = uow_factory
        self._catalog = catalog
        self._clock = clock
        self._config = config
        self._exchange = exchange
        self._exchange_name = exchange_name
        self._exchange_quote = exchange_quote.upper()
        self._source = source
        self._control = control
        self._renderer = renderer
        self._theme = theme

    def use_control(self, control: ControlService) -> None:
        """Send basket buys through ``control`` (built after this service in the composition root)."""
        self._control = control

    @property
    def catalog(self) -> BasketCatalog:
        """Return the loaded baskets."""
        return self._catalog

    # ── definitions and holdings ───────────────────────────────────────────────────────────
    async def baskets(self) -> tuple[BasketInfo, ...]:
        """Return every basket's definition and how many holdings it has."""
        async with self._uow() as uow:
            held = await uow.portfolio.holdings()
        return tuple(_info(b, sum(1 for h in held if h.basket == b.name)) for b in self._catalog.baskets)

    async def basket(self, name: str | None = None) -> Basket:
        """Return the basket called ``name``; None: the first basket with holdings, else the default."""
        if name is not None:
            return self._catalog.get(name)
        async with self._uow() as uow:
            held = {h.basket for h in await uow.portfolio.holdings()}
        chosen = next((n for n in self._catalog.names if n in held), DEFAULT_BASKET)
        return self._catalog.get(chosen)

    async def holdings(self, name: str | None = None) -> tuple[HoldingView, ...]:
        """Return the stored purchases of ``name`` (every basket when None)."""
        if name is not None:
            self._catalog.get(name)  # an unknown name is an InputError, not an empty answer
        async with self._uow() as uow:
            found = await settle_fill_holdings(uow, await uow.portfolio.holdings(name))
        return tuple(HoldingView(h.basket, h.asset, h.quantity, h.cost, h.quote, h.kind.value, h.acquired_at,
                                 h.proceeds)
                     for h in found)

    async def held_assets(self) -> frozenset[str]:
        """Return the tickers any basket holds (for news alerts)."""
        async with self._uow() as uow:
            return frozenset(h.asset for h in await uow.portfolio.holdings() if h.quantity > 0)

    # ── valuation ──────────────────────────────────────────────────────────────────────────
    async def value(self, name: str | None = None) -> BasketValuation:
        """Value a basket at current prices (refreshed when older than ``refresh_seconds``)."""
        basket = await self.basket(name)
        async with self._uow() as uow:
            holdings = await settle_fill_holdings(uow, await uow.portfolio.holdings(basket.name))
        if not holdings:
            raise InputError(f"basket {basket.name} has no holdings",
                             user_message=f"Basket {basket.name} holds nothing yet: track it "
                                          f"(tradebot portfolio track {basket.name}) or buy it.")
        held = sorted({h.asset for h in holdings})
        prices = await self.prices(basket, held)
        return value_basket(basket, holdings, prices, self._clock.now())

    async def chart(self, valuation: BasketValuation) -> bytes:
        """Return the PNG of a valuation (value by category, top movers), rendered off the event loop."""
        if self._renderer is None:
            raise DataError("no chart renderer", user_message="Charts are not available here.")
        return await asyncio.to_thread(self._renderer.portfolio, valuation, self._theme)

    async def prices(self, basket: Basket, assets: Iterable[str]) -> dict[str, AssetPrice]:
        """Return a price per asset (cached, refreshed when due), each flagged stale past its limit."""
        wanted = sorted(set(assets))
        now = self._clock.now()
        async with self._uow() as uow:
            cached = await uow.portfolio.prices(basket.quote, wanted)
        due = [a for a in wanted if a not in cached
               or now - cached[a].at >= timedelta(seconds=self._config.refresh_seconds)]
        if due:
            fresh = await self._fetch(basket, due, now)
            if fresh:
                async with self._uow() as uow:
                    await uow.portfolio.put_prices(fresh)
                    await uow.commit()
                cached.update({q.asset: q for q in fresh})
        limit = timedelta(seconds=self._config.stale_seconds)
        return {a: AssetPrice(q.price, q.source, q.at, now - q.at > limit) for a, q in cached.items()}

    def _exchange_serves(self, basket: Basket) -> bool:
        if self._exchange is None:
            return False
        quote = basket.quote
        usd = quote == "USD" and self._exchange_quote in self._config.usd_quotes
        return quote == self._exchange_quote or usd

    async def _fetch(self, basket: Basket, assets: list[str], now: datetime) -> list[PriceQuote]:
        found: list[PriceQuote] = []
        rest = list(assets)
        if self._exchange_serves(basket):
            assert self._exchange is not None
            source = f"exchange:{self._exchange_name}"
            try:
                listed = {s for s in await self._exchange.markets()}
                for asset in assets:
                    symbol = Symbol(f"{asset}/{self._exchange_quote}")
                    if symbol in listed:
                        price = await self._exchange.last_price(symbol)
                        if price > 0:
                            found.append(PriceQuote(asset, basket.quote, price, source, now))
                            rest.remove(asset)
            except ExchangeError as exc:  # the venue is down: value from the second source instead
                logger.warning("portfolio: exchange prices unavailable (%s); using CoinGecko", exc)
        if rest and self._source is not None:
            vs = "USD" if basket.quote in self._config.usd_quotes else basket.quote
            try:
                quotes = await self._source.prices(rest, vs, basket.coingecko_ids)
            except DataError as exc:
                logger.warning("portfolio: %s prices unavailable: %s", self._source.name, exc)
                quotes = {}
            found += [PriceQuote(a, basket.quote, p, self._source.name, now) for a, p in quotes.items()]
        return found

    async def rebalance(self, name: str | None = None) -> RebalancePlan:
        """Return what to buy and sell to return the basket to its targets (a report; nothing trades)."""
        valuation = await self.value(name)
        default = MarketRules(ZERO, ZERO, self._config.default_min_order, self._config.default_fee, False)
        rules: dict[str, MarketRules] = {}
        if self._exchange_serves(self._catalog.get(valuation.name)):
            assert self._exchange is not None
            try:
                markets = await self._exchange.markets()
            except ExchangeError as exc:
                logger.warning("portfolio: exchange markets unavailable (%s); default order rules", exc)
                markets = {}
            for asset in valuation.assets:
                spec = markets.get(Symbol(f"{asset.symbol}/{self._exchange_quote}"))
                if spec is not None:
                    rules[asset.symbol] = MarketRules(spec.amount_step, spec.min_amount, spec.min_cost,
                                                      spec.taker_fee)
        return plan_rebalance(valuation, rules, default)

    # ── purchases ──────────────────────────────────────────────────────────────────────────
    async def buy_basket(self, name: str, quote: str, amount: Decimal, actor: Actor) -> BasketBuyResult:
        """Buy ``amount`` of ``quote`` of every asset the exchange lists against ``quote``, like /buy.

        Orders go through the control service (the engine, risk limits and audit of /buy); each one
        sent is stored as a holding of the basket, settled later from its fills.
        """
        basket = self._catalog.get(name)
        if self._exchange is None or self._control is None:
            raise DataError("no exchange", user_message="Buying needs the running service's exchange.")
        if amount <= 0:
            raise InputError(f"amount {amount}", user_message="The amount per asset must be above 0.")
        listed = set(await self._exchange.markets())
        prices: dict[str, Decimal] = {}
        for asset in basket.assets:
            symbol = Symbol(f"{asset.symbol}/{quote.upper()}")
            if symbol in listed:
                prices[asset.symbol] = await self._exchange.last_price(symbol)
        result, holdings = await buy_basket(self._control, basket, quote.upper(), amount,
                                            {a: p for a, p in prices.items() if p > 0}, actor,
                                            self._clock.now())
        async with self._uow() as uow:
            await uow.portfolio.add_holdings(holdings)
            await uow.commit()
        logger.info("basket %s bought by %s: %d sent, %d refused, %d not listed", basket.name, actor.label,
                    len(result.bought), len(result.refused), len(result.not_listed))
        return result

    # ── tracked-only purchases and snapshots ───────────────────────────────────────────────
    async def track(self, name: str, day: date, total: Decimal | None = None) -> TrackResult:
        """Record a virtual purchase of the basket at each asset's CoinGecko price of ``day``.

        Each asset gets its initial amount (or its weight of ``total``); repeating the same day stores
        nothing twice. Assets without a price that day are reported, not tracked.
        """
        basket = self._catalog.get(name)
        if day > self._clock.now().date():
            raise InputError(f"track on {day}", user_message=f"{day} is in the future.")
        if self._source is None:
            raise DataError("no price source", user_message="No price source is configured for tracking.")
        if basket.total_amount is None and total is None:
            raise InputError("weights only", user_message=f"Basket {name} gives weights only: say how much "
                                                          "to track in total (--amount).")
        scale = total / basket.total_amount if total is not None and basket.total_amount else None
        vs = "USD" if basket.quote in self._config.usd_quotes else basket.quote
        at = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        items: list[Holding] = []
        missing: list[str] = []
        for asset in basket.assets:
            amount = (asset.amount * scale if scale is not None and asset.amount is not None
                      else asset.amount if asset.amount is not None else (total or ZERO) * asset.weight)
            try:
                daily = await self._source.daily_prices(asset.symbol, vs, day, day, asset.coingecko_id)
            except DataError as exc:
                logger.warning("portfolio: no %s price of %s on %s: %s", self._source.name, asset.symbol,
                               day, exc)
                daily = {}
            price = daily.get(day)
            if price is None or price <= 0:
                missing.append(asset.symbol)
                continue
            items.append(Holding(basket.name, asset.symbol, amount / price, amount, basket.quote,
                                 HoldingKind.VIRTUAL, at, f"virtual:{day.isoformat()}"))
        async with self._uow() as uow:
            await uow.portfolio.add_holdings(items)
            await uow.commit()
        return TrackResult(basket.name, day, tuple(h.asset for h in items), tuple(missing),
                           sum((h.cost for h in items), ZERO), basket.quote)

    async def untrack(self, name: str) -> int:
        """Forget every holding of basket ``name``; return how many purchases were removed."""
        self._catalog.get(name)
        async with self._uow() as uow:
            removed = await uow.portfolio.remove_basket(name.lower())
            await uow.commit()
        return removed

    async def snapshot(self) -> int:
        """Store today's value of every basket with holdings (the daily job); return how many."""
        async with self._uow() as uow:
            held = sorted({h.basket for h in await uow.portfolio.holdings()})
        done = 0
        for name in held:
            if name not in self._catalog.names:
                logger.warning("portfolio: holdings of basket %s, whose file is gone, are not valued", name)
                continue
            valuation = await self.value(name)
            async with self._uow() as uow:
                await uow.portfolio.put_snapshot(BasketSnapshot(
                    name, valuation.at.date(), valuation.value, valuation.cost, valuation.quote,
                    len(valuation.stale) + len(valuation.unpriced)))
                await uow.commit()
            done += 1
        return done

    async def history(self, name: str) -> tuple[BasketSnapshot, ...]:
        """Return the basket's daily snapshots, oldest first."""
        basket = self._catalog.get(name)
        async with self._uow() as uow:
            return tuple(await uow.portfolio.snapshots(basket.name))


def _info(basket: Basket, held: int) -> BasketInfo:
    categories = tuple(CategoryInfo(c.id, c.title, c.description,
                                    tuple(a.symbol for a in basket.assets if a.category == c.id))
                       for c in basket.categories)
    return BasketInfo(basket.name, basket.description, basket.quote, basket.total_amount, categories, held)
