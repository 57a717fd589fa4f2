"""Shorts allowed (``allow_short``) in the compiled loops, trade for trade against the engine path.

A spot market cannot short: the engine asks ``risk.check`` for each short signal (a short entry wins no
row with a long entry; ``step.apply_entries``) and it refuses it, after the halt, as
``shorting_unsupported``; each such signal is still a step (equity marks, the drawdown halt). The compiled
loops take those steps too. Markets that can short (perpetual swaps) keep the engine path and say why.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.core.backtest.test_compiled_pairs import DETAIL_PARAMS, SOL, minute_pairs, pairs
from tests.unit.core.backtest.test_compiled_path import both, risks
from tests.unit.core.backtest.test_fast_path import BRISK, BTC, ETH, INERT, gbm, load
from tests.unit.core.strategies.plugin_install import ensure_example_plugin
from trader.config.sections import RiskConfig
from trader.core.backtest.api import run_backtest
from trader.core.backtest.markets import default_market
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.futures import FuturesTerms
from trader.core.strategies.registry import BUILTINS, create

SHORTS = "shorting_unsupported"


def refused(result: Any, reason: str) -> int:
    return sum(r.count for r in result.stops.refusals if r.reason == reason)


@pytest.mark.parametrize("name", [cls.name for cls in BUILTINS])
@pytest.mark.parametrize("risk", [
    RiskConfig(), INERT.model_copy(update={"sizing": "kelly", "kelly_min_trades": 5}),
], ids=["default-risk", "kelly"])
def test_every_shipped_strategy_with_shorts_compiled_equals_engine(name: str, risk: RiskConfig) -> None:
    ours, _ = both(create(name, BRISK[name]), {BTC: load("BTC_USDT-1h", 2500)}, "1h", risk, allow_short=True)
    assert ours.path == "compiled"
    assert refused(ours, SHORTS) > 10


@pytest.mark.parametrize("name", [cls.name for cls in BUILTINS])
def test_every_shipped_strategy_with_shorts_on_two_pairs_compiled_equals_engine(name: str) -> None:
    risk = INERT.model_copy(update={"max_position_pct": Decimal("0.45")})
    ours, _ = both(create(name, BRISK[name]), pairs(), "1h", risk, allow_short=True)
    assert ours.path == "compiled"
    assert refused(ours, SHORTS) > 10


def test_example_plugin_with_shorts_compiled_equals_engine() -> None:
    ensure_example_plugin()
    plugin = create("sma_cross", {"fast": 5, "slow": 20})
    ours, _ = both(plugin, {ETH: load("ETH_USDT-1h", 2000)}, "1h", INERT, allow_short=True)
    assert ours.path == "compiled"


@pytest.mark.parametrize("count", [1, 2])
def test_a_halt_refuses_shorts_as_halted_as_the_engine(count: int) -> None:
    """``risk.check`` reads the halt before the request: a halted run refuses shorts as ``halted``."""
    risk = INERT.model_copy(update={"max_drawdown_pct": Decimal("0.05"), "sizing": "fixed_fraction"})
    halted = 0
    for name in sorted(BRISK):
        candles = dict(list(pairs().items())[:count])
        ours, _ = both(create(name, BRISK[name]), candles, "1h", risk, allow_short=True)
        assert ours.path == "compiled"
        halted += bool(ours.stops.halts) and refused(ours, "halted") > 0
    assert halted


@pytest.mark.parametrize("count", [1, 2])
def test_detail_candles_with_shorts_as_the_engine(count: int) -> None:
    minutes = dict(list(minute_pairs(12_000).items())[:count])
    quarters = {s: frame.resample("15m") for s, frame in minutes.items()}
    strategy = create("bollinger_reversion", {**BRISK["bollinger_reversion"], **DETAIL_PARAMS})
    risk = INERT.model_copy(update={"max_position_pct": Decimal("0.45")})
    ours, _ = both(strategy, quarters, "15m", risk, detail=minutes, allow_short=True)
    assert ours.path == "compiled"
    assert refused(ours, SHORTS) > 0


def test_markets_that_can_short_keep_the_engine_path_and_say_why() -> None:
    strategy = create("breakout", BRISK["breakout"])
    candles = {BTC: load("BTC_USDT-1h", 600)}
    swap = BacktestSettings("breakout", "1h", allow_short=True, futures=FuturesTerms(Decimal(2)))
    result = run_backtest(strategy, candles, swap)
    assert result.path == "engine (short entries)"
    assert result.assumptions["compiled loop"] == "not used: perpetual swaps (margin and funding)"
    spot = default_market(BTC, float(candles[BTC].close[0]))
    margin = replace(spot, capabilities=replace(spot.capabilities, shorting=True))
    result = run_backtest(strategy, candles, BacktestSettings("breakout", "1h", allow_short=True),
                          markets={BTC: margin})
    assert result.path == "engine (short entries)"
    assert result.assumptions["compiled loop"] == "not used: short entries on a market that can short"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), vol=st.sampled_from([0.3, 0.8, 2.0]),
       tick=st.sampled_from([0.01, 0.0001]), name=st.sampled_from(sorted(BRISK)), risk=risks,
       slippage=st.sampled_from(["0", "0.0005"]), fee=st.sampled_from(["0.001", "0", None]))
def test_random_candles_and_risk_with_shorts_compiled_equals_engine(
        seed: int, vol: float, tick: float, name: str, risk: dict[str, Any], slippage: str,
        fee: str | None) -> None:
    config = RiskConfig(**(INERT.model_dump() | risk))
    ours, _ = both(create(name, BRISK[name]), {BTC: gbm(seed, 400, vol, tick)}, "1h", config,
                   slippage=slippage, fee=fee, allow_short=True)
    why = ours.assumptions.get("compiled loop", "")
    assert ours.path == "compiled" or "within float error" in why or "when the data ends" in why


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), vol=st.sampled_from([0.3, 0.8, 2.0]), name=st.sampled_from(sorted(BRISK)),
       risk=risks, count=st.integers(2, 3), open_positions=st.integers(1, 3),
       slippage=st.sampled_from(["0", "0.0005"]))
def test_random_pairs_and_risk_with_shorts_compiled_equals_engine(
        seed: int, vol: float, name: str, risk: dict[str, Any], count: int, open_positions: int,
        slippage: str) -> None:
    symbols = (BTC, ETH, SOL)[:count]
    candles = {s: gbm(seed + i, 400, vol, 0.01) for i, s in enumerate(symbols)}
    config = RiskConfig(**{**INERT.model_dump(), **risk, "max_open_positions": open_positions})
    ours, _ = both(create(name, BRISK[name]), candles, "1h", config, slippage=slippage, allow_short=True)
    why = ours.assumptions.get("compiled loop", "")
    assert ours.path == "compiled" or "within float error" in why or "when the data ends" in why
