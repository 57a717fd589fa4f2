"""Build an income year's CGT report: match every disposal to parcels and total the gains and losses.

The events are replayed from the first one, so the disposals of earlier income years are matched too;
their net capital losses are carried forward year by year into the reported one (ATO "Carrying forward
a capital loss"), starting from the losses carried in from before the records (``opening_losses``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from trader.core.analytics.tax.ato import (
    INDIVIDUAL_DISCOUNT,
    CgtSummary,
    FinancialYear,
    cents,
    is_discount_eligible,
    net_capital_gain,
)
from trader.core.analytics.tax.cgt_events import SYDNEY, EventKind, TaxEvent
from trader.core.analytics.tax.parcels import MatchMethod, Parcel, ParcelPool
from trader.core.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class CgtLine:
    """One disposal (or the part of it matched to one parcel), in AUD rounded to cents."""

    asset: str
    quantity: Decimal
    acquired_at: datetime
    disposed_at: datetime
    acquired_on: date  # local (Australian) calendar date
    disposed_on: date
    cost_base: Decimal  # including acquisition fees
    proceeds: Decimal  # net of disposal fees
    discount_eligible: bool
    acquisition_ref: str
    disposal_ref: str
    acquisition_rate_source: str
    disposal_rate_source: str

    @property
    def gain(self) -> Decimal:
        """Return the capital gain (positive) or loss (negative)."""
        return self.proceeds - self.cost_base


@dataclass(frozen=True, slots=True)
class CgtReport:
    """Every disposal of one income year, the matching method used, and the totals.

    ``opening_losses`` are the net capital losses carried in from before the records; the summary's
    ``prior_year_losses`` adds to them whatever the records' own earlier years left unused.
    """

    financial_year: FinancialYear
    method: MatchMethod
    zone: str
    lines: tuple[CgtLine, ...]
    summary: CgtSummary
    opening_losses: Decimal = ZERO


def income_year(day: date) -> int:
    """Return the income year (named by its end) that a local calendar ``day`` falls in."""
    return day.year + 1 if day.month >= 7 else day.year


def build_cgt_report(
    events: Iterable[TaxEvent],
    year: int,
    method: MatchMethod = MatchMethod.FIFO,
    *,
    zone: ZoneInfo = SYDNEY,
    opening_losses: Decimal = ZERO,
    discount_rate: Decimal = INDIVIDUAL_DISCOUNT,
) -> CgtReport:
    """Replay ``events`` from the first one and report the disposals of income year ``year``.

    Events before the year build the parcels, and the earlier years' disposals give the net capital
    losses carried into it (``opening_losses`` carried into the records' first year included); events
    after it are ignored.
    """
    fy = FinancialYear(year)
    pool = ParcelPool(method)
    by_year: dict[int, list[CgtLine]] = {}
    for event in sorted(events, key=lambda e: e.time):  # stable: same-time events keep fill order
        day = event.time.astimezone(zone).date()
        if day > fy.end:
            break
        if event.kind is EventKind.ACQUISITION:
            pool.add(Parcel(event.asset, event.time, event.quantity, event.aud, event.ref, event.rate_source))
            continue
        used = pool.take(event.asset, event.quantity, event.time)
        by_year.setdefault(income_year(day), []).extend(_lines(event, used, zone))
    carried = opening_losses
    for earlier in range(min(by_year, default=year), year):
        carried = _summary(by_year.get(earlier, []), carried, discount_rate).losses_carried_forward
    lines = by_year.get(year, [])
    summary = _summary(lines, carried, discount_rate)
    return CgtReport(fy, method, zone.key, tuple(lines), summary, opening_losses)


def _summary(lines: list[CgtLine], prior: Decimal, discount_rate: Decimal) -> CgtSummary:
    return net_capital_gain([(line.gain, line.discount_eligible) for line in lines], prior, discount_rate)


def _lines(disposal: TaxEvent, used: list[Parcel], zone: ZoneInfo) -> list[CgtLine]:
    disposed_on = disposal.time.astimezone(zone).date()
    out: list[CgtLine] = []
    allocated = ZERO
    for i, parcel in enumerate(used):
        if i == len(used) - 1:
            proceeds = disposal.aud - allocated  # the last part takes the remainder: parts sum exactly
        else:
            proceeds = disposal.aud * parcel.quantity / disposal.quantity
            allocated += proceeds
        acquired_on = parcel.acquired_at.astimezone(zone).date()
        out.append(CgtLine(
            asset=disposal.asset, quantity=parcel.quantity, acquired_at=parcel.acquired_at,
            disposed_at=disposal.time, acquired_on=acquired_on, disposed_on=disposed_on,
            cost_base=cents(parcel.cost_aud), proceeds=cents(proceeds),
            discount_eligible=is_discount_eligible(acquired_on, disposed_on),
            acquisition_ref=parcel.ref, disposal_ref=disposal.ref,
            acquisition_rate_source=parcel.rate_source, disposal_rate_source=disposal.rate_source,
        ))
    return out
