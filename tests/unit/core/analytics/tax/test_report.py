"""CGT report worked examples: parcel splits, methods, swaps, fees in a third currency, missing rates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.core.analytics.tax.fixtures import daily, fill, rates
from trader.core.analytics.tax import AudRates, MatchMethod, ParcelPool, build_cgt_report, events_from_fills
from trader.core.analytics.tax.cgt_events import EventKind
from trader.core.analytics.tax.parcels import Parcel
from trader.core.errors import DataError

D = Decimal
NO_RATES = AudRates([])
TWO_BUYS_ONE_SELL = [
    fill("2023-01-10T02:00", "BTC/AUD", "buy", "1", "20000", "20"),
    fill("2023-03-10T02:00", "BTC/AUD", "buy", "1", "30000", "30"),
    fill("2023-08-01T02:00", "BTC/AUD", "sell", "1.5", "40000", "60"),
]


def test_fifo_splits_second_parcel_and_keeps_remainder_cost() -> None:
    events = events_from_fills(TWO_BUYS_ONE_SELL, NO_RATES)
    report = build_cgt_report(events, 2024, MatchMethod.FIFO)
    first, second = report.lines
    assert (first.quantity, first.cost_base, first.proceeds, first.gain) == (
        D(1), D(20020), D(39960), D(19940))
    assert (second.quantity, second.cost_base, second.proceeds, second.gain) == (
        D("0.5"), D(15015), D(19980), D(4965))
    assert first.acquired_on == date(2023, 1, 10) and second.disposed_on == date(2023, 8, 1)
    assert not first.discount_eligible
    assert report.summary.total_gains == D(24905) and report.summary.net_capital_gain == D(24905)


def test_highest_cost_first_gives_a_smaller_gain_than_fifo() -> None:
    events = events_from_fills(TWO_BUYS_ONE_SELL, NO_RATES)
    hifo = build_cgt_report(events, 2024, MatchMethod.HIGHEST_COST)
    assert [(line.quantity, line.cost_base, line.gain) for line in hifo.lines] == [
        (D(1), D(30030), D(9930)), (D("0.5"), D(10010), D(9970))]
    assert hifo.summary.total_gains == D(19900)
    assert build_cgt_report(events, 2024, MatchMethod.FIFO).summary.total_gains == D(24905)
    assert build_cgt_report(events, 2024, MatchMethod.LOWEST_COST).summary.total_gains == D(24905)


def test_disposals_outside_the_year_consume_parcels_but_are_not_reported() -> None:
    fills = [*TWO_BUYS_ONE_SELL[:2], fill("2023-05-01T02:00", "BTC/AUD", "sell", "1", "25000"),
             fill("2023-07-05T02:00", "BTC/AUD", "sell", "1", "26000")]
    report = build_cgt_report(events_from_fills(fills, NO_RATES), 2024)
    (line,) = report.lines
    assert line.acquisition_ref == fills[1].trade_id and line.gain == D(26000 - 30030)
    assert report.summary.total_losses == D(4030)


def test_discount_uses_the_australian_local_date() -> None:
    fills = [fill("2023-03-09T14:00", "ETH/AUD", "buy", "1", "2000"),  # 10 Mar 01:00 in Sydney
             fill("2024-03-10T13:30", "ETH/AUD", "sell", "0.5", "5000"),  # 11 Mar 00:30 in Sydney
             fill("2024-03-10T12:30", "ETH/AUD", "sell", "0.5", "5000")]  # 10 Mar 23:30: exactly 12 months
    report = build_cgt_report(events_from_fills(fills, NO_RATES), 2024)
    by_day = {line.disposed_on: line.discount_eligible for line in report.lines}
    assert by_day == {date(2024, 3, 10): False, date(2024, 3, 11): True}
    assert report.summary.discount_eligible_gains == D(1500)
    assert report.summary.net_capital_gain == D(1500) + D(750)


def test_crypto_to_crypto_swap_disposes_of_the_asset_given() -> None:
    usdt = rates(daily("USDT", "1.5", date(2023, 9, 1), date(2023, 9, 30)),
                 daily("USDT", "1.6", date(2023, 10, 1), date(2023, 10, 31)))
    fills = [fill("2023-09-01T02:00", "USDT/AUD", "buy", "1000", "1.4"),
             fill("2023-09-02T02:00", "BTC/USDT", "buy", "0.01", "40000", "0.4", "USDT"),
             fill("2023-10-02T02:00", "BTC/USDT", "sell", "0.01", "50000", "0.5", "USDT")]
    events = events_from_fills(fills, usdt)
    assert [(e.kind, e.asset, e.quantity, e.aud) for e in events] == [
        (EventKind.ACQUISITION, "USDT", D(1000), D("1400.0")),
        (EventKind.DISPOSAL, "USDT", D("400.4"), D("600.60")),
        (EventKind.ACQUISITION, "BTC", D("0.01"), D("600.60")),
        (EventKind.DISPOSAL, "BTC", D("0.01"), D("799.20")),
        (EventKind.ACQUISITION, "USDT", D("499.5"), D("799.20")),
    ]
    report = build_cgt_report(events, 2024)
    assert [(line.asset, line.gain) for line in report.lines] == [("USDT", D("40.04")), ("BTC", D("198.60"))]
    assert "USDT 1.6 @2023-10-02 (test)" in report.lines[1].disposal_rate_source


def test_fee_in_third_currency_is_a_disposal_and_part_of_the_cost_base() -> None:
    table = rates(daily("USDT", "1.5", date(2023, 9, 1), date(2023, 9, 5)),
                  daily("BNB", "450", date(2023, 9, 1), date(2023, 9, 5), source="binance BNB/AUD"))
    fills = [fill("2023-09-01T02:00", "USDT/AUD", "buy", "400", "1.5"),
             fill("2023-09-01T03:00", "BNB/AUD", "buy", "0.01", "400"),
             fill("2023-09-02T02:00", "BTC/USDT", "buy", "0.01", "40000", "0.001", "BNB", trade_id="t1")]
    events = events_from_fills(fills, table)
    bnb_fee, usdt_out, btc_in = events[-3:]
    assert (bnb_fee.kind, bnb_fee.asset, bnb_fee.quantity, bnb_fee.aud) == (
        EventKind.DISPOSAL, "BNB", D("0.001"), D("0.450"))
    assert (usdt_out.asset, usdt_out.quantity, usdt_out.aud) == ("USDT", D(400), D("600.0"))
    assert (btc_in.asset, btc_in.aud, btc_in.fee_aud) == ("BTC", D("600.450"), D("0.450"))
    assert "fee BNB 450 @2023-09-02 (binance BNB/AUD)" in btc_in.rate_source
    report = build_cgt_report(events, 2024)
    assert [(line.asset, line.gain) for line in report.lines] == [("BNB", D("0.05")), ("USDT", D(0))]


def test_fee_in_received_asset_reduces_quantity_not_cost() -> None:
    fills = [fill("2023-09-01T02:00", "BTC/AUD", "buy", "1", "30000", "0.001", "BTC")]
    (event,) = events_from_fills(fills, NO_RATES)
    assert (event.quantity, event.aud, event.fee_aud) == (D("0.999"), D(30000), D("30.000"))


def test_missing_aud_rate_names_the_asset_and_date() -> None:
    fills = [fill("2023-09-02T02:00", "BTC/USDT", "buy", "0.01", "40000")]
    with pytest.raises(DataError, match=r"USDT on 2023-09-02") as err:
        events_from_fills(fills, NO_RATES)
    assert "import-rates" in err.value.user_message


def test_stale_rate_window_uses_the_latest_earlier_rate_and_says_so() -> None:
    friday = rates(daily("USD", "1.5", date(2023, 9, 1), date(2023, 9, 1), source="rba"))
    friday.max_stale_days = 2
    usd_fiat = frozenset({"AUD", "USD"})  # USD as fiat here: no forex disposal event
    buy = fill("2023-09-03T02:00", "BTC/USD", "buy", "1", "100")
    events = events_from_fills([buy], friday, fiat=usd_fiat)
    (event,) = events
    assert event.aud == D("150.0") and "@2023-09-01 (rba)" in event.rate_source


def test_selling_more_than_held_is_a_data_error() -> None:
    fills = [fill("2023-09-01T02:00", "BTC/AUD", "buy", "1", "100"),
             fill("2023-09-02T02:00", "BTC/AUD", "sell", "2", "100")]
    with pytest.raises(DataError, match=r"disposal of 2 BTC on 2023-09-02.*exceeds the 1 BTC held"):
        build_cgt_report(events_from_fills(fills, NO_RATES), 2024)


trade_lists = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 500), st.integers(1, 1000)),
    min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(trade_lists, st.sampled_from(list(MatchMethod)))
def test_matching_conserves_quantity_cost_and_proceeds_for_every_method(
        trades: list[tuple[str, int, int]], method: MatchMethod) -> None:
    fills, held = [], 0
    for i, (side, wanted, price) in enumerate(trades):
        qty = wanted if side == "buy" else min(wanted, held)
        if qty == 0:
            continue
        held += qty if side == "buy" else -qty
        when = datetime(2023, 8, 1, tzinfo=UTC) + timedelta(hours=7 * i)  # in generation order
        fills.append(fill(when.isoformat(), "ETH/AUD", side, str(D(qty) / 100), str(price), trade_id=str(i)))
    events = events_from_fills(fills, NO_RATES)
    lines = build_cgt_report(events, 2024, method).lines
    pool = ParcelPool(method)
    for e in events:
        if e.kind is EventKind.ACQUISITION:
            pool.add(Parcel(e.asset, e.time, e.quantity, e.aud, e.ref, ""))
        else:
            pool.take(e.asset, e.quantity, e.time)
    disposals = [e for e in events if e.kind is EventKind.DISPOSAL]
    tolerance = D("0.005") * (len(lines) + 1)
    assert sum((line.quantity for line in lines), D(0)) == sum((e.quantity for e in disposals), D(0))
    assert pool.holding("ETH") == D(held) / 100
    cost_in = sum((e.aud for e in events if e.kind is EventKind.ACQUISITION), D(0))
    cost_left = sum((p.cost_aud for p in pool.parcels("ETH")), D(0))
    assert abs(sum((line.cost_base for line in lines), D(0)) + cost_left - cost_in) <= tolerance
    proceeds_in = sum((e.aud for e in disposals), D(0))
    assert abs(sum((line.proceeds for line in lines), D(0)) - proceeds_in) <= tolerance
    assert all(line.acquired_at <= line.disposed_at and line.quantity > 0 for line in lines)


def test_sell_fees_reduce_proceeds_whatever_the_fee_currency() -> None:
    table = rates(daily("USDT", "1.5", date(2023, 9, 1), date(2023, 9, 3)),
                  daily("BNB", "400", date(2023, 9, 1), date(2023, 9, 3)))
    base_fee = fill("2023-09-02T02:00", "BTC/USDT", "sell", "1", "100", "0.01", "BTC", trade_id="s1")
    third_fee = fill("2023-09-02T03:00", "BTC/USDT", "sell", "1", "100", "0.01", "BNB", trade_id="s2")
    btc_out, usdt_in = events_from_fills([base_fee], table)
    assert (btc_out.quantity, btc_out.aud) == (D("1.01"), D("150.0"))  # gave 1.01 BTC for 100 USDT
    assert (usdt_in.quantity, usdt_in.aud) == (D(100), D("150.0"))
    bnb_out, btc_out2, usdt_in2 = events_from_fills([third_fee], table)
    assert (bnb_out.asset, bnb_out.aud, bnb_out.ref) == ("BNB", D("4.00"), "s2:fee")
    assert (btc_out2.quantity, btc_out2.aud, btc_out2.fee_aud) == (D(1), D("146.00"), D("4.00"))
    assert usdt_in2.quantity == D(100)
