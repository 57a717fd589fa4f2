"""One code path: `tradebot run --replay` (the shipped runtime and ReplayDriver over a real SQLite store)
makes exactly the trades `tradebot backtest` makes on the same candles and settings, field by field.

Every shipped strategy and the example plugin (``sma_cross``), with and without trailing stops, on
bundled 1h candles (BTC/USDT + ETH/USDT) and on bundled 1m candles resampled to 15m (BTC/USDT).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.e2e.shipped_replay import Case, assert_same_trades, backtest_positions, replay_positions
from trader.config import DcaConfig, RiskConfig, TrailingConfig
from trader.core.domain.candles import CandleFrame, datetime_to_ms
from trader.core.domain.enums import Direction, ExitReason
from trader.core.domain.ids import Symbol

SAMPLE = Path(__file__).resolve().parents[2] / "trader" / "data" / "sample"
BTC, ETH = Symbol("BTC/USDT"), Symbol("ETH/USDT")

RISK = RiskConfig(max_position_pct=Decimal("0.45"))
TRAILING = RISK.model_copy(update={"trailing": TrailingConfig(
    enabled=True, distance=Decimal("0.01"), min_step=Decimal("0.001"), breakeven_at=Decimal("0.005"))})
# Safety orders every 1.5 %, 1.5x bigger each, take-profit 1.5 % and stop 6 % from the average price.
LADDER = DcaConfig(safety_orders=3, step=Decimal("0.015"), size_scale=Decimal("1.5"),
                   take_profit=Decimal("0.015"), stop=Decimal("0.06"))
DCA = RISK.model_copy(update={"risk_per_trade": Decimal("0.005"), "max_position_pct": Decimal("0.6"),
                              "dca": LADDER})
# Parameters that trade often on short samples (the regime filter alone needs 1,000 candles of history).
PARAMS: dict[str, dict[str, Any]] = {
    "breakout": {"regime_filter": False, "require_volume": False, "lookback": 10},
    "bollinger_reversion": {"regime_filter": False, "confirm": "either"},
    "mtf_momentum": {"trend_factor": 4, "trend_fast": 5, "trend_slow": 12, "rsi_entry": 55, "rsi_exit": 45,
                     "stop_atr_mult": 1.5, "reward_risk": 1.5},
    "sma_cross": {"fast": 5, "slow": 20},  # the example plugin (examples/trader_example_strategy)
}


def sample(name: str, first: str, count: int, timeframe: str | None = None) -> CandleFrame:
    """Return ``count`` candles of a bundled sample from the UTC day ``first`` (resampled if asked)."""
    frame = CandleFrame.from_dataframe(pd.read_csv(SAMPLE / f"{name}.csv.gz"))
    if timeframe is not None:
        frame = frame.resample(timeframe)
    first_ms = datetime_to_ms(pd.Timestamp(first, tz="UTC").to_pydatetime())
    start = int(np.searchsorted(frame.timestamp, first_ms))
    return frame.slice(start, start + count)


def hourly(first: str = "2023-03-01", count: int = 500) -> dict[Symbol, CandleFrame]:
    """Return BTC/USDT and ETH/USDT 1h candles."""
    return {BTC: sample("BTC_USDT-1h", first, count), ETH: sample("ETH_USDT-1h", first, count)}


def quarter_hourly() -> dict[Symbol, CandleFrame]:
    """Return BTC/USDT 15m candles resampled from the bundled 1m sample."""
    return {BTC: sample("BTC_USDT-1m", "2024-07-27", 700, "15m")}


DATA: dict[str, Callable[[], dict[Symbol, CandleFrame]]] = {"1h": hourly, "15m": quarter_hourly}


async def assert_replay_equals_backtest(case: Case, tmp_path: Path) -> list[Any]:
    expected = backtest_positions(case)
    got = await replay_positions(case, tmp_path)
    assert_same_trades(expected, got)
    return expected


@pytest.mark.parametrize("strategy", sorted(PARAMS))
async def test_replay_makes_the_backtest_trades_on_1h(tmp_path: Path, strategy: str) -> None:
    expected = await assert_replay_equals_backtest(Case(strategy, hourly(), "1h", RISK, PARAMS[strategy]),
                                                   tmp_path)
    assert len(expected) >= 10 and {p.symbol for p in expected} == {BTC, ETH}


@pytest.mark.parametrize("strategy", ["breakout", "bollinger_reversion"])
async def test_replay_makes_the_backtest_trades_of_a_leveraged_short_strategy(tmp_path: Path,
                                                                             strategy: str) -> None:
    case = Case(strategy, hourly(), "1h", TRAILING, PARAMS[strategy], leverage=3)
    expected = await assert_replay_equals_backtest(case, tmp_path)
    shorts = [p for p in expected if p.direction is Direction.SHORT]
    assert len(shorts) >= 5 and all(p.leverage == 3 for p in expected)
    assert any(p.exit_reason is ExitReason.TRAILING_STOP for p in shorts)
    assert all(p.initial_stop is not None and p.entry_price is not None and p.initial_stop > p.entry_price
               for p in shorts)


async def test_replay_books_the_backtests_funding_from_the_funding_files(tmp_path: Path) -> None:
    frames = hourly()
    start = int(frames[BTC].timestamp[0])
    hour = 3_600_000
    # every hour (as on venues with hourly funding), rates of both signs: longs pay on some, shorts on others
    rates = tuple((start + i * hour, Decimal("0.0001") * ((i % 5) - 2)) for i in range(1, 500))
    case = Case("breakout", frames, "1h", TRAILING, PARAMS["breakout"], leverage=3, funding={BTC: rates})
    expected = await assert_replay_equals_backtest(case, tmp_path)
    funded = [p for p in expected if p.funding]
    assert len(funded) >= 3 and {p.symbol for p in funded} == {BTC}  # ETH has no file: pays none
    assert any(p.funding > 0 for p in funded) and any(p.funding < 0 for p in funded)


@pytest.mark.slow
@pytest.mark.parametrize(("timeframe", "trailing"), [("1h", True), ("15m", False), ("15m", True)])
@pytest.mark.parametrize("strategy", sorted(PARAMS))
async def test_replay_makes_the_backtest_trades_with_and_without_trailing(
        tmp_path: Path, strategy: str, timeframe: str, trailing: bool) -> None:
    case = Case(strategy, DATA[timeframe](), timeframe, TRAILING if trailing else RISK, PARAMS[strategy])
    expected = await assert_replay_equals_backtest(case, tmp_path)
    assert len(expected) >= 4
    if trailing and timeframe == "1h":
        assert any(p.exit_reason is ExitReason.TRAILING_STOP for p in expected)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["breakout", "bollinger_reversion"])
async def test_replay_makes_the_backtest_trades_with_default_parameters(tmp_path: Path,
                                                                      strategy: str) -> None:
    # the regime filter's 1,000-candle history: the replay starts before the first signal after it
    case = Case(strategy, hourly("2023-01-01", 2400), "1h", RISK)
    expected = await assert_replay_equals_backtest(case, tmp_path)
    assert len(expected) >= 3


async def test_replay_makes_the_backtest_trades_with_dca_safety_orders(tmp_path: Path) -> None:
    case = Case("bollinger_reversion", hourly(), "1h", DCA, PARAMS["bollinger_reversion"])
    expected = await assert_replay_equals_backtest(case, tmp_path)
    added = [p for p in expected if p.entry_attempt > 1]
    assert len(expected) >= 10 and len(added) >= 3
    for p in added:  # every add filled, and the stop and target were re-planned from the average entry
        assert p.entry_executed == p.amount and p.entry_price is not None and p.initial_stop is not None
        sign = 1 if p.is_long else -1
        assert abs(p.initial_stop - p.entry_price * (1 - sign * DCA.dca.stop)) <= Decimal("0.01")
        assert p.take_profit is not None
        assert abs(p.take_profit - p.entry_price * (1 + sign * DCA.dca.take_profit)) <= Decimal("0.01")
