"""`tradebot backtest --strategy pairs`: the pair groups through engine.step, as `backtest-pairs --engine`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trader.cli import main

PERIOD = ["--timeframe", "1h", "--to", "2023-01-01", "--fee", "0.001", "--slippage", "0"]


def _line(out: str, start: str) -> str:
    return next(x for x in out.splitlines() if x.startswith(start))


def test_the_pairs_strategy_runs_the_same_groups_as_backtest_pairs(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest-pairs", "--pairs", "ETH/USDT,BTC/USDT", *PERIOD, "--engine"]) == 0
    engine = capsys.readouterr().out
    code = main(["backtest", "--strategy", "pairs", "--pairs", "ETH/USDT,BTC/USDT", *PERIOD, "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0] == "Backtest pairs · ETH/USDT, BTC/USDT · 1h"
    # one code path: the same end equity to the cent, the same groups by side
    assert _line(engine, "Equity ").split(" (")[0].split("→ ")[1] in _line(out, "Equity ")
    groups = int(_line(engine, "Trades ").split()[1])
    assert groups >= 5 and int(_line(out, "Trades ").split()[1]) == 2 * groups  # one trade per leg
    assert _line(out, "Pair groups ").startswith(f"Pair groups {groups}")
    assert "simulation: engine (pair groups through engine.step)" in out


def test_a_config_with_the_pairs_strategy_needs_no_flags_and_exports_legs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[strategies]]\nname = "pairs"\npairs = ["ETH/USDT", "BTC/USDT"]\nmarket = "swap"\n'
                      'params = { entry_z = 2.5, window = 500 }\n', encoding="utf-8")
    target = tmp_path / "run.json"
    code = main(["--config", str(config), "backtest", "--strategy", "pairs", *PERIOD, "--quiet",
                 "--json", str(target)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "window=500" in out and "entry_z=2.5" in out
    trades = json.loads(target.read_text(encoding="utf-8"))["trades"]
    assert trades and {t["symbol"] for t in trades} == {"ETH/USDT", "BTC/USDT"}
    assert all(t["entry_reason"].startswith("pairs z=") for t in trades)


def test_no_legs_and_flags_that_do_not_apply_are_refused(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    assert main(["--config", str(config), "backtest", "--strategy", "pairs", "--quiet"]) != 0
    assert "needs its two legs" in "".join(capsys.readouterr())
    assert main(["backtest", "--strategy", "pairs", "--pairs", "ETH/USDT,BTC/USDT", "--detail", "5m"]) != 0
    assert "--detail does not apply to the pairs strategy" in "".join(capsys.readouterr())
