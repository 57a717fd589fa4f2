"""BacktestService over the real runtime's candle store: report, chart, stored run, refusals."""

from __future__ import annotations

import pytest

from tests.fixtures.live_runtime import ADMIN_ACTOR, LiveRuntime, MakeRuntime
from trader.config import StrategyEntry
from trader.core.errors import DataError, InputError
from trader.services.dto import BacktestRequest

PNG = b"\x89PNG\r\n\x1a\n"


async def test_backtest_on_stored_candles_reports_kpis_chart_and_stores_the_run(
        live_runtime: LiveRuntime) -> None:
    request = BacktestRequest("breakout", "BTC/USDT", "1h", 120)
    report = await live_runtime.runtime.services.backtests.run(request)
    assert report.trades > 0 and report.final_equity > 0
    assert (report.end - report.start).days in (119, 120)
    assert report.chart is not None and report.chart.png.startswith(PNG)
    assert report.trades_chart is not None and report.trades_chart.png.startswith(PNG)
    assert f"{report.trades} trades" in report.trades_chart.caption  # every trade of the run is marked
    assert report.win_rate is not None and 0 <= report.win_rate <= 1
    async with live_runtime.uow() as uow:
        [run] = await uow.backtests.recent(5)
    assert run.strategy == "breakout" and run.pairs == ("BTC/USDT",) and run.kpis["trades"] == report.trades


async def test_backtest_uses_the_running_parameters(live_runtime: LiveRuntime) -> None:
    backtests = live_runtime.runtime.services.backtests
    before = await backtests.run(BacktestRequest("breakout", "ETH/USDT", "1h", 120))
    control = live_runtime.runtime.services.control
    await control.apply_setting(await control.preview_setting("breakout.lookback", "60"), ADMIN_ACTOR)
    after = await backtests.run(BacktestRequest("breakout", "ETH/USDT", "1h", 120))
    assert (before.trades, before.final_equity) != (after.trades, after.final_equity)


async def test_backtest_of_an_unknown_strategy_is_a_data_error_with_a_hint(live_runtime: LiveRuntime) -> None:
    with pytest.raises(DataError) as raised:
        await live_runtime.runtime.services.backtests.run(BacktestRequest("breakoutt", "BTC/USDT"))
    assert "breakout" in raised.value.user_message


async def test_backtest_of_a_pair_without_candles_is_a_data_error(live_runtime: LiveRuntime) -> None:
    with pytest.raises(DataError, match="DOGE/USDT"):
        await live_runtime.runtime.services.backtests.run(BacktestRequest("breakout", "DOGE/USDT"))


async def test_backtest_days_out_of_range_is_an_input_error(live_runtime: LiveRuntime) -> None:
    with pytest.raises(InputError):
        await live_runtime.runtime.services.backtests.run(BacktestRequest("breakout", "BTC/USDT", days=0))


async def test_recent_runs_compare_kpis_and_the_parameters_that_changed(live_runtime: LiveRuntime) -> None:
    backtests = live_runtime.runtime.services.backtests
    assert await backtests.recent() == ()
    first = await backtests.run(BacktestRequest("breakout", "ETH/USDT", "1h", 120))
    control = live_runtime.runtime.services.control
    await control.apply_setting(await control.preview_setting("breakout.lookback", "60"), ADMIN_ACTOR)
    second = await backtests.run(BacktestRequest("breakout", "ETH/USDT", "1h", 120))
    newest, oldest = await backtests.recent(5)
    assert (newest.id, oldest.id) == (2, 1)
    assert ("lookback", "60") in newest.changed and ("lookback", "60") not in oldest.changed
    for view, report in ((newest, second), (oldest, first)):
        assert view.trades == report.trades and view.pairs == ("ETH/USDT",) and view.timeframe == "1h"
        assert view.total_return is not None
        assert abs(view.total_return * 100 - float(report.total_return) * 100) < 1e-9
        assert view.max_drawdown is not None and view.max_drawdown >= 0
    assert len(await backtests.recent(1)) == 1


async def test_backtest_of_the_pairs_strategy_runs_its_configured_couple_as_groups(
        make_runtime: MakeRuntime) -> None:
    params = {"window": 48, "halflife": 24, "entry_z": 2.0, "exit_z": 0.0, "stop_z": 4.0}
    entry = StrategyEntry(name="pairs", pairs=("ETH/USDT", "BTC/USDT"), market="swap", params=params)
    live = await make_runtime(strategies=(entry,))
    backtests = live.runtime.services.backtests
    report = await backtests.run(BacktestRequest("pairs", "BTC/USDT", "1h", 120))  # either leg names it
    assert report.trades > 0 and report.trades % 2 == 0  # one trade per leg of each group
    assert report.trades_chart is not None and report.trades_chart.png.startswith(PNG)
    async with live.uow() as uow:
        [run] = await uow.backtests.recent(5)
    assert run.strategy == "pairs" and run.pairs == ("ETH/USDT", "BTC/USDT")
    assert {t["symbol"] for t in run.trades} == {"ETH/USDT", "BTC/USDT"}
    with pytest.raises(DataError) as raised:
        await backtests.run(BacktestRequest("pairs", "SOL/USDT", "1h", 120))
    assert raised.value.user_message == ("The pairs strategy trades ETH/USDT against BTC/USDT; name one of "
                                         "them.")


async def test_backtest_of_the_pairs_strategy_without_its_configuration_says_so(
        live_runtime: LiveRuntime) -> None:
    with pytest.raises(DataError) as raised:
        await live_runtime.runtime.services.backtests.run(BacktestRequest("pairs", "ETH/USDT"))
    assert "none is configured" in raised.value.user_message
