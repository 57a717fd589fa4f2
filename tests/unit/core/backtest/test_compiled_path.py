"""The compiled loop equals the engine path trade for trade, and hands over to the fast path where it must.

Compared as in test_fast_path (``both``'s checks): every trade's times, prices, amount, fees, PnL (exact
Decimals), exit reason, confidence, entry reason and excursions; refused entries; venue rejections;
step count; and the equity curve (float arithmetic on the same fills).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.core.backtest.test_fast_path import BRISK, BTC, ETH, INERT, gbm, load, trade_rows
from tests.unit.core.strategies.plugin_install import ensure_example_plugin
from trader.config.sections import RiskConfig, TrailingConfig
from trader.core.backtest.api import run_backtest
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.sim.costs import FeeModel, SlippageModel
from trader.core.strategies.base import Strategy
from trader.core.strategies.registry import BUILTINS, create


def both(strategy: Strategy, candles: dict[Symbol, CandleFrame], timeframe: str, risk: RiskConfig, *,
         slippage: str = "0", fee: str | None = "0.001", compiled: bool = True,
         detail: dict[Symbol, CandleFrame] | None = None,
         allow_short: bool = False) -> tuple[BacktestResult, BacktestResult]:
    """Return (compiled-or-fallback, engine) results and assert they are the same run."""
    settings = BacktestSettings(strategy.name, timeframe, risk=risk, allow_short=allow_short,
                                fees=None if fee is None else FeeModel.flat(Decimal(fee)),
                                slippage=SlippageModel(Decimal(slippage)))
    ours = run_backtest(strategy, candles, settings, compiled=compiled, detail=detail)
    engine = run_backtest(strategy, candles, settings, engine_path=True, detail=detail)
    assert trade_rows(ours) == trade_rows(engine)
    assert ours.stops == engine.stops
    assert ours.refused_orders == engine.refused_orders
    assert ours.steps == engine.steps
    np.testing.assert_allclose(ours.equity.to_numpy(), engine.equity.to_numpy(), rtol=1e-12)
    assert ours.equity.index.equals(engine.equity.index)
    assert ours.assumptions["simulation"] == ours.path
    return ours, engine


@pytest.mark.parametrize("name", [cls.name for cls in BUILTINS])
@pytest.mark.parametrize("sizing", ["all_in", "fixed_fraction", "confidence", "kelly"])
def test_every_shipped_strategy_compiled_equals_engine(name: str, sizing: str) -> None:
    risk = INERT.model_copy(update={"sizing": sizing, "kelly_min_trades": 5})
    ours, _ = both(create(name, BRISK[name]), {BTC: load("BTC_USDT-1h", 2500)}, "1h", risk)
    assert ours.path == "compiled"


def test_trailing_slippage_and_rejections_agree() -> None:
    trailing = TrailingConfig(enabled=True, distance=Decimal("0.01"), min_step=Decimal("0.001"),
                              breakeven_at=Decimal("0.004"))
    risk = INERT.model_copy(update={"trailing": trailing, "max_position_pct": Decimal(1)})
    ours, _ = both(create("breakout", {}), {BTC: load("BTC_USDT-1h")}, "1h", risk, slippage="0.0004")
    assert ours.path == "compiled"
    assert ours.refused_orders > 0
    assert any(t.exit_reason == "trailing_stop" for t in ours.trades)


def test_example_plugin_compiled_equals_engine() -> None:
    ensure_example_plugin()
    plugin = create("sma_cross", {"fast": 5, "slow": 20})
    ours, _ = both(plugin, {ETH: load("ETH_USDT-1h", 2000)}, "1h", INERT)
    assert ours.path == "compiled"
    assert len(ours.trades) > 10


@pytest.mark.parametrize(("update", "halted", "loss_days"), [
    ({"max_drawdown_pct": Decimal("0.1")}, True, False),
    ({"daily_loss_limit_pct": Decimal("0.01")}, False, True),
    ({"daily_loss_limit_pct": Decimal("0.02"), "max_drawdown_pct": Decimal("0.2"), "cooldown_minutes": 60,
      "timezone": "America/New_York", "sizing": "fixed_fraction"}, True, False),
])
def test_drawdown_halt_and_daily_loss_limit_in_the_compiled_loop_as_the_engine(
        update: dict[str, Any], halted: bool, loss_days: bool) -> None:
    """The halt (time and words), the daily-loss days and the refusals equal the engine path's."""
    risk = INERT.model_copy(update=update)
    stops = []
    for name in sorted(BRISK):
        ours, _ = both(create(name, BRISK[name]), {BTC: load("BTC_USDT-1h", 2500)}, "1h", risk)
        assert ours.path == "compiled"
        stops.append(ours.stops)
    assert any(s.halts for s in stops) is halted
    assert any(s.daily_loss_days for s in stops) is loss_days
    assert any(r.reason in {"halted", "daily_loss_limit"} for s in stops for r in s.refusals)


def test_guards_on_candles_with_gaps_as_the_engine() -> None:
    """Missing candles: a fill's time (an open) is then no close time; days and cooldowns follow it."""
    frame = load("BTC_USDT-1h", 2500)
    keep = np.sort(np.random.default_rng(3).choice(len(frame), int(len(frame) * 0.85), replace=False))
    gapped = CandleFrame(frame.timestamp[keep], frame.open[keep], frame.high[keep], frame.low[keep],
                         frame.close[keep], frame.volume[keep])
    for update in ({"max_drawdown_pct": Decimal("0.1"), "cooldown_minutes": 90},
                   {"daily_loss_limit_pct": Decimal("0.01"), "max_trades_per_day": 2,
                    "timezone": "Australia/Sydney"}):
        for name in sorted(BRISK):
            ours, _ = both(create(name, BRISK[name]), {BTC: gapped}, "1h", INERT.model_copy(update=update))
            assert ours.path == "compiled"
            assert ours.stops.refused > 0


def test_default_risk_settings_run_compiled() -> None:
    ours, _ = both(create("breakout", BRISK["breakout"]), {BTC: load("BTC_USDT-1h", 800)}, "1h", RiskConfig())
    assert ours.path == "compiled"


@pytest.mark.parametrize(("update", "reason"), [
    ({"cooldown_minutes": 300, "cooldown_after_loss_minutes": 900}, "cooldown"),
    ({"cooldown_minutes": 0, "cooldown_after_loss_minutes": 600}, "cooldown"),
    ({"max_trades_per_day": 1}, "max_trades_per_day"),
    ({"max_consecutive_stops": 1, "sizing": "fixed_fraction"}, "consecutive_stops"),
])
@pytest.mark.parametrize("timezone", ["UTC", "America/New_York"])
def test_count_and_time_guards_refuse_in_the_compiled_loop_as_the_engine_does(
        update: dict[str, Any], reason: str, timezone: str) -> None:
    """Each guard fires on the compiled path; refusals (reason, count, first, last) equal the engine's."""
    risk = INERT.model_copy(update={**update, "timezone": timezone})
    seen = set()
    for name in sorted(BRISK):
        ours, _ = both(create(name, BRISK[name]), {BTC: load("BTC_USDT-1h", 2500)}, "1h", risk)
        assert ours.path == "compiled"
        seen |= {r.reason for r in ours.stops.refusals}
    assert reason in seen


def test_kelly_refuses_without_an_edge_as_the_engine_does() -> None:
    risk = INERT.model_copy(update={"sizing": "kelly", "kelly_min_trades": 3})
    strategy = create("bollinger_reversion", BRISK["bollinger_reversion"])
    ours, _ = both(strategy, {BTC: load("BTC_USDT-1h", 2500)}, "1h", risk)
    assert ours.path == "compiled"
    assert any(r.reason == "no_edge" for r in ours.stops.refusals)


def test_an_edited_rule_file_flushes_the_compiled_loop_cache() -> None:
    """numba watches compiled.py only: a changed sizing/limits/price rule must not run its old copy."""
    from pathlib import Path

    from trader.core.backtest import compiled, kernel

    both(create("breakout", BRISK["breakout"]), {BTC: load("BTC_USDT-1h", 600)}, "1h", INERT)
    cache = compiled._loop._cache  # type: ignore[attr-defined]
    stamp = Path(cache._cache_path) / "_loop.rules-sha256"
    current = stamp.read_text(encoding="ascii")
    assert cache._cache_file._load_index()
    stamp.write_text("digest of older rules", encoding="ascii")
    kernel._flush_stale_cache(compiled._loop, compiled.RULE_FILES)
    assert cache._cache_file._load_index() == {}
    assert stamp.read_text(encoding="ascii") == current


def test_several_pairs_run_compiled() -> None:
    candles = {BTC: load("BTC_USDT-1h", 800), ETH: load("ETH_USDT-1h", 800)}
    result = run_backtest(create("breakout", BRISK["breakout"]), candles, BacktestSettings("breakout", "1h"))
    assert result.path == "compiled"  # tests/unit/core/backtest/test_compiled_pairs.py proves it
    assert "compiled loop" not in result.assumptions


risks: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    sizing=st.sampled_from(["all_in", "fixed_fraction", "confidence", "kelly"]),
    kelly_min_trades=st.sampled_from([3, 10]),
    risk_per_trade=st.sampled_from([Decimal("0.01"), Decimal("0.05"), Decimal("0.2")]),
    max_position_pct=st.sampled_from([Decimal("0.3"), Decimal("0.98"), Decimal(1)]),
    max_exposure_pct=st.sampled_from([Decimal("0.5"), Decimal(1)]),
    max_total_exposure_pct=st.sampled_from([Decimal("0.4"), Decimal(1)]),  # every venue account's cap
    min_confidence=st.sampled_from([Decimal(0), Decimal("0.5"), Decimal("0.7")]),
    default_stop_pct=st.sampled_from([Decimal("0.005"), Decimal("0.02")]),
    expected_slippage=st.sampled_from([Decimal(0), Decimal("0.001")]),
    trailing=st.builds(TrailingConfig, enabled=st.booleans(),
                       distance=st.sampled_from([Decimal("0.005"), Decimal("0.02")]),
                       min_step=st.sampled_from([Decimal(0), Decimal("0.002")]),
                       activation_profit=st.sampled_from([Decimal(0), Decimal("0.01")]),
                       breakeven_at=st.sampled_from([None, Decimal("0.004")])),
    cooldown_minutes=st.sampled_from([0, 60, 300]),
    cooldown_after_loss_minutes=st.sampled_from([0, 120, 900]),
    max_trades_per_day=st.sampled_from([1, 2, 3, 100_000]),
    max_consecutive_stops=st.sampled_from([1, 2, 100_000]),
    timezone=st.sampled_from(["UTC", "UTC", "Australia/Sydney"]),
    max_drawdown_pct=st.sampled_from([Decimal("0.03"), Decimal("0.1"), Decimal(1)]),
    daily_loss_limit_pct=st.sampled_from([Decimal("0.005"), Decimal("0.02"), Decimal(1)]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), vol=st.sampled_from([0.3, 0.8, 2.0]),
       tick=st.sampled_from([0.01, 0.0001]), name=st.sampled_from(sorted(BRISK)), risk=risks,
       slippage=st.sampled_from(["0", "0.0005"]), fee=st.sampled_from(["0.001", "0", None]))
def test_random_candles_and_risk_compiled_equals_engine(
        seed: int, vol: float, tick: float, name: str, risk: dict[str, Any], slippage: str,
        fee: str | None) -> None:
    inert = INERT.model_dump() | risk
    ours, _ = both(create(name, BRISK[name]), {BTC: gbm(seed, 400, vol, tick)}, "1h", RiskConfig(**inert),
                   slippage=slippage, fee=fee)
    assert ours.path == "compiled" or "within float error" in ours.assumptions.get("compiled loop", "") \
        or "when the data ends" in ours.assumptions.get("compiled loop", "")
