"""Australian (ATO) capital gains export: fills → AUD CGT events → parcels → income-year report → CSV.

Typical use: ``opening_events(holdings) + events_from_fills(fills, AudRates(rates))`` then
``build_cgt_report(events, 2024, method)`` then ``cgt_csv(report)`` / ``koinly_csv(fills, rates)``.
Pure: no files, no clock.
"""

from trader.core.analytics.tax.ato import CgtSummary, FinancialYear, is_discount_eligible, net_capital_gain
from trader.core.analytics.tax.cgt_events import EventKind, TaxEvent, events_from_fills
from trader.core.analytics.tax.export import cgt_csv, koinly_csv, summary_rows
from trader.core.analytics.tax.fills_csv import parse_fills_csv
from trader.core.analytics.tax.holdings import OpeningParcel, opening_events, parse_holdings_csv
from trader.core.analytics.tax.parcels import MatchMethod, Parcel, ParcelPool
from trader.core.analytics.tax.rates import AudRate, AudRates, parse_rates_csv
from trader.core.analytics.tax.report import CgtLine, CgtReport, build_cgt_report

__all__ = [
    "AudRate", "AudRates", "CgtLine", "CgtReport", "CgtSummary", "EventKind", "FinancialYear", "MatchMethod",
    "OpeningParcel", "Parcel", "ParcelPool", "TaxEvent", "build_cgt_report", "cgt_csv", "events_from_fills",
    "is_discount_eligible", "koinly_csv", "net_capital_gain", "opening_events", "parse_fills_csv",
    "parse_holdings_csv", "parse_rates_csv", "summary_rows",
]
