"""Result, KPIs, text report and exports of a real run on bundled candles."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from trader.core.analytics.tables import by_strategy
from trader.core.backtest.api import run_backtest
from trader.core.backtest.report import TRADE_COLUMNS, result_json, text_report, trades_csv
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.formatting import money, percent
from trader.core.strategies.registry import create

SAMPLE = Path(__file__).resolve().parents[4] / "trader" / "data" / "sample"


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    candles = CandleFrame.from_dataframe(pd.read_csv(SAMPLE / "BTC_USDT-1h.csv.gz")).slice(0, 6000)
    return run_backtest(create("breakout", {}), {Symbol("BTC/USDT"): candles},
                        BacktestSettings("breakout", "1h"))


def test_equity_curve_covers_every_close_and_ends_at_start_plus_pnl(result: BacktestResult) -> None:
    assert len(result.equity) == result.candles == 6000
    assert result.equity.index.tz is not None
    expected = result.start_balance + sum((t.pnl for t in result.trades), Decimal(0))
    assert result.end_equity == pytest.approx(float(expected), rel=1e-12)


def test_trades_carry_excursions_and_fees(result: BacktestResult) -> None:
    assert len(result.trades) > 5
    for t in result.trades:
        assert t.mae <= 0 <= t.mfe and t.fees > 0 and t.exit_time >= t.entry_time


def test_text_report_names_period_return_ratios_and_assumptions(result: BacktestResult) -> None:
    text = text_report(result)
    for needle in ("Backtest breakout · BTC/USDT · 1h", "CAGR", "Sharpe", "Max drawdown", "win rate",
                   "profit factor", "trades/day", "ambiguous candles", "Volatility", "longest drawdown"):
        assert needle in text
    assert len(text) < 4096  # one Telegram message


def test_text_report_shows_the_by_pair_and_by_strategy_tables_and_both_drawdowns(
        result: BacktestResult) -> None:
    kpis = result.kpis()
    text = text_report(result, kpis)
    [row] = by_strategy(result.trades)
    line = f"By strategy:\n  breakout: {money(row.pnl, 'USDT', sign=True)} over {row.trades} trades"
    assert line in text
    assert "By pair:\n  BTC/USDT: " in text
    deepest, longest = kpis.equity.max_drawdown, kpis.equity.longest_drawdown
    assert longest.duration >= deepest.duration
    assert f"lasting {deepest.duration.total_seconds() / 86_400:.1f} d" in text
    assert f"longest drawdown {longest.duration.total_seconds() / 86_400:.1f} d" in text
    assert f"Volatility {percent(kpis.equity.volatility, sign=False)}" in text
    assert not re.search(r"\d{5,}\.\d|\binf\b|\bnan\b", text)  # no raw floats


def test_csv_has_one_row_per_trade_with_exact_money(result: BacktestResult) -> None:
    rows = list(csv.reader(io.StringIO(trades_csv(result))))
    assert tuple(rows[0]) == TRADE_COLUMNS and len(rows) == len(result.trades) + 1
    first = dict(zip(rows[0], rows[1], strict=True))
    trade = result.trades[0]
    assert Decimal(first["pnl"]) == trade.pnl and first["strategy"] == result.strategy
    assert Decimal(first["return_fraction"]) == trade.return_fraction  # a fraction, as everywhere
    assert float(first["mae"]) == trade.mae and float(first["mfe"]) == trade.mfe


def test_json_round_trips_kpis_trades_and_equity(result: BacktestResult) -> None:
    data = json.loads(result_json(result))
    kpis = result.kpis()
    assert data["kpis"]["trades"] == kpis.trades.trades == len(result.trades)
    assert data["kpis"]["max_drawdown"] == pytest.approx(kpis.equity.max_drawdown.depth)
    assert len(data["trades"]) == len(result.trades) and len(data["equity"]["value"]) == 6000
    assert data["equity"]["value"][-1] == pytest.approx(result.end_equity)
    assert data["assumptions"]["fills"].startswith("signals on candle close")
