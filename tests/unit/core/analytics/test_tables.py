"""Performance tables and the trade history, against hand counts and independent pandas groupbys."""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from tests.unit.core.analytics.builders import T0, btc_rule_backtest, trade
from trader.core.analytics.tables import (
    Outcome,
    Period,
    TradeFilter,
    by_pair,
    by_period,
    by_strategy,
    history_csv,
    rows_csv,
    trade_history,
)
from trader.core.domain.enums import Direction
from trader.core.errors import InputError

TRADES = [
    trade("10", symbol="BTC/USDT", strategy="breakout", hours=0),
    trade("-4", symbol="BTC/USDT", strategy="mean_reversion", hours=5, fees="0.2"),
    trade("6", symbol="ETH/USDT", strategy="breakout", hours=30),  # closes on 2 Jan
    trade("-1", symbol="ETH/USDT", strategy="breakout", hours=24 * 9),  # closes on 10 Jan (next ISO week)
]


def test_by_pair_aggregates_and_sorts_best_first() -> None:
    btc, eth = by_pair(TRADES)
    assert (btc.key, btc.trades, btc.wins, btc.losses, btc.pnl, btc.fees) == (
        "BTC/USDT", 2, 1, 1, Decimal(6), Decimal("0.2"))
    assert btc.win_rate == 0.5 and btc.profit_factor == pytest.approx(2.5)
    assert btc.average_return == Decimal("0.03")  # (10 % - 4 %) / 2 on a 100 notional
    assert (eth.key, eth.pnl, eth.profit_factor) == ("ETH/USDT", Decimal(5), 6.0)


def test_by_strategy_counts_per_strategy() -> None:
    rows = {r.key: r for r in by_strategy(TRADES)}
    assert rows["breakout"].trades == 3 and rows["breakout"].pnl == Decimal(15)
    assert rows["mean_reversion"].profit_factor == 0.0 and rows["mean_reversion"].losses == 1


def test_daily_table_includes_days_without_trades() -> None:
    rows = by_period(TRADES, Period.DAY)
    assert [r.key for r in rows][:3] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert len(rows) == 10 and rows[2].trades == 0 and rows[2].pnl == 0 and rows[2].win_rate is None
    assert rows[0].pnl == Decimal(6) and rows[1].pnl == Decimal(6) and rows[-1].pnl == Decimal(-1)


def test_weekly_and_monthly_tables_use_iso_weeks_and_months() -> None:
    weeks = by_period(TRADES, Period.WEEK)
    assert [(r.key, r.trades) for r in weeks] == [("2024-W01", 3), ("2024-W02", 1)]
    months = by_period(TRADES, Period.MONTH, start=datetime(2023, 12, 15, tzinfo=UTC),
                       end=datetime(2024, 2, 1, tzinfo=UTC))
    assert [(r.key, r.trades, r.pnl) for r in months] == [
        ("2023-12", 0, 0), ("2024-01", 4, Decimal(11)), ("2024-02", 0, 0)]


def test_period_tables_match_pandas_groupby_on_btc_backtest() -> None:
    trades, _ = btc_rule_backtest()
    frame = pd.DataFrame({"exit": [t.exit_time for t in trades], "pnl": [float(t.pnl) for t in trades]})
    frame["exit"] = pd.to_datetime(frame["exit"], utc=True)
    expected = frame.groupby(frame["exit"].dt.strftime("%Y-%m"))["pnl"].agg(["sum", "count"])
    months = {r.key: r for r in by_period(trades, Period.MONTH)}
    assert set(expected.index) <= set(months)
    for key, row in expected.iterrows():
        assert float(months[str(key)].pnl) == pytest.approx(row["sum"])
        assert months[str(key)].trades == row["count"]
    assert sum(r.trades for r in months.values()) == len(trades)
    days = by_period(trades, Period.DAY)
    assert len(days) == (trades[-1].exit_time.date() - trades[0].exit_time.date()).days + 1


def test_history_filters_by_pair_strategy_direction_outcome_and_dates() -> None:
    assert trade_history(TRADES, TradeFilter(symbol="ETH/USDT")).total == 2
    assert trade_history(TRADES, TradeFilter(strategy="breakout", outcome=Outcome.WON)).total == 2
    assert trade_history(TRADES, TradeFilter(direction=Direction.LONG)).total == len(TRADES)
    assert trade_history(TRADES, TradeFilter(direction=Direction.SHORT)).total == 0
    lost = trade_history(TRADES, TradeFilter(outcome=Outcome.LOST))
    assert [r.pnl for r in lost.trades] == [Decimal(-1), Decimal(-4)]  # newest first
    window = TradeFilter(since=T0 + timedelta(hours=2), until=T0 + timedelta(days=2))
    assert [r.pnl for r in trade_history(TRADES, window).trades] == [Decimal(6), Decimal(-4)]


def test_history_pages_newest_first_from_page_zero() -> None:
    many = [trade(str(i), hours=i) for i in range(23)]
    page = trade_history(many, page=2, page_size=10)
    assert page.total == 23
    assert [r.pnl for r in page.trades] == [Decimal(2), Decimal(1), Decimal(0)]
    assert trade_history(many, page=3, page_size=10).trades == ()  # past the end: empty, not an error
    assert trade_history([], page=0).total == 0
    with pytest.raises(InputError, match="bad page"):
        trade_history(many, page=-1)
    with pytest.raises(InputError, match="bad page"):
        trade_history(many, page_size=0)


def test_csv_exports_have_headers_iso_times_and_seconds() -> None:
    rows = list(csv.DictReader(io.StringIO(history_csv(TRADES, TradeFilter(symbol="BTC/USDT")))))
    assert len(rows) == 2 and rows[0]["pnl"] == "-4" and rows[0]["duration"] == "3600"
    assert rows[0]["exit_time"] == "2024-01-01T06:00:00+00:00"
    assert history_csv([]).startswith("id,symbol,strategy,direction")
    perf = list(csv.DictReader(io.StringIO(rows_csv(by_pair(TRADES)))))
    assert perf[0]["key"] == "BTC/USDT" and perf[0]["pnl"] == "6"
    inf = by_pair([trade("1")])[0]
    assert inf.profit_factor == math.inf
