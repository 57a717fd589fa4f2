"""Reports across venue accounts: the history of every account's store, in total and per account.

The totals are the one trade history of all accounts together (``core/analytics``: the same tables and
trade statistics as one account's), the unrealised PnL and equity summed. Equity-curve ratios (drawdown,
Sharpe, Sortino, volatility) are shown per account only: the accounts' snapshots are taken at different
moments, so no common curve is made up. Accounts in another quote currency stay out of the totals.
The tax report covers the primary account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from trader.core.analytics.records import TradeRecord
from trader.core.domain.money import ZERO
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import UnitOfWorkFactory
from trader.services.aud_rates import AudRateService
from trader.services.dto import ProfitView, TradePage, TradeQuery, VenueProfit
from trader.services.reports import StoreReportService


@dataclass(frozen=True, slots=True)
class VenueReports:
    """One account's report service, its name and quote currency."""

    venue: str
    quote: str
    reports: StoreReportService


class MultiVenueReportService(StoreReportService):
    """Implements ``api.ReportService`` over several accounts (the primary first, its own service)."""

    def __init__(self, accounts: Sequence[VenueReports], *, uow_factory: UnitOfWorkFactory,
                 exchange: Exchange, clock: Clock, start_balance: Decimal,
                 rates: AudRateService | None = None) -> None:
        # the primary's store, exchange and rates: the tax report and /periods' fallback use them
        super().__init__(uow_factory, exchange, clock, quote=accounts[0].quote, start_balance=start_balance,
                         rates=rates)
        self._accounts = tuple(accounts)
        self._counted = tuple(a for a in self._accounts if a.quote == self._accounts[0].quote)

    async def _records(self) -> list[TradeRecord]:
        out: list[TradeRecord] = []
        for account in self._counted:
            out += await account.reports.trade_records()
        return sorted(out, key=lambda r: r.exit_time)

    async def _unrealised(self) -> Decimal:
        total = ZERO
        for account in self._counted:
            total += await account.reports.unrealised()
        return total

    async def _equity_now(self, records: Sequence[TradeRecord]) -> Decimal:
        total = ZERO
        for account in self._counted:
            total += await account.reports.equity_now()
        return total

    async def trades(self, query: TradeQuery) -> TradePage:
        """Return one page of every account's closed trades (newest first), each naming its account."""
        page = await super().trades(query)
        venue_of: dict[str, str] = {}
        for account in self._counted:
            venue_of.update((r.id, account.venue) for r in await account.reports.trade_records())
        return replace(page, trades=tuple(replace(t, venue=venue_of.get(t.id, "")) for t in page.trades))

    async def profit(self, days: int | None) -> ProfitView:
        """Return the totals over every account (trade statistics of all their trades) and each account's."""
        total = await super().profit(days)
        venues = [VenueProfit(a.venue, await a.reports.profit(days), a in self._counted)
                  for a in self._accounts]
        return replace(total, max_drawdown=None, sharpe=None, sortino=None, volatility=None,
                       venues=tuple(venues))
