"""`tradebot optimise --strategy pairs`: a real Optuna study whose trials run the pair groups."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trader.cli import main
from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.core.backtest.pair_backtest import run_pair_backtest
from trader.core.backtest.settings import BacktestSettings
from trader.core.domain.candles import datetime_to_ms
from trader.core.domain.ids import Symbol
from trader.core.optimise.candidate import build
from trader.core.optimise.evaluate import run_window
from trader.core.optimise.folds import Window
from trader.core.sim.costs import FeeModel

BASE = ["optimise", "--strategy", "pairs", "--pairs", "ETH/USDT,BTC/USDT", "--timeframe", "1h",
        "--to", "2023-06-01", "--param", "halflife=48", "--param", "window=200", "--min-trades", "2",
        "--trials", "6", "--jobs", "1", "--seed", "3"]


def test_a_pairs_study_searches_the_declared_ranges(capsys: pytest.CaptureFixture[str]) -> None:
    # exit_z may meet entry_z: those candidates are refused by the strategy and end infeasible
    code = main([*BASE, "--search", "entry_z=1:2.5:0.5", "--search", "exit_z=0:1.5:0.5"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("optimise pairs · ETH/USDT, BTC/USDT · 1h")
    assert lines[1].startswith("search 2 parameter(s), 16 points: entry_z 1..2.5 step 0.5, exit_z 0..1.5")
    best = next(line for line in lines if line.startswith("latest fold's parameters: "))
    assert "--param entry_z=" in best and "--param exit_z=" in best


def test_a_trial_scores_what_the_pairs_backtest_makes() -> None:
    eth, btc = Symbol("ETH/USDT"), Symbol("BTC/USDT")
    end = datetime_to_ms(datetime(2023, 6, 1, tzinfo=UTC))
    candles = {s: load_candles(SAMPLE_DIR, s, "1h", None, end) for s in (eth, btc)}
    setup = build("pairs", {"window": "200", "halflife": "48", "entry_z": "2"}, (eth, btc))
    settings = BacktestSettings("pairs", "1h", fees=FeeModel.flat(Decimal("0.001")))
    start = int(candles[eth].timestamp[3000])
    got = run_window(setup, candles, Window(start, end), settings)
    expected = run_pair_backtest(setup, candles, settings, trade_from_ms=start)
    assert got.trades == expected.trades and len(got.trades) >= 4
    assert got.end_equity == expected.end_equity
