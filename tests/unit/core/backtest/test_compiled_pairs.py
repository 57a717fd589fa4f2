"""Several pairs sharing one account: the compiled loop equals the engine path trade for trade.

Compared as in test_compiled_path (``both``): every trade's times, prices, amount, fees, PnL, exit
reason, confidence, entry reason and excursions; refusals (reason, count, first, last); halts and
daily-loss days; venue rejections; step count; the equity curve. Shared cash, the open-positions and
exposure caps across pairs, entries of several pairs in one instant, per-pair cooldowns, the account's
guards and Kelly history.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.core.backtest.test_compiled_path import both, risks
from tests.unit.core.backtest.test_fast_path import BRISK, BTC, ETH, INERT, gbm, load, trade_rows
from tests.unit.core.strategies.plugin_install import ensure_example_plugin
from trader.config.sections import RiskConfig, TrailingConfig
from trader.core import memo
from trader.core.backtest import compiled_pairs, compiled_pairs_inputs
from trader.core.backtest.api import run_backtest
from trader.core.backtest.markets import default_market
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import Symbol
from trader.core.sim.costs import SlippageModel
from trader.core.strategies.registry import BUILTINS, create

SOL = Symbol("SOL/USDT")
TRAILING = TrailingConfig(enabled=True, distance=Decimal("0.01"), min_step=Decimal("0.001"),
                          breakeven_at=Decimal("0.004"))


def pairs(rows: int = 2500) -> dict[Symbol, CandleFrame]:
    return {BTC: load("BTC_USDT-1h", rows), ETH: load("ETH_USDT-1h", rows)}


@pytest.mark.parametrize("name", [cls.name for cls in BUILTINS])
@pytest.mark.parametrize("risk", [
    RiskConfig(),
    INERT.model_copy(update={"max_position_pct": Decimal("0.45")}),
    RiskConfig(sizing="fixed_fraction", risk_per_trade=Decimal("0.05"), max_open_positions=1),
    RiskConfig(sizing="all_in", max_exposure_pct=Decimal("0.6"), max_position_pct=Decimal("0.5"),
               max_drawdown_pct=Decimal("0.1"), cooldown_minutes=0),
    RiskConfig(sizing="confidence", max_total_exposure_pct=Decimal("0.3"), trailing=TRAILING),
    RiskConfig(sizing="kelly", kelly_min_trades=5, cooldown_after_loss_minutes=600),
], ids=["default", "inert", "one-at-a-time", "exposure-cap-and-halt", "total-cap-trailing", "kelly"])
def test_every_shipped_strategy_on_two_pairs_compiled_equals_engine(name: str, risk: RiskConfig) -> None:
    ours, _ = both(create(name, BRISK[name]), pairs(), "1h", risk)
    assert ours.path == "compiled"
    assert {t.symbol for t in ours.trades} == {BTC, ETH}


def test_example_plugin_on_two_pairs_compiled_equals_engine() -> None:
    ensure_example_plugin()
    plugin = create("sma_cross", {"fast": 5, "slow": 20})
    ours, _ = both(plugin, pairs(2000), "1h", RiskConfig(), slippage="0.0004")
    assert ours.path == "compiled"
    assert len(ours.trades) > 10


def test_same_instant_entries_share_the_free_cash() -> None:
    # identical candles: both pairs signal at the same closes, so every entry pair shares one step
    frame = load("BTC_USDT-1h", 1500)
    twin = CandleFrame(frame.timestamp, frame.open, frame.high, frame.low, frame.close, frame.volume)
    risk = RiskConfig(sizing="all_in", max_position_pct=Decimal("0.7"), max_open_positions=2)
    ours, _ = both(create("breakout", BRISK["breakout"]), {BTC: frame, ETH: twin}, "1h", risk)
    assert ours.path == "compiled"
    by_time: dict[object, set[str]] = {}
    for trade in ours.trades:
        by_time.setdefault(trade.entry_time, set()).add(trade.symbol)
    assert any(len(symbols) == 2 for symbols in by_time.values())
    assert any(r.reason == "max_open_positions" for r in ours.stops.refusals) or ours.refused_orders >= 0


def test_pairs_of_different_lengths_end_at_the_last_close() -> None:
    """An end-of-data exit fills at its pair's last close, also when the run's data end later."""
    candles = {BTC: load("BTC_USDT-1h", 2500), ETH: load("ETH_USDT-1h", 1800).slice(200)}
    risk = INERT.model_copy(update={"max_position_pct": Decimal("0.45")})
    ours, _ = both(create("breakout", BRISK["breakout"]), candles, "1h", risk)
    assert ours.path == "compiled"
    assert any(t.exit_reason == "end_of_data" and t.symbol == ETH for t in ours.trades)
    fast, _ = both(create("breakout", BRISK["breakout"]), candles, "1h", risk, compiled=False)
    assert fast.path == "fast"


@pytest.mark.parametrize(("update", "reason"), [
    ({"cooldown_minutes": 300, "cooldown_after_loss_minutes": 900}, "cooldown"),
    ({"max_trades_per_day": 2}, "max_trades_per_day"),
    ({"max_consecutive_stops": 1, "sizing": "fixed_fraction"}, "consecutive_stops"),
    ({"daily_loss_limit_pct": Decimal("0.01"), "timezone": "America/New_York"}, "daily_loss_limit"),
    ({"max_drawdown_pct": Decimal("0.1"), "sizing": "fixed_fraction"}, "halted"),
    ({"max_open_positions": 1}, "max_open_positions"),
    ({"max_exposure_pct": Decimal("0.5"), "max_position_pct": Decimal("0.5")}, "max_exposure"),
])
def test_each_guard_refuses_across_pairs_as_the_engine_does(update: dict[str, Any], reason: str) -> None:
    risk = INERT.model_copy(update={"max_position_pct": Decimal("0.45"), **update})
    seen = set()
    for name in sorted(BRISK):
        ours, _ = both(create(name, BRISK[name]), pairs(), "1h", risk)
        assert ours.path == "compiled"
        seen |= {r.reason for r in ours.stops.refusals}
    assert reason in seen


def test_unsupported_configurations_still_fall_back_and_say_why() -> None:
    settings_ = BacktestSettings("breakout", "1h", allow_short=True, futures=FuturesTerms(Decimal(2)))
    result = run_backtest(create("breakout", BRISK["breakout"]), pairs(600), settings_)
    assert result.path == "engine (short entries)"
    assert result.assumptions["simulation"] == result.path
    assert result.assumptions["compiled loop"] == "not used: perpetual swaps (margin and funding)"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), vol=st.sampled_from([0.3, 0.8, 2.0]), name=st.sampled_from(sorted(BRISK)),
       risk=risks, count=st.integers(2, 3), open_positions=st.integers(1, 3),
       slippage=st.sampled_from(["0", "0.0005"]), fee=st.sampled_from(["0.001", "0", None]))
def test_random_pairs_and_risk_compiled_equals_engine(  # noqa: PLR0917
        seed: int, vol: float, name: str, risk: dict[str, Any],
                                                      count: int, open_positions: int, slippage: str,
                                                      fee: str | None) -> None:
    symbols = (BTC, ETH, SOL)[:count]
    candles = {s: gbm(seed + i, 400, vol, 0.01) for i, s in enumerate(symbols)}
    config = RiskConfig(**{**INERT.model_dump(), **risk, "max_open_positions": open_positions})
    ours, _ = both(create(name, BRISK[name]), candles, "1h", config, slippage=slippage, fee=fee)
    why = ours.assumptions.get("compiled loop", "")
    assert ours.path == "compiled" or "within float error" in why or "when the data ends" in why


def minute_pairs(rows: int) -> dict[Symbol, CandleFrame]:
    """Return two pairs of 1-minute candles: BTC's, and BTC's later minutes on the same clock scaled down."""
    minutes = load("BTC_USDT-1m")
    btc = minutes.slice(0, rows)
    later = minutes.slice(rows, 2 * rows)
    scaled = (np.round(x * 0.07, 2) for x in (later.open, later.high, later.low, later.close))
    o, h, lo, c = scaled
    eth = CandleFrame(btc.timestamp[: len(later)], o, np.maximum(h, np.maximum(o, c)),
                      np.minimum(lo, np.minimum(o, c)), c, later.volume)
    return {BTC: btc, ETH: eth}


DETAIL_PARAMS = {"stop_pct": 0.003, "take_profit_pct": 0.003, "regime_filter": False, "confirm": "either",
                 "rsi_oversold": 45.0}


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("risk", [
    INERT.model_copy(update={"max_position_pct": Decimal("0.45")}),
    RiskConfig(sizing="fixed_fraction", max_drawdown_pct=Decimal("0.05"), cooldown_minutes=30,
               trailing=TRAILING),
], ids=["inert", "guarded-trailing"])
def test_detail_candles_resolve_ambiguous_candles_as_the_engine(count: int, risk: RiskConfig) -> None:
    """Stop and take-profit in one 15-minute candle: its minutes decide, compiled as in the engine."""
    minutes = dict(list(minute_pairs(12_000).items())[:count])
    quarters = {s: frame.resample("15m") for s, frame in minutes.items()}
    strategy = create("bollinger_reversion", {**BRISK["bollinger_reversion"], **DETAIL_PARAMS})
    ours, engine = both(strategy, quarters, "15m", risk, detail=minutes)
    assert ours.path == "compiled"
    assert engine.assumptions["ambiguous candles"] == "resolved with lower-timeframe candles"
    if not risk.trailing.enabled:
        without = run_backtest(strategy, quarters, BacktestSettings("bollinger_reversion", "15m", risk=risk))
        assert trade_rows(without) != trade_rows(ours)  # the detail changed some exits


def test_an_edited_rule_file_flushes_the_pairs_loop_cache() -> None:
    """numba watches compiled_pairs.py only: a changed rule file must not run its old compiled copy."""
    from pathlib import Path

    from trader.core.backtest import kernel

    both(create("breakout", BRISK["breakout"]), pairs(400), "1h", INERT)
    cache = compiled_pairs._pairs_loop._cache  # type: ignore[attr-defined]
    stamp = Path(cache._cache_path) / "_pairs_loop.rules-sha256"
    current = stamp.read_text(encoding="ascii")
    assert cache._cache_file._load_index()
    stamp.write_text("digest of older rules", encoding="ascii")
    kernel._flush_stale_cache(compiled_pairs._pairs_loop, compiled_pairs.RULE_FILES)
    assert cache._cache_file._load_index() == {}
    assert stamp.read_text(encoding="ascii") == current


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), vol=st.sampled_from([0.3, 0.8, 2.0]), name=st.sampled_from(sorted(BRISK)),
       risk=risks, count=st.integers(2, 3), open_positions=st.integers(1, 3),
       rows=st.sampled_from([400, 1000]), tick=st.sampled_from([0.01, 0.0001, 1.0]),
       slippage=st.sampled_from(["0", "0.0005"]))
def test_random_pairs_and_risk_compiled_equals_engine_long(  # noqa: PLR0917
        seed: int, vol: float, name: str, risk: dict[str, Any], count: int, open_positions: int, rows: int,
        tick: float, slippage: str) -> None:
    symbols = (BTC, ETH, SOL)[:count]
    candles = {s: gbm(seed + i, rows, vol, tick) for i, s in enumerate(symbols)}
    config = RiskConfig(**{**INERT.model_dump(), **risk, "max_open_positions": open_positions})
    ours, _ = both(create(name, BRISK[name]), candles, "1h", config, slippage=slippage)
    why = ours.assumptions.get("compiled loop", "")
    assert ours.path == "compiled" or "within float error" in why or "when the data ends" in why


def test_the_loops_parameter_rows_are_shared_in_a_cache_by_what_they_read() -> None:
    markets = {BTC: default_market(BTC, 43_000.0), ETH: default_market(ETH, 2_300.0)}
    base = BacktestSettings("breakout", "1h", risk=RiskConfig(trailing=TrailingConfig(enabled=True)))
    alone = compiled_pairs_inputs.pair_params(base, markets, [BTC, ETH])
    with memo.caching() as cache:
        first = compiled_pairs_inputs.pair_params(base, markets, [BTC, ETH])
        # a trial's own settings and markets: new objects of equal values, the same frozen risk section
        again = compiled_pairs_inputs.pair_params(replace(base, strategy="other"), {
            s: default_market(s, p) for s, p in ((BTC, 43_000.0), (ETH, 2_300.0))}, [BTC, ETH])
        assert again is first and cache.misses == 1
        for changed in (replace(base, start_balance=Decimal(5_000)), replace(base, risk=RiskConfig()),
                        replace(base, slippage=SlippageModel(Decimal("0.001")))):
            assert compiled_pairs_inputs.pair_params(changed, markets, [BTC, ETH]) is not first
        other_market = {**markets, ETH: default_market(ETH, 23.0)}
        assert compiled_pairs_inputs.pair_params(base, other_market, [BTC, ETH]) is not first
    for got, expected in zip(first, alone, strict=True):
        assert got.tobytes() == expected.tobytes()
