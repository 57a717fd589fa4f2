"""`tradebot backtests`: stored runs listed side by side through the real CLI on a real SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trader.cli import main
from trader.cli.backtests_cmd import runs_table
from trader.ports.store import BacktestRun
from trader.services.backtest_runs import run_view

PERIOD = ["--pairs", "BTC/USDT", "--timeframe", "1h", "--from", "2023-01-01", "--to", "2023-04-01", "--quiet"]


def test_runs_are_listed_newest_first_with_what_changed_and_their_kpis(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_DATABASE__URL", sqlite_url)
    assert main(["backtests"]) == 0
    assert "no stored backtest runs" in capsys.readouterr().out
    for name, extra in (("plain", []), ("tuned", ["--param", "lookback=60"])):
        code = main(["backtest", "--strategy", "breakout", *PERIOD, *extra, "--save",
                     "--json", str(tmp_path / f"{name}.json")])
        assert code == 0, capsys.readouterr().out
    capsys.readouterr()
    assert main(["backtests"]) == 0
    header, newest, oldest = capsys.readouterr().out.strip().splitlines()
    assert header.split()[:3] == ["ID", "CREATED", "(UTC)"]
    assert newest.split()[0] == "2" and newest.endswith("lookback=60")
    assert oldest.split()[0] == "1" and oldest.endswith("defaults")
    for line, name in ((newest, "tuned"), (oldest, "plain")):
        kpis = json.loads((tmp_path / f"{name}.json").read_text())["kpis"]
        cells = line.split()
        assert cells[7] == str(kpis["trades"])  # after id, date, time, strategy, pair, tf, period
        assert cells[8] == f"{kpis['total_return'] * 100:+.1f}%"
        assert cells[9] == f"{kpis['max_drawdown'] * 100:.1f}%"
    assert newest.split()[7] != oldest.split()[7] or newest.split()[8] != oldest.split()[8]


def test_strategy_filter_and_limit(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_DATABASE__URL", sqlite_url)
    assert main(["backtest", "--strategy", "breakout", *PERIOD, "--save"]) == 0
    capsys.readouterr()
    assert main(["backtests", "--strategy", "bollinger_reversion"]) == 0
    assert "no stored backtest runs of bollinger_reversion" in capsys.readouterr().out
    assert main(["backtests", "--strategy", "breakout", "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
    assert main(["backtests", "--limit", "0"]) != 0
    assert "--limit" in capsys.readouterr().err


def test_runs_stored_with_the_older_kpi_names_still_show_their_drawdown() -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    old = BacktestRun(at, "breakout", {"lookback": 20}, ("ETH/USDT",), "4h", at, at,
                      {"trades": 7, "total_return": -0.05, "max_drawdown_pct": 12.5}, id=9)
    table = runs_table([run_view(old, {"lookback": 20})])
    row = table.splitlines()[1].split()
    assert row[0] == "9" and row[8:11] == ["-5.0%", "12.5%", "n/a"]
    assert row[-1] == "defaults"
