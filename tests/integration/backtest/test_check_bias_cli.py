"""`tradebot check-bias` through the real CLI: the built-in strategies pass on the bundled candles;
a strategy peeking at the next candle, and one declaring too short a warm-up, fail with exit code 3."""

from __future__ import annotations

import pytest

from tests.fakes.biased_strategies import EmaCross, PeekStrategy
from trader.cli import main
from trader.cli.bias_cmd import BIAS_FOUND
from trader.core.strategies import registry
from trader.core.strategies.base import Strategy
from trader.core.strategies.registry import BUILTINS, StrategyRegistry


@pytest.fixture
def with_biased(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the test strategies next to the built-ins, as an installed plugin would be."""
    extra: tuple[type[Strategy], ...] = (PeekStrategy, EmaCross)
    classes = {s.name: s for s in (*BUILTINS, *extra)}
    monkeypatch.setattr(registry, "default_registry", lambda: StrategyRegistry(classes, {}))


@pytest.mark.parametrize("name", ["breakout", "bollinger_reversion"])
def test_builtin_strategies_pass(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-bias", "--strategy", name, "--pairs", "BTC/USDT,ETH/USDT", "--timeframe", "1h"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("look-ahead: 6 prefixes") == 2 and "FAIL" not in out
    assert out.rstrip().endswith("result: PASS")
    assert "<- required_history" in out


def test_look_ahead_is_flagged_with_a_non_zero_exit(with_biased: None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-bias", "--strategy", "peek_next_candle", "--pairs", "BTC/USDT", "--timeframe", "1h"])
    out = capsys.readouterr().out
    assert code == BIAS_FOUND, out
    look = next(line for line in out.splitlines() if "look-ahead:" in line)
    assert look.endswith("FAIL") and " 0 differ" not in look
    assert "(whole) vs" in out  # an example row names the column and both values
    assert "live latest() vs vectorised" in out and out.rstrip().endswith("result: BIAS FOUND")


def test_too_short_required_history_is_flagged(with_biased: None, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-bias", "--strategy", "ema_cross", "--param", "period=100", "--param", "declared=10",
                 "--pairs", "BTC/USDT", "--timeframe", "1h"])
    out = capsys.readouterr().out
    assert code == BIAS_FOUND, out
    lines = out.splitlines()
    assert next(line for line in lines if "look-ahead:" in line).endswith("PASS")  # no future data used
    assert next(line for line in lines if "live latest()" in line).endswith("FAIL")
    verdict = next(line for line in lines if "signals agree with the full history" in line)
    assert verdict.endswith("FAIL") and "required_history is 10 " in verdict


def test_the_same_strategy_with_an_honest_warm_up_passes(with_biased: None,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-bias", "--strategy", "ema_cross", "--param", "period=100", "--pairs", "BTC/USDT",
                 "--timeframe", "1h", "--from", "2023-01-01"])
    assert code == 0, capsys.readouterr().out


def test_unknown_strategy_and_short_data_are_clear_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-bias", "--strategy", "breakot", "--pairs", "BTC/USDT", "--timeframe", "1h"]) == 1
    assert "did you mean 'breakout'" in capsys.readouterr().err
    code = main(["check-bias", "--strategy", "breakout", "--pairs", "BTC/USDT", "--timeframe", "1h",
                 "--from", "2024-04-01"])
    assert code == 1 and "need more than" in capsys.readouterr().err
