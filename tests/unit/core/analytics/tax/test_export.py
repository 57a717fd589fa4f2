"""CSV layouts (ATO lines + summary, Koinly universal) and CSV import of fills and rates."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.unit.core.analytics.tax.fixtures import daily, fill, rates
from trader.core.analytics.tax import (
    AudRates,
    FinancialYear,
    MatchMethod,
    build_cgt_report,
    cgt_csv,
    events_from_fills,
    koinly_csv,
    parse_fills_csv,
    parse_rates_csv,
)
from trader.core.analytics.tax.export import CGT_COLUMNS, KOINLY_COLUMNS
from trader.core.domain.enums import Side
from trader.core.errors import InputError

FILLS = [
    fill("2022-05-01T02:00", "BTC/AUD", "buy", "1", "40000", "40"),
    fill("2023-01-10T02:00", "BTC/AUD", "buy", "1", "20000", "20"),
    fill("2023-08-01T02:00", "BTC/AUD", "sell", "1.5", "30000", "45"),
]


def test_cgt_csv_has_a_row_per_parcel_and_a_summary_stating_the_method() -> None:
    report = build_cgt_report(events_from_fills(FILLS, AudRates([])), 2024, MatchMethod.HIGHEST_COST)
    rows = list(csv.reader(io.StringIO(cgt_csv(report))))
    assert tuple(rows[0]) == CGT_COLUMNS
    blank = rows.index([])
    lines = [dict(zip(CGT_COLUMNS, r, strict=True)) for r in rows[1:blank]]
    summary = {r[1]: r[2] for r in rows[blank + 1:]}
    assert [(x["acquisition_date"], x["quantity"], x["capital_gain_aud"], x["discount_eligible"])
            for x in lines] == [("2022-05-01", "1", "-10070.00", "yes"),
                                ("2023-01-10", "0.5", "4975.00", "no")]
    assert summary["parcel_matching_method"] == "specific identification: highest cost first"
    assert summary["financial_year"].startswith("FY2023-24 (2023-07-01 to 2024-06-30)")
    assert Decimal(summary["total_capital_losses_aud"]) == Decimal("10070.00")
    assert Decimal(summary["net_capital_gain_aud"]) == 0  # the loss wipes the non-discount gain
    assert Decimal(summary["losses_carried_forward_aud"]) == Decimal("5095.00")
    total = sum(Decimal(x["capital_gain_aud"]) for x in lines)
    assert total == Decimal(summary["total_capital_gains_aud"]) - Decimal(summary["total_capital_losses_aud"])


def test_koinly_csv_lists_sent_received_fee_and_aud_worth() -> None:
    table = rates(daily("USDT", "1.5", date(2023, 9, 1), date(2023, 9, 3)))
    fills = [fill("2023-09-02T02:03:04", "BTC/USDT", "buy", "0.01", "40000", "0.4", "USDT", trade_id="a1"),
             fill("2023-09-03T02:00", "BTC/USDT", "sell", "0.01", "41000", trade_id="a2")]
    rows = list(csv.DictReader(io.StringIO(koinly_csv(fills, table))))
    assert tuple(rows[0].keys()) == KOINLY_COLUMNS
    buy, sell = rows
    assert buy["Date"] == "2023-09-02 02:03:04 UTC"
    assert (buy["Sent Amount"], buy["Sent Currency"], buy["Received Amount"], buy["Received Currency"]) == (
        "400.00", "USDT", "0.01", "BTC")
    assert (buy["Fee Amount"], buy["Fee Currency"], buy["Net Worth Amount"], buy["Net Worth Currency"]) == (
        "0.4", "USDT", "600.00", "AUD")
    assert (sell["Sent Currency"], sell["Received Amount"], sell["Fee Amount"], sell["TxHash"]) == (
        "BTC", "410.00", "", "a2")


def test_koinly_fee_always_has_a_currency_and_a_year_file_holds_only_that_year() -> None:
    table = rates(daily("USDT", "1.5", date(2023, 6, 29), date(2023, 7, 2)))
    unnamed = replace(fill("2023-07-01T02:00", "BTC/USDT", "buy", "0.01", "40000", "0.4", trade_id="b"),
                      fee_currency="")  # some venues leave the fee currency empty: it was the quote
    earlier = fill("2023-06-29T02:00", "BTC/USDT", "buy", "0.01", "40000", trade_id="a")  # FY2022-23
    rows = list(csv.DictReader(io.StringIO(koinly_csv([earlier, unnamed], table, year=FinancialYear(2024)))))
    assert [(r["TxHash"], r["Fee Amount"], r["Fee Currency"]) for r in rows] == [("b", "0.4", "USDT")]
    assert all(bool(r["Fee Amount"]) == bool(r["Fee Currency"])
               for r in csv.DictReader(io.StringIO(koinly_csv([earlier, unnamed], table))))


def test_parse_fills_csv_reads_iso_and_epoch_times() -> None:
    text = ("timestamp,symbol,side,amount,price,fee,fee_currency,trade_id\n"
            "2024-03-01T10:00:00Z,btc/usdt,BUY,0.5,60000,0.03,usdt,1\n"
            "1709287200000,BTC/USDT,sell,0.5,61000,,,2\n")
    first, second = parse_fills_csv(text)
    assert (first.symbol, first.side, first.amount, first.fee_currency) == (
        "BTC/USDT", Side.BUY, Decimal("0.5"), "USDT")
    assert first.timestamp == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert second.timestamp == datetime(2024, 3, 1, 10, tzinfo=UTC) and second.fee == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2024-03-01T10:00:00,BTC/USDT,buy,1,1,0,USDT,1", "line 2: timestamp .* has no UTC offset"),
        ("2024-03-01T10:00:00Z,BTCUSDT,buy,1,1,0,USDT,1", "line 2: not a pair"),
        ("2024-03-01T10:00:00Z,BTC/USDT,hold,1,1,0,USDT,1", "line 2: 'hold' is not a valid Side"),
        ("2024-03-01T10:00:00Z,BTC/USDT,buy,abc,1,0,USDT,1", "line 2: amount 'abc' is not a number"),
        ("2024-03-01T10:00:00Z,BTC/USDT,buy,-1,1,0,USDT,1", "line 2: amount and price must be positive"),
        ("2024-03-01T10:00:00Z,BTC/USDT,buy,1,1,0,USDT,", "line 2: trade_id is empty"),
    ],
)
def test_bad_fill_rows_name_the_line_and_problem(row: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_fills_csv("timestamp,symbol,side,amount,price,fee,fee_currency,trade_id\n" + row + "\n")


def test_fills_csv_without_required_columns_is_refused() -> None:
    with pytest.raises(InputError, match="lacks column"):
        parse_fills_csv("time,pair\n1,BTC/USDT\n")


def test_parse_rates_csv_reads_rows_and_defaults_the_source() -> None:
    text = "date,currency,aud_rate,source\n2024-03-01,usdt,1.53,rba\n2024-03-02,BTC,95000,\n"
    parsed = parse_rates_csv(text)
    assert [(r.day, r.currency, r.rate, r.source) for r in parsed] == [
        (date(2024, 3, 1), "USDT", Decimal("1.53"), "rba"), (date(2024, 3, 2), "BTC", Decimal(95000), "csv")]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2024-13-01,USDT,1.5,x", "line 3: date '2024-13-01' is not YYYY-MM-DD"),
        ("2024-03-02,USDT,zero,x", "line 3: aud_rate 'zero' is not a number"),
        ("2024-03-02,USDT,0,x", "line 3: aud_rate '0' must be a positive number"),
        ("2024-03-01,USDT,1.6,x", "line 3: duplicate USDT rate for 2024-03-01 .first on line 2"),
    ],
)
def test_bad_rate_rows_name_the_line(row: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_rates_csv(f"date,currency,aud_rate,source\n2024-03-01,USDT,1.5,x\n{row}\n")
