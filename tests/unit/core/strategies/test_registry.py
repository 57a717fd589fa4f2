"""The registry finds built-ins and entry-point plugins, builds them with validated parameters, and
explains unknown names, bad parameters and broken plugins."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trader.core.domain.candles import CandleFrame
from trader.core.errors import StrategyError
from trader.core.strategies import registry
from trader.core.strategies.base import Param, Strategy
from trader.core.strategies.breakout import BreakoutStrategy
from trader.core.strategies.guard import GuardedStrategy
from trader.core.strategies.registry import StrategyRegistry


def test_available_lists_builtins_with_description_and_params() -> None:
    listing = {name: (description, spec) for name, description, spec in registry.available()}
    assert {"breakout", "bollinger_reversion"} <= set(listing)
    description, spec = listing["breakout"]
    assert "high" in description
    assert isinstance(spec["stop_pct"], Param)
    assert spec["stop_pct"].default == 0.0
    assert spec["regime_filter"].default is True


def test_create_returns_a_strategy_with_params_applied() -> None:
    strategy = registry.create("breakout", {"stop_pct": "0.02", "lookback": 30})
    assert isinstance(strategy, BreakoutStrategy)
    assert strategy.params["stop_pct"] == 0.02
    assert strategy.params["lookback"] == 30
    assert strategy.params["ema_slow"] == 50


def test_unknown_name_suggests_the_closest_match() -> None:
    with pytest.raises(StrategyError, match="did you mean 'breakout'") as info:
        registry.create("breakuot", {})
    assert "breakout" in info.value.user_message


def test_unknown_name_without_close_match_lists_what_exists() -> None:
    with pytest.raises(StrategyError, match=r"available: .*bollinger_reversion"):
        registry.create("zzzz", {})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lookback": 0}, "below the minimum"),
        ({"lookback": 2.5}, "not an integer"),
        ({"stop_mode": "moon"}, "not one of"),
        ({"no_such": 1}, "unknown parameter"),
        ({"ema_fast": 60, "ema_slow": 50}, "ema_fast must be shorter"),
        ({"rsi_low": 80.0}, "rsi_low must be below rsi_high"),
    ],
)
def test_invalid_parameter_raises_strategy_error_naming_it(params: dict[str, object], message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        registry.create("breakout", params)


def test_example_plugin_is_discovered_through_its_entry_point(btc_1h: CandleFrame) -> None:
    assert "sma_cross" in registry.reload().names()
    strategy = GuardedStrategy(registry.create("sma_cross", {"fast": 5, "slow": 20}))
    assert type(strategy.inner).__module__ == "trader_example_strategy.sma_cross"
    frame = strategy.compute(btc_1h.slice(0, 2000))
    assert frame.enter_long.sum() > 10


def test_example_plugin_is_found_by_a_fresh_interpreter() -> None:
    code = "from trader.core.strategies import registry; print(registry.create('sma_cross', {}).name)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "sma_cross"


def _fake_distribution(root: Path, entry_points: dict[str, str], module_source: str) -> None:
    """Write an installed distribution (dist-info + module) that importlib.metadata will find."""
    info = root / "fakeplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 0.1\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[trader.strategies]\n{lines}\n")
    (root / "fakeplug.py").write_text(textwrap.dedent(module_source))


PLUGIN_SOURCE = """
    from trader.core.strategies.breakout import BreakoutStrategy

    class Good(BreakoutStrategy):
        name = "fake_good"
        description = "a fine plugin"

    class Misnamed(BreakoutStrategy):
        name = "something_else"

    class NotAStrategy:
        name = "fake_plain"
"""


def test_broken_plugins_are_refused_with_reasons_and_good_ones_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_distribution(
        tmp_path,
        {
            "fake_good": "fakeplug:Good",
            "fake_missing": "fakeplug_nowhere:Thing",
            "fake_plain": "fakeplug:NotAStrategy",
            "fake_misnamed": "fakeplug:Misnamed",
            "breakout": "fakeplug:Good",
        },
        PLUGIN_SOURCE,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = StrategyRegistry.discover()
    assert "fake_good" in found.names()
    assert found.get("breakout") is BreakoutStrategy  # a plugin cannot take over a built-in's name
    refused = found.refused()
    assert "import failed: ModuleNotFoundError" in refused["fake_missing"]
    assert "not a trader.core.strategies.base.Strategy subclass" in refused["fake_plain"]
    assert "differs from the class's name" in refused["fake_misnamed"]
    assert "already taken" in refused["breakout"]
    with pytest.raises(StrategyError, match="installed but could not be loaded: import failed"):
        found.create("fake_missing")


def test_plugin_constructor_crash_becomes_strategy_error() -> None:
    class Exploding(Strategy):
        name = "exploding"

        def __init__(self) -> None:
            raise ZeroDivisionError("boom")

        @property
        def required_history(self) -> int:
            return 1

        def compute(self, candles: CandleFrame):  # type: ignore[no-untyped-def]
            raise NotImplementedError

    with pytest.raises(StrategyError, match="failed to start: ZeroDivisionError: boom"):
        StrategyRegistry({"exploding": Exploding}, {}).create("exploding")
