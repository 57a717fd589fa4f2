"""``run_pair_backtest``: the pairs strategy's engine run as a BacktestResult, one trade per leg."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import numpy as np

from tests.unit.core.backtest.test_pairs_backtest import PARAMS, H, synthetic
from trader.core.analytics.records import TradeRecord
from trader.core.backtest.pair_backtest import engine_settings, run_pair_backtest
from trader.core.backtest.pairs_engine import run_pairs_engine
from trader.core.backtest.report import group_lines, text_report
from trader.core.backtest.settings import BacktestSettings
from trader.core.domain.candles import CandleFrame
from trader.core.domain.enums import Direction
from trader.core.domain.ids import Symbol
from trader.core.engine.pair_groups import split_leg_id
from trader.core.sim.costs import FeeModel
from trader.core.strategies.pair_setup import PairSetup

SETUP = PairSetup("Y/USDT", "X/USDT", PARAMS, Decimal("0.3"))
SETTINGS = BacktestSettings("pairs", "1h", fees=FeeModel.flat(Decimal("0.0005")))


def candles() -> dict[Symbol, CandleFrame]:
    y, x = synthetic()
    return {Symbol("Y/USDT"): y, Symbol("X/USDT"): x}


def test_each_leg_is_a_trade_and_the_groups_sum_to_the_engine_runs_pnl() -> None:
    frames = candles()
    result = run_pair_backtest(SETUP, frames, SETTINGS)
    y, x = frames[Symbol("Y/USDT")], frames[Symbol("X/USDT")]
    run = run_pairs_engine(y, x, SETUP, engine_settings(SETTINGS))
    groups: dict[str, list[TradeRecord]] = defaultdict(list)
    for t in result.trades:
        split = split_leg_id(t.id)
        assert split is not None and t.strategy == "pairs"
        groups[split[0]].append(t)
    closed = {g.id: g for g in run.groups}
    assert len(groups) >= 20 and set(groups) <= set(closed)
    for group_id, legs in groups.items():
        assert {t.symbol for t in legs} == {"Y/USDT", "X/USDT"}
        assert {t.direction for t in legs} == {Direction.LONG, Direction.SHORT}
        assert sum(t.pnl for t in legs) == closed[group_id].realised_pnl
    total = sum(t.pnl for t in result.trades)
    # flat at the end (the last group closed at the end of data): the PnL is the equity's change
    assert abs(float(total) - (result.end_equity - 10_000)) < 1e-6
    assert np.array_equal(result.equity.to_numpy(), run.equity)
    assert result.refused_orders == sum(g.group.status.value == "failed" for g in run.groups)


def test_candles_before_trade_from_only_warm_the_statistics_up() -> None:
    frames = candles()
    start = int(frames[Symbol("Y/USDT")].timestamp[1500])
    result = run_pair_backtest(SETUP, frames, SETTINGS, trade_from_ms=start)
    assert result.trades and min(t.entry_time for t in result.trades).timestamp() * 1000 > start
    assert int(result.equity.index[0].timestamp() * 1000) == start + H  # the first traded candle's close
    assert result.candles == 2 * (3000 - 1500)


def test_the_report_lists_the_groups_leg_by_leg() -> None:
    result = run_pair_backtest(SETUP, candles(), SETTINGS)
    lines = group_lines(result.trades, "USDT", shown=2)
    assert lines[0].startswith("Pair groups ") and lines[0].endswith("the last 2:")
    assert len(lines) == 1 + 2 * 3  # per group: its line, then the y leg and the x leg
    assert lines[2].startswith("    Y/USDT ") and lines[3].startswith("    X/USDT ")
    report = text_report(result)
    assert "simulation: engine (pair groups through engine.step)" in report and "Pair groups" in report
    assert group_lines((), "USDT") == []
