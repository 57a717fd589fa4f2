"""CGT report and fills as CSV text: our ATO layout (lines + summary) and Koinly's universal import layout.

Pure: returns strings; the caller writes the files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, tzinfo

from trader.core.analytics.tax.ato import FinancialYear, cents
from trader.core.analytics.tax.cgt_events import SYDNEY, fee_currency
from trader.core.analytics.tax.rates import AudRates
from trader.core.analytics.tax.report import CgtReport
from trader.core.domain.enums import Side
from trader.core.domain.ids import split_symbol
from trader.core.domain.orders import Fill

CGT_COLUMNS = (
    "asset", "quantity", "acquisition_date", "disposal_date", "cost_base_aud", "proceeds_aud",
    "capital_gain_aud", "discount_eligible", "acquisition_ref", "disposal_ref",
    "acquisition_rate_source", "disposal_rate_source",
)
KOINLY_COLUMNS = (
    "Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency", "Fee Amount",
    "Fee Currency", "Net Worth Amount", "Net Worth Currency", "Label", "Description", "TxHash",
)


def cgt_csv(report: CgtReport) -> str:
    """Return one row per disposal (split per parcel), a blank row, then the summary rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CGT_COLUMNS)
    for line in report.lines:
        writer.writerow((
            line.asset, line.quantity, line.acquired_on.isoformat(), line.disposed_on.isoformat(),
            line.cost_base, line.proceeds, line.gain, "yes" if line.discount_eligible else "no",
            line.acquisition_ref, line.disposal_ref, line.acquisition_rate_source, line.disposal_rate_source,
        ))
    writer.writerow(())
    for key, value in summary_rows(report):
        writer.writerow(("summary", key, value))
    return out.getvalue()


def summary_rows(report: CgtReport) -> list[tuple[str, str]]:
    """Return the summary as (label, value) pairs, also used by the PNG summary page."""
    s = report.summary
    fy = report.financial_year
    return [
        ("financial_year", f"{fy.label} ({fy.start.isoformat()} to {fy.end.isoformat()})"),
        ("parcel_matching_method", report.method.label),
        ("calendar_days_in", report.zone),
        ("disposals", str(len({(line.disposal_ref, line.asset) for line in report.lines}))),
        ("total_capital_gains_aud", str(s.total_gains)),
        ("total_capital_losses_aud", str(s.total_losses)),
        ("capital_losses_before_records_aud", str(report.opening_losses)),
        ("prior_year_losses_brought_forward_aud", str(s.prior_year_losses)),
        ("prior_year_losses_applied_aud", str(s.prior_year_losses_applied)),
        ("discount_eligible_gains_aud", str(s.discount_eligible_gains)),
        ("cgt_discount_rate", str(s.discount_rate)),
        ("cgt_discount_aud", str(s.discount_applied)),
        ("net_capital_gain_aud", str(s.net_capital_gain)),
        ("losses_carried_forward_aud", str(s.losses_carried_forward)),
        ("rule", "losses offset before the discount; discount only if held >12 months (ITAA 1997 s115-25)"),
    ]


def koinly_csv(fills: Iterable[Fill], rates: AudRates, zone: tzinfo = SYDNEY,
               year: FinancialYear | None = None) -> str:
    """Return fills in Koinly's universal CSV layout (UTC dates, fee apart, net worth in AUD).

    With ``year``, only the fills whose local date falls in that income year (one file per year: the
    earlier years' files already hold the rest, and Koinly would import a repeated fill twice).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KOINLY_COLUMNS)
    for fill in sorted(fills, key=lambda f: (f.timestamp, f.trade_id)):
        day = fill.timestamp.astimezone(zone).date()
        if year is not None and not year.contains(day):
            continue
        base, quote = split_symbol(fill.symbol)
        gross = fill.amount * fill.price
        worth, _ = rates.to_aud(gross, quote, day)
        if fill.side is Side.BUY:
            sent, sent_ccy, received, received_ccy = gross, quote, fill.amount, base
        else:
            sent, sent_ccy, received, received_ccy = fill.amount, base, gross, quote
        writer.writerow((
            fill.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            sent, sent_ccy, received, received_ccy,
            fill.fee if fill.fee else "", fee_currency(fill) if fill.fee else "",
            cents(worth), "AUD", "", f"tradebot {fill.side.value} {fill.symbol}", fill.trade_id,
        ))
    return out.getvalue()
