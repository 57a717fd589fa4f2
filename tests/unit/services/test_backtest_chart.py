"""The candles-with-trades chart of a real backtest on bundled candles: period, aggregation, markers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trader.core.backtest.api import run_backtest
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame, datetime_to_ms, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError
from trader.core.strategies.registry import create
from trader.ports.charts import MarkerKind
from trader.services.backtest_chart import display_timeframe, trade_chart

SAMPLE = Path(__file__).resolve().parents[3] / "trader" / "data" / "sample"
BTC = Symbol("BTC/USDT")
DAY = 86_400_000
Run = tuple[BacktestResult, CandleFrame, int]


@pytest.fixture(scope="module")
def run() -> Run:
    candles = CandleFrame.from_dataframe(pd.read_csv(SAMPLE / "BTC_USDT-1h.csv.gz")).slice(0, 6000)
    trade_from = int(candles.timestamp[2000])  # the first 2,000 candles only warm the indicators up
    result = run_backtest(create("bollinger_reversion", {}), {BTC: candles}, BacktestSettings("b", "1h"),
                          trade_from_ms=trade_from)
    return result, candles, trade_from


@pytest.mark.parametrize(("timeframe", "span_ms", "expected"), [
    ("1m", 365 * DAY, "1d"),  # a year of minutes: 365 daily candles
    ("1h", 90 * DAY, "12h"),  # 4h would need 540 candles
    ("1h", 10 * DAY, "1h"),  # fits as it is
    ("3m", 1 * DAY, "15m"),  # 5m is not a multiple of 3m
    ("1d", 20 * 365 * DAY, "1w"),  # nothing fits: the coarsest
    ("2w", 400 * DAY, "2w"),  # no standard multiple: the run's own timeframe
])
def test_display_timeframe_is_the_finest_multiple_that_fits(timeframe: str, span_ms: int,
                                                            expected: str) -> None:
    assert display_timeframe(timeframe, span_ms, max_candles=400) == expected


def test_chart_shows_the_traded_period_without_warm_up_aggregated_to_fit(
        run: Run) -> None:
    result, _, trade_from = run
    chart = trade_chart(result, run[1], BTC, max_candles=400)
    shown_tf = display_timeframe("1h", 4000 * 3_600_000, 400)
    assert shown_tf == "12h" and f"{shown_tf} candles" in chart.title
    assert len(chart.candles) <= 401  # partial buckets at both ends
    step = timeframe_ms(shown_tf)
    assert chart.candles.timestamp[0] == trade_from // step * step  # the bucket of the first traded candle
    assert chart.candles.high.max() == run[1].slice(2000).high.max()


def test_every_entry_and_exit_is_marked_at_its_fill_price(run: Run) -> None:
    result, candles, _ = run
    assert len(result.trades) > 5
    chart = trade_chart(result, candles, BTC)
    entries = [m for m in chart.markers if m.kind is MarkerKind.ENTRY]
    exits = [m for m in chart.markers if m.kind is MarkerKind.EXIT]
    assert [(m.time, m.price) for m in entries] == [(t.entry_time, float(t.entry_price))
                                                    for t in result.trades]
    assert [(m.time, m.price) for m in exits] == [(t.exit_time, float(t.exit_price)) for t in result.trades]
    first, end = chart.candles.timestamp[0], chart.candles.timestamp[-1] + timeframe_ms("12h")
    times = np.array([datetime_to_ms(m.time) for m in chart.markers])
    assert ((times >= first) & (times <= end)).all()  # every marker lands on a shown candle
    assert f"{len(result.trades)} trades" in chart.title


def test_a_pair_outside_the_run_is_a_data_error(run: Run) -> None:
    result, candles, _ = run
    with pytest.raises(DataError, match="ETH/USDT"):
        trade_chart(result, candles, "ETH/USDT")
