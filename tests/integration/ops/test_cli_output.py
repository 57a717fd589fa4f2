"""`tradebot strategies` lists what `backtest --help` points to; a closed stdout ends any command quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trader.cli import SIGPIPE_EXIT, main
from trader.core.strategies.pair_setup import PARAMS_SPEC
from trader.core.strategies.registry import default_registry
from trader.live.parameters import param_bounds

ROOT = Path(__file__).resolve().parents[3]


def test_strategies_lists_name_description_parameters_with_defaults_and_ranges_and_timeframe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_STRATEGIES", '[{"name": "breakout", "timeframe": "4h"}]')
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    registry = default_registry()
    for name in registry.names():
        cls = registry.get(name)
        assert f"{name}: {cls.description}" in out
        for key, spec in cls.params_spec.items():
            line = next(x for x in out.splitlines()
                        if x.split()[:1] == [key] and f"default {spec.default}" in x)
            assert param_bounds(spec) in line
    assert "timeframe 4h · enabled on BTC/USDT, ETH/USDT" in out
    assert "timeframe 1h (exchange default) · not enabled" in out
    assert "tradebot strategies" in _help("backtest")


def test_the_pairs_strategy_is_listed_with_its_search_ranges(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["strategies", "pairs"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pairs: Pairs statistical arbitrage")
    assert "not enabled (needs 2 pairs: y then x)" in out
    for key, spec in PARAMS_SPEC.items():
        line = next(x for x in out.splitlines() if x.split()[:1] == [key])
        assert f"default {spec.default}" in line and param_bounds(spec) in line
    monkeypatch.setenv("TRADER_STRATEGIES", '[{"name": "pairs", "pairs": ["ETH/USDT", "BTC/USDT"]}]')
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    assert "pairs: Pairs" in out and "enabled on ETH/USDT, BTC/USDT" in out


def test_an_unknown_strategy_name_gets_the_closest_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["strategies", "breakot"]) == 1
    assert "did you mean 'breakout'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["strategies"], ["--help"], ["config", "check"]])
def test_a_reader_that_closes_the_pipe_gets_no_traceback(tmp_path: Path, argv: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    read, write = os.pipe()
    os.close(read)  # `| head` that has already gone: every write fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "trader", *argv], stdout=write, stderr=subprocess.PIPE,
                              cwd=tmp_path, env=env, text=True, timeout=60, check=False)
    finally:
        os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == (0 if argv == ["--help"] else SIGPIPE_EXIT)  # argparse drops its help quietly


def _help(command: str) -> str:
    done = subprocess.run([sys.executable, "-m", "trader", command, "--help"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, check=True)
    return done.stdout


def test_an_unreachable_exchange_ends_a_command_with_one_line_that_promises_no_retry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_EXCHANGE__MAX_RETRIES", "0")
    monkeypatch.setenv("TRADER_EXCHANGE__API_BASE_URL", "http://127.0.0.1:9")  # the discard port: refused
    code = main(["data", "fetch", "--exchange", "binance", "--pair", "BTC/USDT", "--timeframe", "1h",
                 "--since", "2024-01-01"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("error: the exchange did not answer") and "will retry" not in err[-1]
    assert not any("Traceback" in line for line in err)
