"""KPIs against hand-computed values and against independent pandas one-liners on a BTC rule backtest."""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from tests.unit.core.analytics.builders import T0, btc_rule_backtest, trade
from trader.core.analytics import curve
from trader.core.analytics.kpis import compute_kpis, equity_from_trades, exposure_time, trade_stats
from trader.core.analytics.records import equity_curve, trade_arrays, trades_frame


def daily_curve(values: list[float]) -> pd.Series:
    return equity_curve([T0 + timedelta(days=i) for i in range(len(values))], values)


def test_trade_stats_on_five_trades_match_hand_computed_values() -> None:
    stats = trade_stats([trade("30"), trade("-10"), trade("20"), trade("0"), trade("-20", fees="1.5")])
    assert (stats.trades, stats.wins, stats.losses) == (5, 2, 2)
    assert stats.win_rate == pytest.approx(0.4)
    assert stats.gross_profit == Decimal(50) and stats.gross_loss == Decimal(30)
    assert stats.profit_factor == pytest.approx(5 / 3)
    assert stats.average_win == Decimal(25) and stats.average_loss == Decimal(-15)
    assert stats.expectancy == Decimal(4) and stats.total_pnl == Decimal(20)
    assert stats.total_fees == Decimal("1.5")


def test_trade_stats_without_losses_gives_infinite_profit_factor_and_none_when_empty() -> None:
    assert trade_stats([trade("5"), trade("1")]).profit_factor == math.inf
    empty = trade_stats([])
    assert empty.win_rate is None and empty.profit_factor is None and empty.expectancy is None


def test_max_drawdown_finds_deepest_fall_and_unrecovered_duration() -> None:
    dd = curve.max_drawdown(daily_curve([100, 110, 99, 120, 90, 95]))
    assert dd.depth == pytest.approx(0.25) and dd.amount == pytest.approx(30)
    assert dd.peak_time == T0 + timedelta(days=3) and dd.trough_time == T0 + timedelta(days=4)
    assert dd.recovery_time is None and dd.duration == timedelta(days=2)


def test_max_drawdown_duration_ends_at_recovery() -> None:
    dd = curve.max_drawdown(daily_curve([100, 80, 90, 100, 130]))
    assert dd.depth == pytest.approx(0.2)
    assert dd.recovery_time == T0 + timedelta(days=3) and dd.duration == timedelta(days=3)


def test_rising_curve_has_no_drawdown_and_no_sortino() -> None:
    eq = daily_curve([100, 101, 102, 104])
    assert curve.max_drawdown(eq).depth == 0
    assert curve.sortino_ratio(curve.daily_returns(eq)) is None
    assert curve.calmar_ratio(curve.cagr(eq), curve.max_drawdown(eq)) is None


def test_sharpe_sortino_cagr_on_daily_curve_match_hand_computation() -> None:
    values = [100, 110, 99, 120, 90, 95]
    eq = daily_curve(values)
    r = [values[i + 1] / values[i] - 1 for i in range(5)]
    returns = curve.daily_returns(eq)
    assert returns.to_numpy() == pytest.approx(r)
    sharpe = statistics.mean(r) / statistics.stdev(r) * math.sqrt(365)
    assert curve.sharpe_ratio(returns) == pytest.approx(sharpe)
    downside = math.sqrt(sum(min(x, 0) ** 2 for x in r) / 5)
    assert curve.sortino_ratio(returns) == pytest.approx(statistics.mean(r) / downside * math.sqrt(365))
    assert curve.cagr(eq) == pytest.approx(0.95 ** (365 / 5) - 1)
    kpis = compute_kpis([], eq)
    assert kpis.equity.calmar == pytest.approx((0.95 ** (365 / 5) - 1) / 0.25)
    assert kpis.equity.total_return == pytest.approx(-0.05)


def test_intraday_curve_first_return_is_measured_from_first_point() -> None:
    times = [T0, T0 + timedelta(hours=12), T0 + timedelta(days=1, hours=5)]
    returns = curve.daily_returns(equity_curve(times, [100.0, 105.0, 94.5]))
    assert returns.to_numpy() == pytest.approx([0.05, -0.1])


def test_exposure_time_counts_overlapping_trades_once_and_clips_to_period() -> None:
    trades = [trade("1", hours=0, held=2), trade("1", hours=1, held=2), trade("1", hours=5, held=1),
              trade("1", hours=9, held=5)]
    arrays = trade_arrays(trades)
    start = int(pd.Timestamp(T0).value)
    end = int(pd.Timestamp(T0 + timedelta(hours=10)).value)
    assert exposure_time(arrays, start, end) == pytest.approx((3 + 1 + 1) / 10)


def test_equity_from_trades_steps_at_each_exit() -> None:
    eq = equity_from_trades([trade("-5", hours=3), trade("10", hours=1)], Decimal(100), T0)
    assert eq.to_list() == [100.0, 110.0, 105.0]
    assert eq.index[1] == pd.Timestamp(T0 + timedelta(hours=2))


def test_naive_or_non_utc_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        equity_curve([datetime(2024, 1, 1)], [1.0])
    with pytest.raises(ValueError, match="positive"):
        equity_curve([T0, T0 + timedelta(days=1)], [1.0, 0.0])
    with pytest.raises(ValueError, match="not UTC"):
        replace(trade("1"), entry_time=T0.astimezone(timezone(timedelta(hours=10))))


def test_kpis_on_btc_rule_backtest_match_independent_pandas_computation() -> None:
    trades, eq = btc_rule_backtest()
    assert len(trades) > 300
    kpis = compute_kpis(trades, eq)
    pnl = pd.Series([float(t.pnl) for t in trades])
    assert kpis.trades.win_rate == pytest.approx((pnl > 0).mean())
    assert kpis.trades.profit_factor == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl < 0].sum())
    assert float(kpis.trades.expectancy or 0) == pytest.approx(pnl.mean())
    assert float(kpis.trades.average_loss or 0) == pytest.approx(pnl[pnl < 0].mean())
    assert kpis.equity.max_drawdown.depth == pytest.approx(-(eq / eq.cummax() - 1).min())
    daily = pd.concat([eq.iloc[:1], eq.resample("D").last()]).pct_change().dropna()
    assert kpis.equity.sharpe == pytest.approx(daily.mean() / daily.std() * np.sqrt(365))
    assert kpis.equity.sortino == pytest.approx(
        daily.mean() / np.sqrt((daily.clip(upper=0) ** 2).mean()) * np.sqrt(365))
    span = eq.index[-1] - eq.index[0]
    years = span / pd.Timedelta(days=365)
    assert kpis.equity.cagr == pytest.approx((eq.iloc[-1] / eq.iloc[0]) ** (1 / years) - 1)
    held = sum((t.exit_time - t.entry_time for t in trades), timedelta(0))
    assert kpis.exposure_time == pytest.approx(held / span)
    assert kpis.trades_per_day == pytest.approx(len(trades) / (span / pd.Timedelta(days=1)))


def test_trade_arrays_and_frame_keep_exact_times_and_values() -> None:
    trades = [trade("1.5", hours=1.5), trade("-2", hours=30, held=0.25)]
    arrays = trade_arrays(trades)
    assert arrays.entry_ns.tolist() == [pd.Timestamp(t.entry_time).value for t in trades]
    assert arrays.exit_ns.tolist() == [pd.Timestamp(t.exit_time).value for t in trades]
    assert arrays.pnl.tolist() == [1.5, -2.0]
    frame = trades_frame(trades)
    assert list(frame["pnl"]) == [Decimal("1.5"), Decimal(-2)]
    assert str(frame["exit_time"].dt.tz) == "UTC"
    assert frame["exit_time"][1] == pd.Timestamp(trades[1].exit_time)


def test_volatility_is_the_sample_deviation_of_daily_returns_annualised_with_365_days() -> None:
    values = [100.0, 102.0, 99.0, 101.0, 104.0, 103.0]
    returns = [b / a - 1 for a, b in itertools.pairwise(values)]
    expected = statistics.stdev(returns) * math.sqrt(365)  # empyrical.annual_volatility, 365 periods
    eq = daily_curve(values)
    assert curve.volatility(curve.daily_returns(eq)) == pytest.approx(expected, rel=1e-12)
    assert compute_kpis([], eq).equity.volatility == pytest.approx(expected, rel=1e-12)
    assert curve.volatility(curve.daily_returns(daily_curve([100.0, 101.0]))) is None  # one return


def test_deepest_and_longest_drawdowns_are_different_episodes() -> None:
    # day 0 peak 100, deep fall to 70 recovered on day 2; then peak 105 on day 3, shallow 2-3 %
    # losses for 5 days, never recovered
    values = [100.0, 70.0, 101.0, 105.0, 103.0, 102.0, 104.0, 103.5, 102.9]
    eq = daily_curve(values)
    deepest, longest = curve.max_drawdown(eq), curve.longest_drawdown(eq)
    assert deepest.depth == pytest.approx(0.3) and deepest.duration == timedelta(days=2)
    assert longest.duration == timedelta(days=5) and longest.recovery_time is None
    assert longest.peak_time == T0 + timedelta(days=3) and longest.trough_time == T0 + timedelta(days=5)
    assert longest.depth == pytest.approx(1 - 102 / 105)
    stats = compute_kpis([], eq).equity
    assert stats.max_drawdown == deepest and stats.longest_drawdown == longest


def test_longest_drawdown_of_a_recovered_episode_ends_at_the_recovery() -> None:
    eq = daily_curve([100.0, 99.0, 98.0, 99.5, 100.0, 101.0])
    longest = curve.longest_drawdown(eq)
    assert longest.duration == timedelta(days=4) and longest.recovery_time == T0 + timedelta(days=4)
    assert curve.longest_drawdown(daily_curve([1.0, 2.0, 3.0])) == curve.NO_DRAWDOWN
