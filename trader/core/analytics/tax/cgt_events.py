"""CGT events (acquisitions and disposals of one asset, valued in AUD) built from exchange fills.

Every fill of BASE/QUOTE is a swap: a buy disposes of QUOTE and acquires BASE, a sell the reverse
(ATO: exchanging one crypto asset for another is a CGT event). Fiat legs (AUD by default) are not
CGT assets and produce no event. Fees, valued in AUD on the fill's local date:

* in the received asset: you simply receive less (the quantity acquired is net of the fee);
* in the given asset: you give more (the extra is part of what was disposed of);
* in a third currency (e.g. BNB): spending it is itself a disposal of that currency.

A buy's fee is added to the acquired asset's cost base; a sell's fee reduces the disposal proceeds,
so each fee is counted once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from trader.core.analytics.tax.rates import AUD, AudRates, describe
from trader.core.domain.enums import Side
from trader.core.domain.ids import split_symbol
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill
from trader.core.errors import DataError

SYDNEY = ZoneInfo("Australia/Sydney")
FIAT: frozenset[str] = frozenset({AUD})


class EventKind(StrEnum):
    """Direction of a CGT event."""

    ACQUISITION = "acquisition"
    DISPOSAL = "disposal"


@dataclass(frozen=True, slots=True)
class TaxEvent:
    """One acquisition (``aud`` = cost base incl. fees) or disposal (``aud`` = proceeds net of fees)."""

    kind: EventKind
    asset: str
    time: datetime
    quantity: Decimal
    aud: Decimal
    fee_aud: Decimal
    rate_source: str
    ref: str

    def __post_init__(self) -> None:
        if self.time.utcoffset() is None:
            raise ValueError(f"event {self.ref}: time must be timezone-aware")
        if self.quantity <= 0:
            raise DataError(f"event {self.ref}: {self.kind} of {self.asset} has non-positive quantity "
                            f"{self.quantity} on {self.time:%Y-%m-%d}")
        if self.aud < 0:
            raise DataError(f"event {self.ref}: {self.asset} AUD value {self.aud} is negative "
                            f"on {self.time:%Y-%m-%d} (fee larger than the trade?)")


@dataclass(frozen=True, slots=True)
class _Fee:
    currency: str
    amount: Decimal
    aud: Decimal
    source: str


def events_from_fills(fills: Iterable[Fill], rates: AudRates, *, zone: tzinfo = SYDNEY,
                      fiat: frozenset[str] = FIAT) -> list[TaxEvent]:
    """Return the CGT events of ``fills`` in time order; rates are looked up on the fill's local date."""
    events: list[TaxEvent] = []
    for fill in sorted(fills, key=lambda f: (f.timestamp, f.trade_id)):
        events.extend(_fill_events(fill, rates, zone, fiat))
    return events


def _fill_events(fill: Fill, rates: AudRates, zone: tzinfo, fiat: frozenset[str]) -> list[TaxEvent]:
    base, quote = (s.upper() for s in split_symbol(fill.symbol))
    day = fill.timestamp.astimezone(zone).date()
    gross = fill.amount * fill.price
    value_aud, quote_rate = rates.to_aud(gross, quote, day)
    fee = _fee(fill, base, quote, quote_rate.rate, rates, zone)
    source = describe(quote_rate)
    with_fee = f"{source}; fee {fee.source}" if fee.source else source
    events: list[TaxEvent] = []

    def add(kind: EventKind, asset: str, quantity: Decimal, aud: Decimal, fee_aud: Decimal) -> None:
        src = with_fee if fee_aud else source
        if asset not in fiat:
            events.append(TaxEvent(kind, asset, fill.timestamp, quantity, aud, fee_aud, src, fill.trade_id))

    if fee.currency not in (base, quote) and fee.amount > 0 and fee.currency not in fiat:
        events.append(TaxEvent(EventKind.DISPOSAL, fee.currency, fill.timestamp, fee.amount, fee.aud, ZERO,
                               fee.source, fill.trade_id + ":fee"))
    fee_in_base = fee.amount if fee.currency == base else ZERO
    fee_in_quote = fee.amount if fee.currency == quote else ZERO
    if fill.side is Side.BUY:
        quote_given = gross + fee_in_quote
        add(EventKind.DISPOSAL, quote, quote_given, quote_given * quote_rate.rate, ZERO)
        cost = value_aud if fee_in_base else value_aud + fee.aud
        add(EventKind.ACQUISITION, base, fill.amount - fee_in_base, cost, fee.aud)
    else:
        proceeds = value_aud if fee_in_base else value_aud - fee.aud
        add(EventKind.DISPOSAL, base, fill.amount + fee_in_base, proceeds, fee.aud)
        quote_received = gross - fee_in_quote
        add(EventKind.ACQUISITION, quote, quote_received, quote_received * quote_rate.rate, ZERO)
    return events


def fee_currency(fill: Fill) -> str:
    """Return the currency the fee was paid in; a venue that leaves it empty charged the quote currency."""
    return (fill.fee_currency or split_symbol(fill.symbol)[1]).upper()


def _fee(fill: Fill, base: str, quote: str, quote_aud: Decimal, rates: AudRates, zone: tzinfo) -> _Fee:
    currency = fee_currency(fill)
    if fill.fee < 0:
        raise DataError(f"fill {fill.trade_id}: negative fee {fill.fee} {currency} (rebates unsupported)")
    if fill.fee == 0:
        return _Fee(currency, ZERO, ZERO, "")
    if currency == quote:
        return _Fee(currency, fill.fee, fill.fee * quote_aud, "")
    if currency == base:
        return _Fee(currency, fill.fee, fill.fee * fill.price * quote_aud, "")
    aud, used = rates.to_aud(fill.fee, currency, fill.timestamp.astimezone(zone).date())
    return _Fee(currency, fill.fee, aud, describe(used))



def fills_through(fills: Iterable[Fill], last_day: date, zone: tzinfo = SYDNEY) -> list[Fill]:
    """Return the fills whose local date is on or before ``last_day`` (later ones need no rates)."""
    return [f for f in fills if f.timestamp.astimezone(zone).date() <= last_day]


def needed_rates(fills: Iterable[Fill], zone: tzinfo = SYDNEY) -> set[tuple[str, date]]:
    """Return the (currency, local date) AUD rates that ``events_from_fills`` will look up."""
    keys: set[tuple[str, date]] = set()
    for fill in fills:
        base, quote = (s.upper() for s in split_symbol(fill.symbol))
        day = fill.timestamp.astimezone(zone).date()
        keys.add((quote, day))
        fee_ccy = fee_currency(fill)
        if fill.fee > 0 and fee_ccy not in (base, quote):
            keys.add((fee_ccy, day))
    return {k for k in keys if k[0] != AUD}
