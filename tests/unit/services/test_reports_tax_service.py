"""The /tax service path (StoreReportService.tax_report) with opening holdings, over the real runtime."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.fixtures.live_runtime import ADMIN_ACTOR, LiveRuntime
from tests.unit.core.analytics.tax.test_carry_forward import FILLS as CARRY_FILLS
from trader.core.analytics.tax.cgt_events import needed_rates
from trader.core.errors import DataError
from trader.ports.store import AudRate, OpeningParcel
from trader.services.dto import TaxMethod

STARTED = datetime(2021, 12, 1, tzinfo=UTC)  # the USDT deposited before the bot's first trade


async def _closed_trade_with_rates(live: LiveRuntime) -> Decimal:
    """Close one paper trade (February 2022), store every AUD rate the export needs; return USDT spent."""
    position = await live.open_position()
    await live.runtime.services.control.close(position.id, ADMIN_ACTOR)
    await live.advance(1)
    async with live.uow() as uow:
        fills = await uow.fills.since(datetime(2020, 1, 1, tzinfo=UTC))
        needed = needed_rates(fills, ZoneInfo("Australia/Sydney"))
        await uow.aud_rates.upsert(AudRate(day, currency, Decimal("1.4"), "test") for currency, day in needed)
        await uow.commit()
    buys = [f for f in fills if f.side.value == "buy"]
    return sum((f.amount * f.price + (f.fee if f.fee_currency == "USDT" else 0) for f in buys), Decimal(0))


async def test_tax_report_uses_the_stored_opening_usdt_parcel(live_runtime: LiveRuntime) -> None:
    spent = await _closed_trade_with_rates(live_runtime)
    async with live_runtime.uow() as uow:
        await uow.opening_holdings.upsert([OpeningParcel("USDT", Decimal(10_000), STARTED, Decimal(13_500),
                                                         "paper starting balance")])
        await uow.commit()
    document = await live_runtime.runtime.services.reports.tax_report(2022)
    rows = list(csv.reader(io.StringIO(document.content.decode())))
    lines = rows[1:rows.index([])]
    usdt = [r for r in lines if r[0] == "USDT"]
    assert usdt and all(r[8] == "opening USDT 2021-12-01T00:00:00Z" for r in usdt)
    assert sum((Decimal(r[1]) for r in usdt), Decimal(0)) == spent
    # cost base is the opening parcel's 1.35 AUD per USDT; proceeds at the day's 1.40
    assert all(Decimal(r[4]) == (Decimal(r[1]) * Decimal("1.35")).quantize(Decimal("0.01")) for r in usdt)
    assert any(r[0] != "USDT" for r in lines) and "FY2021-22" in document.caption


async def test_tax_report_still_names_the_asset_when_the_opening_parcel_is_too_small(
        live_runtime: LiveRuntime) -> None:
    await _closed_trade_with_rates(live_runtime)
    async with live_runtime.uow() as uow:
        await uow.opening_holdings.upsert([OpeningParcel("USDT", Decimal("0.01"), STARTED, Decimal(0))])
        await uow.commit()
    with pytest.raises(DataError) as raised:
        await live_runtime.runtime.services.reports.tax_report(2022)
    assert "USDT" in raised.value.user_message and "exceeds the 0.01" in raised.value.user_message
    assert "2022-02" in raised.value.user_message


async def test_tax_report_carries_the_records_losses_and_offers_every_method(
        live_runtime: LiveRuntime) -> None:
    # the hand-worked three-year case of test_carry_forward, stored as the bot's own fills
    async with live_runtime.uow() as uow:
        for fill in CARRY_FILLS:
            assert await uow.fills.add(fill)
        await uow.commit()
    reports = live_runtime.runtime.services.reports
    document = await reports.tax_report(2025)
    rows = list(csv.reader(io.StringIO(document.content.decode())))
    summary = {r[1]: r[2] for r in rows if r and r[0] == "summary"}
    assert summary["net_capital_gain_aud"] == "7350.00"  # 10700.00 when the 6,000 carried in is ignored
    assert (summary["prior_year_losses_brought_forward_aud"], summary["prior_year_losses_applied_aud"]) == (
        "6000.00", "6000.00")
    caption = document.caption.splitlines()
    assert caption[0] == ("FY2024-25, first in, first out (FIFO): 3 disposal line(s), "
                          "net capital gain 7,350.00 AUD")
    assert caption[1] == ("Losses from earlier years: 6,000.00 AUD brought forward, 6,000.00 AUD used, "
                          "0.00 AUD carried forward")
    assert caption[2].startswith("ATO: FIFO is accepted") and len(caption) == 4
    assert caption[3] == "Other methods: /tax 2025 highest-cost · /tax 2025 lowest-cost"
    highest = await reports.tax_report(2025, TaxMethod.HIGHEST_COST)
    assert highest.filename == "cgt_FY2024-25_highest-cost.csv"
    assert highest.caption.splitlines()[2].startswith("ATO: accepted, as your records identify")
    async with live_runtime.uow() as uow:  # an opening parcel without a source: not identified
        await uow.opening_holdings.upsert([OpeningParcel("ETH", Decimal(1), STARTED, Decimal(100))])
        await uow.commit()
    lowest = await reports.tax_report(2025, TaxMethod.LOWEST_COST)
    assert "use FIFO, not this method" in lowest.caption.splitlines()[2]
