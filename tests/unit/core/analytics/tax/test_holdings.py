"""Opening holdings: parcels acquired before the bot's records feed the pool; their CSV is validated."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.unit.core.analytics.tax.fixtures import daily, fill, rates
from trader.core.analytics.tax import (
    AudRates,
    OpeningParcel,
    build_cgt_report,
    cgt_csv,
    events_from_fills,
    opening_events,
    parse_holdings_csv,
)
from trader.core.errors import DataError, InputError

D = Decimal
USDT_FY24 = daily("USDT", "1.50", date(2023, 7, 1), date(2024, 6, 30))
OPENING_USDT = OpeningParcel("USDT", D(10_000), datetime(2023, 5, 31, 14, tzinfo=UTC), D(15_000),
                             "starting balance", "bank statement")
USDT_TRADES = [
    fill("2023-08-01T02:00", "BTC/USDT", "buy", "0.1", "30000", "3", trade_id="b1"),
    fill("2024-03-01T02:00", "BTC/USDT", "sell", "0.1", "40000", "4", trade_id="s1"),
]


def test_usdt_quoted_account_with_an_opening_usdt_parcel_exports_cleanly() -> None:
    events = opening_events([OPENING_USDT]) + events_from_fills(USDT_TRADES, rates(USDT_FY24))
    report = build_cgt_report(events, 2024)
    usdt, btc = report.lines
    # 3,003 USDT spent (3,000 + 3 fee) of the 10,000 bought for 15,000 AUD: cost 4,504.50, proceeds at 1.50
    assert (usdt.asset, usdt.quantity, usdt.cost_base, usdt.proceeds, usdt.gain) == (
        "USDT", D("3003.0"), D("4504.50"), D("4504.50"), D("0.00"))
    assert usdt.acquisition_ref == "opening USDT 2023-05-31T14:00:00Z"
    assert usdt.acquired_on == date(2023, 6, 1)
    assert usdt.acquisition_rate_source == ("opening holding, cost base as recorded "
                                            "(bank statement; starting balance)")
    # BTC cost 4,504.50 AUD (fee included); proceeds (4,000 - 4) x 1.50 = 5,994
    assert (btc.asset, btc.cost_base, btc.proceeds, btc.gain) == ("BTC", D("4504.50"), D("5994.00"),
                                                                  D("1489.50"))
    assert report.summary.net_capital_gain == D("1489.50")
    assert "opening USDT 2023-05-31T14:00:00Z" in cgt_csv(report)


def test_btc_opening_parcel_older_than_twelve_months_gets_the_discount() -> None:
    [btc] = parse_holdings_csv("asset,quantity,acquired_at,cost_base_aud\nBTC,1,2022-08-01,30000\n")
    assert btc.acquired_at == datetime(2022, 7, 31, 14, tzinfo=UTC)  # 00:00 in Sydney (AEST, +10)
    sells = [fill("2023-08-01T02:00", "BTC/AUD", "sell", "0.25", "60000", trade_id="anniversary"),
             fill("2023-08-02T02:00", "BTC/AUD", "sell", "0.25", "60000", trade_id="day-after")]
    report = build_cgt_report(opening_events([btc]) + events_from_fills(sells, AudRates([])), 2024)
    assert [(line.disposal_ref, line.gain, line.discount_eligible) for line in report.lines] == [
        ("anniversary", D(7500), False), ("day-after", D(7500), True)]
    assert report.summary.discount_applied == D(3750) and report.summary.net_capital_gain == D(11250)


def test_missing_acquisition_still_names_asset_and_date_when_no_opening_parcel_covers_it() -> None:
    too_small = OpeningParcel("USDT", D(1000), OPENING_USDT.acquired_at, D(1500))
    events = opening_events([too_small]) + events_from_fills(USDT_TRADES, rates(USDT_FY24))
    with pytest.raises(DataError, match=r"disposal of 3003\.0 USDT on 2023-08-01 02:00 UTC exceeds the "
                                        r"1000 USDT held.*import-holdings") as raised:
        build_cgt_report(events, 2024)
    assert "USDT" in raised.value.user_message
    too_late = OpeningParcel("USDT", D(10_000), datetime(2023, 9, 1, tzinfo=UTC), D(15_000))
    with pytest.raises(DataError, match=r"3003\.0 USDT on 2023-08-01 02:00 UTC exceeds the 0 USDT held"):
        build_cgt_report(opening_events([too_late]) + events_from_fills(USDT_TRADES, rates(USDT_FY24)), 2024)


def test_opening_parcel_at_the_same_instant_as_a_spend_is_acquired_first() -> None:
    same_time = OpeningParcel("USDT", D(5000), datetime(2023, 8, 1, 2, tzinfo=UTC), D(7500))
    events = opening_events([same_time]) + events_from_fills(USDT_TRADES[:1], rates(USDT_FY24))
    (line,) = build_cgt_report(events, 2024).lines
    assert line.asset == "USDT" and line.cost_base == D("4504.50")


def test_holdings_csv_parses_offsets_dates_notes_and_sources() -> None:
    text = ("asset,quantity,acquired_at,cost_base_aud,note,source\n"
            "usdt,10000,2023-06-01T10:00:00+10:00,15000.25,starting balance,CommSec\n"
            "BTC,0.5,2021-01-05T03:00:00Z,25000,,\n"
            "BTC,0.5,2021-01-05,26000,same day other time,\n")
    first, second, third = parse_holdings_csv(text, "h.csv")
    assert first == OpeningParcel("USDT", D(10000), datetime(2023, 6, 1, tzinfo=UTC), D("15000.25"),
                                  "starting balance", "CommSec")
    assert (second.note, second.source) == ("", "")
    assert third.acquired_at == datetime(2021, 1, 4, 13, tzinfo=UTC)  # Sydney midnight in summer (+11)


@pytest.mark.parametrize(("body", "message"), [
    ("BTC,1,2021-01-05T03:00:00Z,x", "h.csv line 3: cost_base_aud 'x' is not a number"),
    ("BTC,0,2021-01-05T03:00:00Z,1", "h.csv line 3: quantity 0 must be positive"),
    ("BTC,1,2021-01-05T03:00:00Z,-1", "h.csv line 3: cost_base_aud -1 must not be negative"),
    ("BTC,NaN,2021-01-05T03:00:00Z,1", "h.csv line 3: quantity 'NaN' is not a finite number"),
    ("BTC,1,2021-01-05T03:00:00,1", "h.csv line 3: acquired_at '2021-01-05T03:00:00' has no UTC offset"),
    ("BTC,1,5/1/2021,1", "h.csv line 3: acquired_at '5/1/2021' is not YYYY-MM-DD or ISO 8601"),
    (",1,2021-01-05T03:00:00Z,1", "h.csv line 3: asset '' is not a currency code"),
    ("aud,1,2021-01-05T03:00:00Z,1", "h.csv line 3: AUD is not a CGT asset"),
    ("BTC/AUD,1,2021-01-05T03:00:00Z,1", "h.csv line 3: asset 'BTC/AUD' is not a currency code"),
    ("BTC,1,2021-01-05T03:00:00Z,1,n,s,extra", "h.csv line 3: more cells than the 6 columns"),
    ("eth,2,2020-01-01T00:00:00Z,1", "line 3: ETH acquired at 2020-01-01T00:00:00+00:00 repeats line 2"),
    (f"BTC,1,2021-01-05T03:00:00Z,1,,{'s' * 129}", "h.csv line 3: source is longer than 128 characters"),
])
def test_a_bad_holdings_row_names_the_file_and_line(body: str, message: str) -> None:
    text = f"asset,quantity,acquired_at,cost_base_aud,note,source\nETH,2,2020-01-01T00:00:00Z,3000\n{body}\n"
    with pytest.raises(InputError) as raised:
        parse_holdings_csv(text, "h.csv")
    assert message in str(raised.value)


def test_holdings_csv_without_required_columns_or_rows_is_refused() -> None:
    with pytest.raises(InputError, match=r"h\.csv: lacks column\(s\) cost_base_aud"):
        parse_holdings_csv("asset,quantity,acquired_at\nBTC,1,2021-01-01\n", "h.csv")
    with pytest.raises(InputError, match=r"h\.csv: no holdings rows"):
        parse_holdings_csv("asset,quantity,acquired_at,cost_base_aud\n", "h.csv")


def test_opening_parcel_refuses_naive_times_and_bad_amounts() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        OpeningParcel("BTC", D(1), datetime(2021, 1, 1), D(1))
    with pytest.raises(ValueError, match="must be positive"):
        OpeningParcel("BTC", D(0), datetime(2021, 1, 1, tzinfo=UTC), D(1))
    with pytest.raises(ValueError, match="must not be negative"):
        OpeningParcel("BTC", D(1), datetime(2021, 1, 1, tzinfo=UTC), D(-1))
