"""`tradebot backtest-pairs` through the real CLI on the bundled ETH/USDT and BTC/USDT hourly candles."""

from __future__ import annotations

import pytest

from trader.cli import main


def test_the_pairs_backtest_prints_a_report(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest-pairs", "--pairs", "ETH/USDT,BTC/USDT", "--timeframe", "1h"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "Backtest pairs · ETH/USDT vs BTC/USDT · 1h"
    assert "(20,198 candles)" in lines[1] and lines[2].startswith("Equity 10,000.00 → ")
    trades = next(line for line in lines if line.startswith("Trades "))
    assert int(trades.split()[1]) >= 10 and "long spread" in trades and "short spread" in trades
    assert "modelled short" in out


def test_the_engine_path_prints_the_same_report_shape_and_nearly_the_same_trades(
        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["backtest-pairs", "--pairs", "ETH/USDT,BTC/USDT", "--timeframe", "1h", "--to", "2023-01-01"]
    assert main(args) == 0
    loop = capsys.readouterr().out.splitlines()
    assert main([*args, "--engine"]) == 0
    engine = capsys.readouterr().out.splitlines()
    assert engine[-1].startswith("model: engine.step over the simulator")

    def line(lines: list[str], start: str) -> str:
        return next(x for x in lines if x.startswith(start))

    trades = line(engine, "Trades ")
    assert int(trades.split()[1]) >= 5
    # the same groups by side and exit (amounts may differ by one market step, so money by cents)
    assert trades.split(" · ")[0] == line(loop, "Trades ").split(" · ")[0]
    assert line(engine, "Exits") == line(loop, "Exits")


def test_one_pair_is_refused_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest-pairs", "--pairs", "ETH/USDT", "--timeframe", "1h"])
    captured = capsys.readouterr()
    assert code != 0
    assert "exactly two pairs" in captured.err + captured.out
