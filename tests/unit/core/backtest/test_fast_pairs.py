"""Several pairs sharing one account: the fast path equals the engine path trade for trade.

Shared cash, the open-positions and exposure caps across pairs, entries of several pairs in one instant
(the free cash each leaves to the next), guards and halts over the whole account.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.core.backtest.test_fast_path import BRISK, BTC, ETH, INERT, both, gbm, load, risks
from trader.config.sections import RiskConfig
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.strategies.registry import create

SOL = Symbol("SOL/USDT")


@pytest.mark.parametrize("name", sorted(BRISK))
@pytest.mark.parametrize("risk", [
    RiskConfig(),
    INERT.model_copy(update={"max_position_pct": Decimal("0.45")}),
    RiskConfig(sizing="fixed_fraction", risk_per_trade=Decimal("0.05"), max_open_positions=1),
    RiskConfig(sizing="all_in", max_exposure_pct=Decimal("0.6"), max_position_pct=Decimal("0.5"),
               max_drawdown_pct=Decimal("0.1"), cooldown_minutes=0),
], ids=["default", "inert", "one-at-a-time", "exposure-cap-and-halt"])
def test_bundled_pairs_fast_equals_engine(name: str, risk: RiskConfig) -> None:
    candles = {BTC: load("BTC_USDT-1h", 2500), ETH: load("ETH_USDT-1h", 2500)}
    fast, _ = both(create(name, BRISK[name]), candles, "1h", risk)
    assert fast.path == "fast"
    assert {t.symbol for t in fast.trades} == {BTC, ETH}


def test_same_instant_entries_share_the_free_cash() -> None:
    # identical candles: both pairs signal at the same closes, so every entry pair shares one step
    frame = load("BTC_USDT-1h", 1500)
    twin = CandleFrame(frame.timestamp, frame.open, frame.high, frame.low, frame.close, frame.volume)
    risk = RiskConfig(sizing="all_in", max_position_pct=Decimal("0.7"), max_open_positions=2)
    fast, _ = both(create("breakout", BRISK["breakout"]), {BTC: frame, ETH: twin}, "1h", risk)
    assert fast.path == "fast"
    by_time: dict[object, set[str]] = {}
    for trade in fast.trades:
        by_time.setdefault(trade.entry_time, set()).add(trade.symbol)
    assert any(len(symbols) == 2 for symbols in by_time.values())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), vol=st.sampled_from([0.3, 0.8, 2.0]), name=st.sampled_from(sorted(BRISK)),
       risk=risks, pairs=st.integers(2, 3), open_positions=st.integers(1, 3))
def test_random_pairs_and_risk_fast_equals_engine(seed: int, vol: float, name: str, risk: dict[str, Any],
                                                  pairs: int, open_positions: int) -> None:
    symbols = (BTC, ETH, SOL)[:pairs]
    candles = {s: gbm(seed + i, 300, vol, 0.01) for i, s in enumerate(symbols)}
    config = RiskConfig(**{**risk, "max_open_positions": open_positions})
    fast, _ = both(create(name, BRISK[name]), candles, "1h", config)
    assert fast.path == "fast" or "when the data ends" in fast.path


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), vol=st.sampled_from([0.3, 0.8, 2.0]), name=st.sampled_from(sorted(BRISK)),
       risk=risks, pairs=st.integers(2, 3), open_positions=st.integers(1, 3),
       slippage=st.sampled_from(["0", "0.0005"]))
def test_random_pairs_and_risk_fast_equals_engine_long(
        seed: int, vol: float, name: str, risk: dict[str, Any], pairs: int, open_positions: int,
        slippage: str) -> None:
    symbols = (BTC, ETH, SOL)[:pairs]
    candles = {s: gbm(seed + i, 1500, vol, 0.01) for i, s in enumerate(symbols)}
    config = RiskConfig(**{**risk, "max_open_positions": open_positions})
    fast, _ = both(create(name, BRISK[name]), candles, "1h", config, slippage=slippage)
    assert fast.path == "fast" or "when the data ends" in fast.path
