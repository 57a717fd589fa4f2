"""Builders for tax tests: fills at a given UTC time and constant daily AUD rates over a date range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from trader.core.analytics.tax import AudRate, AudRates
from trader.core.domain.enums import Side
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.orders import Fill


def fill(when: str, symbol: str, side: str, amount: str, price: str, fee: str = "0", fee_ccy: str = "",
         *, trade_id: str | None = None) -> Fill:
    """Return a fill at ISO time ``when`` (UTC if no offset)."""
    moment = datetime.fromisoformat(when)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Fill(trade_id=trade_id or f"{symbol}-{when}-{side}", client_order_id=ClientOrderId(""),
                symbol=Symbol(symbol), side=Side(side), amount=Decimal(amount), price=Decimal(price),
                fee=Decimal(fee), fee_currency=fee_ccy or symbol.split("/")[1], timestamp=moment)


def daily(currency: str, rate: str, start: date, end: date, source: str = "test") -> list[AudRate]:
    """Return the same rate for every day in [start, end]."""
    days = (end - start).days + 1
    return [AudRate(start + timedelta(days=i), currency, Decimal(rate), source) for i in range(days)]


def rates(*groups: list[AudRate]) -> AudRates:
    """Return an AudRates over all ``groups``."""
    return AudRates([r for group in groups for r in group])
