"""Daily AUD rates for the tax export, fetched from a price source for the days the records need.

Only the (currency, day) pairs missing from the store are asked for: one daily-history call per
currency over the span of its missing days. Each stored rate keeps its source, and a day the source
has no price for stays missing, so the export names it instead of guessing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from trader.ports.prices import PriceSource
from trader.ports.store import AudRate, TaxUnitOfWorkFactory

logger = logging.getLogger(__name__)

AUD = "AUD"


@dataclass(frozen=True, slots=True)
class RateFetch:
    """What a fetch did: rates stored, and the (currency, day) pairs the source had no price for."""

    stored: int
    source: str
    still_missing: tuple[tuple[str, date], ...] = ()


class AudRateService:
    """Fill the store's missing daily AUD rates from a ``PriceSource`` (CoinGecko)."""

    def __init__(self, uow_factory: TaxUnitOfWorkFactory, source: PriceSource) -> None:
        self._uow = uow_factory
        self._source = source

    @property
    def source(self) -> str:
        """Return the price source's name."""
        return self._source.name

    async def missing(self, needed: Iterable[tuple[str, date]]) -> list[tuple[str, date]]:
        """Return the needed (currency, day) pairs with no rate stored for exactly that day."""
        gaps = []
        async with self._uow() as uow:
            for currency, day in sorted({(c.upper(), d) for c, d in needed if c.upper() != AUD}):
                if await uow.aud_rates.get(currency, day) is None:
                    gaps.append((currency, day))
        return gaps

    async def fetch_missing(self, needed: Iterable[tuple[str, date]]) -> RateFetch:
        """Fetch and store the rates of ``needed`` that the store lacks; DataError if the source fails."""
        by_currency: dict[str, list[date]] = defaultdict(list)
        for currency, day in await self.missing(needed):
            by_currency[currency].append(day)
        found: list[AudRate] = []
        still: list[tuple[str, date]] = []
        for currency, days in sorted(by_currency.items()):
            daily = await self._source.daily_prices(currency, AUD, min(days), max(days))
            found += [AudRate(day, currency, rate, self._source.name) for day, rate in sorted(daily.items())
                      if rate > 0]
            still += [(currency, day) for day in days if daily.get(day, 0) <= 0]
        if found:
            async with self._uow() as uow:
                await uow.aud_rates.upsert(found)
                await uow.commit()
            logger.info("stored %d AUD rate(s) from %s for %s", len(found), self._source.name,
                        ", ".join(sorted(by_currency)))
        return RateFetch(len(found), self._source.name, tuple(still))
