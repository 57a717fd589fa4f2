"""Price-source port: current prices and daily historical prices from a source beside the exchange."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Protocol


class PriceSource(Protocol):
    """A second source of prices (CoinGecko); never used to price an order."""

    @property
    def name(self) -> str:
        """Return the source's name as recorded beside each price (e.g. "coingecko")."""
        ...

    async def prices(self, assets: Iterable[str], vs: str,
                     ids: Mapping[str, str] | None = None) -> dict[str, Decimal]:
        """Return the current price of each known asset ticker in ``vs``; unknown tickers are left out.

        ``ids`` maps tickers to the source's own ids (a basket's overrides), ahead of its own table.
        """
        ...

    async def daily_prices(self, asset: str, vs: str, start: date, end: date,
                           coin_id: str | None = None) -> dict[date, Decimal]:
        """Return one price per UTC day in ``start..end`` (the day's first quote); DataError if unknown.

        ``coin_id`` names the source's id for ``asset`` when the caller knows it (a basket override).
        """
        ...

    async def close(self) -> None:
        """Release the HTTP session."""
        ...
