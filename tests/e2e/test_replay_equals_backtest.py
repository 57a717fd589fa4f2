"""One code path: a paper replay through TradingService + PaperExchange + SimClock + a real SQLite store
makes the same trades as the backtest engine on the same candles and parameters (docs/live-engine.md)."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.e2e.replay import Replay
from tests.unit.backtest.reference import trade_key
from trader.backtest.api import slice_signals
from trader.backtest.markets import default_market
from trader.backtest.runner import BacktestSettings, compute_signals, simulate
from trader.config.sections import RiskConfig, TrailingConfig
from trader.domain.candles import CandleFrame, datetime_to_ms
from trader.domain.enums import ExitReason
from trader.domain.ids import Symbol
from trader.positions.state import Position
from trader.sim.costs import FeeModel, SlippageModel
from trader.store.migrate import upgrade_async
from trader.store.uow import Database
from trader.strategies.registry import create

SAMPLE = Path(__file__).resolve().parents[2] / "trader" / "data" / "sample"
BTC, ETH = Symbol("BTC/USDT"), Symbol("ETH/USDT")


def load(name: str) -> CandleFrame:
    return CandleFrame.from_dataframe(pd.read_csv(SAMPLE / f"{name}.csv.gz"))


def year(frame: CandleFrame, first: str, last: str) -> CandleFrame:
    lo = int(np.searchsorted(frame.timestamp, datetime_to_ms(pd.Timestamp(first, tz="UTC").to_pydatetime())))
    hi = int(np.searchsorted(frame.timestamp, datetime_to_ms(pd.Timestamp(last, tz="UTC").to_pydatetime())))
    return frame.slice(0, hi), lo  # type: ignore[return-value]


async def replay_and_backtest(url: str, strategy_name: str, params: dict[str, object], risk: RiskConfig,
                              first: str, last: str) -> tuple[list[Position], list[Position], float]:
    await upgrade_async(url)
    db = Database.from_url(url)
    frames, start = {}, 0
    for symbol, name in ((BTC, "BTC_USDT-1h"), (ETH, "ETH_USDT-1h")):
        frames[symbol], start = year(load(name), first, last)
    assert all(np.array_equal(frames[BTC].timestamp, f.timestamp) for f in frames.values())
    markets = {s: default_market(s, float(f.close[start])) for s, f in frames.items()}
    strategy = create(strategy_name, params)
    settings = BacktestSettings(strategy_name, "1h", risk=risk, fees=FeeModel.flat(Decimal("0.001")),
                                slippage=SlippageModel(Decimal(0)))
    signals = {s: slice_signals(f, start) for s, f in compute_signals(strategy, frames).items()}
    expected = simulate(signals, {s: f.slice(start) for s, f in frames.items()}, markets, settings).positions
    replay = Replay.build(db.uow_factory, strategy, frames, markets, risk)
    replay.warm_up(start, strategy.required_history + 5)
    began = time.perf_counter()
    await replay.run(start)
    elapsed = time.perf_counter() - began
    async with db.uow() as uow:
        got = await uow.positions.finished(limit=100_000)
    await db.dispose()
    return list(expected), sorted(got, key=lambda p: (p.created_at, p.id)), elapsed


RISK = RiskConfig(sizing="fixed_fraction", risk_per_trade=Decimal("0.01"), max_position_pct=Decimal("0.45"))


async def test_replay_of_two_months_makes_the_backtest_trades(sqlite_url: str) -> None:
    expected, got, _ = await replay_and_backtest(sqlite_url, "breakout", {}, RISK, "2023-01-01", "2023-03-01")
    assert sorted(trade_key(p) for p in got) == sorted(trade_key(p) for p in expected)
    assert len(expected) > 3


@pytest.mark.slow
async def test_replay_of_2023_on_btc_and_eth_makes_exactly_the_backtest_trades(sqlite_url: str) -> None:
    # A full year of hourly candles (8,760 per pair) through the live service path: every trade of the
    # backtest, same times, prices, amounts and PnL to the last Decimal digit (docs/live-engine.md).
    expected, got, elapsed = await replay_and_backtest(sqlite_url, "breakout", {}, RISK, "2023-01-01",
                                                       "2024-01-01")
    key = sorted(trade_key(p) for p in expected)
    assert sorted(trade_key(p) for p in got) == key
    assert len(expected) > 40
    print(f"replayed 2 x 8760 candles in {elapsed:.1f} s; {len(expected)} trades equal")


TRAILING_RISK = RISK.model_copy(update={"trailing": TrailingConfig(
    enabled=True, distance=Decimal("0.02"), min_step=Decimal("0.002"), breakeven_at=Decimal("0.01"))})


@pytest.mark.parametrize(("strategy", "params"), [
    ("breakout", {"stop_pct": 0.02, "take_profit_pct": 0.0}),
    ("bollinger_reversion", {"stop_pct": 0.02, "take_profit_pct": 0.04}),
])
async def test_replay_with_trailing_stops_makes_the_backtest_trades(sqlite_url: str, strategy: str,
                                                                    params: dict[str, object]) -> None:
    # trailing moves go through the venue as cancel-then-place (ReplaceStop) in the replay
    expected, got, _ = await replay_and_backtest(sqlite_url, strategy, params, TRAILING_RISK, "2023-03-01",
                                                 "2023-05-01")
    assert sorted(trade_key(p) for p in got) == sorted(trade_key(p) for p in expected)
    assert len(expected) > 5
    assert any(p.exit_reason is ExitReason.TRAILING_STOP for p in expected)
