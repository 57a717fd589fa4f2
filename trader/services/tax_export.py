"""The ATO tax export, orchestrated once for `/tax` and `tradebot tax export`.

Both read the fills (through the end of the income year) and the opening holdings, have the missing
daily AUD rates fetched, read the rates the records need, and build the CGT report with every earlier
year matched too (so losses carry forward). The CLI may replace any input with a CSV file and adds
the Koinly file and the PNG summary; the arithmetic and the order of the steps are this module's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from trader.core.analytics.tax import (
    AudRate,
    AudRates,
    CgtReport,
    FinancialYear,
    MatchMethod,
    OpeningParcel,
    build_cgt_report,
    cgt_csv,
    events_from_fills,
    koinly_csv,
    opening_events,
)
from trader.core.analytics.tax.cgt_events import fills_through, needed_rates
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill
from trader.core.errors import InputError
from trader.ports.store import TaxUnitOfWorkFactory, TradingUnitOfWorkFactory

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Fetch the AUD rates the store lacks for these (currency, day) pairs.
RateFetcher = Callable[[set[tuple[str, date]]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TaxExport:
    """One income year's export: the CGT report and the files made from it."""

    year: FinancialYear
    method: MatchMethod
    report: CgtReport
    fills: tuple[Fill, ...]
    opening_identified: bool  # every opening parcel names its source (the ATO's identification test)
    cgt_csv: str
    koinly_csv: str


def check_year(year: int) -> FinancialYear:
    """Return the income year ending 30 June ``year``; InputError outside 2000..2100."""
    if not 2000 <= year <= 2100:
        raise InputError(f"year {year} is not an income year",
                         user_message=f"{year} is not an income year: give it by its end, e.g. 2024 "
                                      "(1 July 2023 - 30 June 2024).")
    return FinancialYear(year)


async def stored_records(trading: TradingUnitOfWorkFactory, tax: TaxUnitOfWorkFactory,
                         fy: FinancialYear, zone: ZoneInfo) -> tuple[list[Fill], list[OpeningParcel]]:
    """Return the stored fills through the end of ``fy`` and the stored opening holdings."""
    async with trading() as uow:
        fills = await uow.fills.since(EPOCH)
    async with tax() as uow:
        opening = await uow.opening_holdings.all()
    return fills_through(fills, fy.end, zone), opening


async def stored_rates(tax: TaxUnitOfWorkFactory, fills: Sequence[Fill], zone: ZoneInfo,
                       fetch: RateFetcher | None = None) -> list[AudRate]:
    """Return the stored AUD rates the fills need (fetching the missing ones first when given how)."""
    needed = needed_rates(list(fills), zone)
    if fetch is not None:
        await fetch(needed)
    found: list[AudRate] = []
    async with tax() as uow:
        for currency, day in sorted(needed):
            row = await uow.aud_rates.on_or_before(currency, day)
            if row is not None:  # AudRates decides whether a stale row is acceptable
                found.append(AudRate(row.day, row.currency, row.rate, row.source))
    return found


def build_export(fills: Sequence[Fill], opening: Sequence[OpeningParcel], rates: AudRates, fy: FinancialYear,
                 method: MatchMethod, zone: ZoneInfo, prior_losses: Decimal = ZERO) -> TaxExport:
    """Return the export of ``fy``: opening parcels are acquisitions first (on ties), then the fills."""
    events = opening_events(list(opening)) + events_from_fills(list(fills), rates, zone=zone)
    report = build_cgt_report(events, fy.year, method, zone=zone, opening_losses=prior_losses)
    return TaxExport(fy, method, report, tuple(fills), all(p.source for p in opening), cgt_csv(report),
                     koinly_csv(list(fills), rates, zone, fy))

