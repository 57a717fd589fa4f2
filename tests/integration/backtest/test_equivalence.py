"""The fast event-driven runner produces exactly the positions of the per-candle reference loop.

Real bundled candles, both built-in strategies, the real engine, risk and position code on both sides.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.unit.core.backtest.reference import reference_run, trade_key
from trader.config.sections import DcaConfig, RiskConfig, TrailingConfig
from trader.core.backtest.markets import default_market
from trader.core.backtest.runner import BacktestSettings, compute_signals, simulate
from trader.core.domain.candles import CandleFrame
from trader.core.domain.ids import Symbol
from trader.core.positions.state import Position, PositionStatus
from trader.core.sim.costs import FeeModel, SlippageModel
from trader.core.strategies.registry import create

SAMPLE = Path(__file__).resolve().parents[3] / "trader" / "data" / "sample"
BTC, ETH = Symbol("BTC/USDT"), Symbol("ETH/USDT")


def load(name: str, rows: int | None = None) -> CandleFrame:
    frame = CandleFrame.from_dataframe(pd.read_csv(SAMPLE / f"{name}.csv.gz"))
    return frame if rows is None else frame.slice(0, rows)


def compare(strategy: str, params: dict[str, object], candles: dict[Symbol, CandleFrame], timeframe: str,
            risk: RiskConfig, *, detail: dict[Symbol, CandleFrame] | None = None,
            slippage: str = "0") -> list[Position]:
    signals = compute_signals(create(strategy, params), candles)
    markets = {s: default_market(s, float(c.close[0])) for s, c in candles.items()}
    settings = BacktestSettings(strategy, timeframe, risk=risk, fees=FeeModel.flat(Decimal("0.001")),
                                slippage=SlippageModel(Decimal(slippage)))
    fast = simulate(signals, candles, markets, settings, detail=detail)
    slow = reference_run(signals, candles, markets, settings, detail=detail)
    assert [trade_key(p) for p in fast.positions] == [trade_key(p) for p in slow]
    assert fast.steps < sum(len(c) for c in candles.values())  # it did skip candles
    return slow


ALL_IN = RiskConfig(sizing="all_in", max_position_pct=Decimal(1))


def test_all_in_entries_rejected_for_funds_after_slippage_match_reference() -> None:
    # all-in sized at the signal close; a higher next open plus slippage leaves too little quote, so the
    # simulated venue rejects some entries: both engines must see and book the same rejections
    positions = compare("breakout", {}, {BTC: load("BTC_USDT-1h")}, "1h", ALL_IN, slippage="0.0004")
    assert any(p.status is PositionStatus.REJECTED for p in positions)
    assert sum(p.status is PositionStatus.CLOSED for p in positions) > 10


@pytest.mark.parametrize(("strategy", "params"), [
    ("breakout", {}),
    ("bollinger_reversion", {"stop_pct": 0.02, "take_profit_pct": 0.04}),
])
def test_fast_runner_equals_reference_on_bundled_btc_hourly(strategy: str, params: dict[str, object]) -> None:
    trades = compare(strategy, params, {BTC: load("BTC_USDT-1h")}, "1h", ALL_IN)
    assert len(trades) > 30


def test_trailing_stop_with_min_step_and_breakeven_matches_reference() -> None:
    trailing = TrailingConfig(enabled=True, distance=Decimal("0.03"), min_step=Decimal("0.002"),
                              breakeven_at=Decimal("0.015"))
    # 95 %: all-in market entries that slip above the sized price would be rejected for lack of funds.
    risk = ALL_IN.model_copy(update={"trailing": trailing, "max_drawdown_pct": Decimal("0.9"),
                                     "max_position_pct": Decimal("0.95")})
    candles = {BTC: load("BTC_USDT-1h"), ETH: load("ETH_USDT-1h")}  # ticks 0.01 and 0.001
    trades = compare("breakout", {"stop_pct": 0.02, "take_profit_pct": 0.0}, candles, "1h", risk,
                     slippage="0.0005")
    assert len(trades) > 30


def test_two_pairs_share_equity_caps_and_guards_like_live() -> None:
    risk = RiskConfig(sizing="fixed_fraction", risk_per_trade=Decimal("0.02"), max_open_positions=1,
                      max_position_pct=Decimal("0.6"), cooldown_minutes=120,
                      daily_loss_limit_pct=Decimal("0.02"), max_drawdown_pct=Decimal("0.15"))
    candles = {BTC: load("BTC_USDT-1h", 8000), ETH: load("ETH_USDT-1h", 8000)}
    trades = compare("bollinger_reversion", {"stop_pct": 0.02, "take_profit_pct": 0.04}, candles, "1h", risk)
    assert len(trades) > 10


def test_lower_timeframe_detail_resolves_ambiguous_candles_identically() -> None:
    minutes = load("BTC_USDT-1m")
    quarter = minutes.resample("15m")
    params = {"stop_pct": 0.003, "take_profit_pct": 0.003, "regime_filter": False, "confirm": "either",
              "rsi_oversold": 45.0}
    risk = ALL_IN.model_copy(update={"max_position_pct": Decimal("0.95"), "max_drawdown_pct": Decimal("0.9")})
    trades = compare("bollinger_reversion", params, {BTC: quarter}, "15m", risk, detail={BTC: minutes})
    assert len(trades) > 50


def test_daily_loss_limit_and_drawdown_halt_between_events_match_reference() -> None:
    # equity falls while a position is open, between the runner's events: the marks must bring the
    # same daily-loss refusals and the same drawdown halt as a step on every candle
    risk = RiskConfig(sizing="all_in", max_position_pct=Decimal("0.95"), daily_loss_limit_pct=Decimal("0.01"),
                      max_drawdown_pct=Decimal("0.12"), cooldown_minutes=0, cooldown_after_loss_minutes=0,
                      max_consecutive_stops=2)
    candles = {BTC: load("BTC_USDT-1h", 12000), ETH: load("ETH_USDT-1h", 12000)}
    params = {"stop_pct": 0.03, "take_profit_pct": 0.06, "regime_filter": False, "confirm": "either"}
    positions = compare("bollinger_reversion", params, candles, "1h", risk)
    assert 10 < len(positions) < 100  # the halt stops trading part-way


def test_risk_changes_at_their_times_match_a_reference_loop_that_switches_config() -> None:
    # The drift report replays /settings changes: the trailing rule and the sizing change while
    # positions are open, so the fast runner must split its exit search at each change.
    candles = {BTC: load("BTC_USDT-1h", 5000), ETH: load("ETH_USDT-1h", 5000)}
    signals = compute_signals(create("breakout", {"stop_pct": 0.02, "take_profit_pct": 0.0}), candles)
    markets = {s: default_market(s, float(c.close[0])) for s, c in candles.items()}
    wide = RiskConfig(trailing=TrailingConfig(enabled=True, distance=Decimal("0.05")))
    trail = TrailingConfig(enabled=True, distance=Decimal("0.015"), min_step=Decimal("0.002"))
    tight = RiskConfig(risk_per_trade=Decimal("0.02"), trailing=trail)
    hour = 3_600_000
    times = candles[BTC].timestamp
    # BTC holds a position from candle 1984 for 76 hours: the first change tightens its trail mid-way
    changes = ((int(times[2000]) + hour, tight), (int(times[3400]) + hour, RiskConfig()))
    settings = BacktestSettings("breakout", "1h", risk=wide, fees=FeeModel.flat(Decimal("0.001")),
                                slippage=SlippageModel(Decimal(0)), risk_changes=changes)
    fast = simulate(signals, candles, markets, settings)
    slow = reference_run(signals, candles, markets, settings)
    assert [trade_key(p) for p in fast.positions] == [trade_key(p) for p in slow]
    unchanged = simulate(signals, candles, markets, BacktestSettings(
        "breakout", "1h", risk=wide, fees=FeeModel.flat(Decimal("0.001")),
        slippage=SlippageModel(Decimal(0))))
    assert [trade_key(p) for p in unchanged.positions] != [trade_key(p) for p in fast.positions]
    assert len(fast.positions) > 20


@pytest.mark.parametrize("trailing", [False, True])
def test_dca_safety_orders_match_the_per_candle_reference(trailing: bool) -> None:
    # the runner stops its exit search at the close that reaches the next safety level; the reference
    # loop calls step on every candle: both must add, re-plan and exit identically
    dca = DcaConfig(safety_orders=3, step=Decimal("0.015"), size_scale=Decimal("1.5"),
                    take_profit=Decimal("0.015"), stop=Decimal("0.06"))
    risk = RiskConfig(max_position_pct=Decimal("0.6"), risk_per_trade=Decimal("0.005"), dca=dca,
                      trailing=TrailingConfig(enabled=trailing, distance=Decimal("0.02")))
    candles = {BTC: load("BTC_USDT-1h"), ETH: load("ETH_USDT-1h")}
    trades = compare("bollinger_reversion", {"regime_filter": False}, candles, "1h", risk, slippage="0.0005")
    added = [p for p in trades if p.entry_attempt > 1]
    assert len(trades) > 50 and len(added) > (1 if trailing else 10)  # a 2 % trail ends most early
    assert trailing or any(p.entry_attempt == 4 for p in trades)  # the whole ladder was used
