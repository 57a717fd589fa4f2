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


def test_money_carries_the_quote_currency(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["backtest-pairs", "--pairs", "ETH/USDT,BTC/USDT", "--timeframe", "1h", "--to", "2022-03-01"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    equity = lines[2]
    assert equity.split(" (return ")[0].endswith(" USDT"), equity
    trades = next(line for line in lines if line.startswith("Trades "))
    assert trades.endswith(" USDT"), trades


def test_a_run_without_losing_trades_shows_no_infinite_profit_factor() -> None:
    from decimal import Decimal
    from types import SimpleNamespace

    from trader.cli.pairs_cmd import report_lines
    from trader.core.strategies.pairs import PairParams

    win = SimpleNamespace(pnl=Decimal("12.5"), fees=Decimal("0.25"), side=1, reason="target")
    result = SimpleNamespace(trades=[win], symbols=("ETH/USDT", "BTC/USDT"), timestamps=[0, 3_600_000],
                             equity=[10_000.0, 10_012.5], start_balance=Decimal(10_000), end_equity=10_012.5,
                             max_drawdown=0.0, failed_groups=0)
    trades = next(line for line in report_lines(result, "1h", PairParams(720, 168.0, 3.0, 0.5, 5.0))
                  if line.startswith("Trades "))
    assert "profit factor n/a (no losing trades)" in trades and "inf" not in trades
    assert "win rate 100.0%" in trades and trades.endswith("fees 0.25 USDT")
