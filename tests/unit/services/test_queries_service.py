"""Query, report and system services over the real runtime (container, SQLite, PaperExchange)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.fixtures.live_runtime import ADMIN_ACTOR, LiveRuntime
from trader.core.analytics.tax.cgt_events import needed_rates
from trader.core.domain.enums import Mode, TradingState
from trader.core.errors import DataError, InputError
from trader.ports.store import AudRate
from trader.services.dto import GroupBy, Outcome, PeriodKind, TradeQuery


async def _one_closed_trade(live: LiveRuntime) -> str:
    position = await live.open_position()
    await live.runtime.services.control.close(position.id, ADMIN_ACTOR)
    await live.advance(1)
    return position.id


async def test_status_and_positions_show_the_open_position_marked_at_the_last_price(
        live_runtime: LiveRuntime) -> None:
    position = await live_runtime.open_position()
    status = await live_runtime.runtime.services.queries.status()
    assert status.state is TradingState.ACTIVE and status.mode is Mode.REPLAY and status.quote == "USDT"
    assert {v.id for v in status.positions} == {p.id for p in await live_runtime.active()}
    view = next(v for v in status.positions if v.id == position.id)
    assert view.amount == position.open_amount
    assert view.current_price is not None and view.stop_price == position.stop_price
    expected = (view.current_price - view.entry_price) * view.amount
    assert view.pnl == expected
    assert not view.is_futures and view.liquidation_price is None  # spot: no leverage, no liquidation


async def test_status_names_why_trading_is_paused(live_runtime: LiveRuntime) -> None:
    await live_runtime.runtime.services.control.pause(ADMIN_ACTOR)
    status = await live_runtime.runtime.services.queries.status()
    assert status.state is TradingState.PAUSED and "telegram:42" in (status.halted_reason or "")


async def test_balance_values_every_asset_and_sums_to_equity(live_runtime: LiveRuntime) -> None:
    position = await live_runtime.open_position()
    balance = await live_runtime.runtime.services.queries.balance()
    assets = {a.asset: a for a in balance.assets}
    held = {p.symbol.split("/")[0] for p in await live_runtime.active() if p.filled > 0}
    assert position.symbol.split("/")[0] in held and set(assets) == {"USDT", *held}
    assert sum((a.value or Decimal(0) for a in balance.assets), Decimal(0)) == balance.equity
    assert balance.free == assets["USDT"].free


async def test_health_reports_store_exchange_and_open_positions(live_runtime: LiveRuntime) -> None:
    health = await live_runtime.runtime.services.queries.health()
    assert health.store_ok and health.exchange_ok and health.open_positions == 0
    assert not health.scheduler_ok and "scheduler: not running" in health.problems  # lifecycle not started


async def test_strategies_list_enabled_first_with_parameters(live_runtime: LiveRuntime) -> None:
    views = await live_runtime.runtime.services.queries.strategies()
    assert views[0].name == "breakout" and views[0].enabled
    assert any(p.key == "breakout.lookback" for p in views[0].params)
    assert all(not v.enabled for v in views[1:])


async def test_profit_performance_and_trades_after_a_closed_trade(live_runtime: LiveRuntime) -> None:
    trade_id = await _one_closed_trade(live_runtime)
    reports = live_runtime.runtime.services.reports
    async with live_runtime.uow() as uow:
        closed = await uow.positions.get(trade_id)
    assert closed is not None
    profit = await reports.profit(None)
    assert profit.closed_trades == 1 and profit.realised == closed.realised_pnl
    assert profit.wins + profit.losses == 1 and profit.fees == closed.fees
    [row] = await reports.performance()
    assert row.key == closed.symbol and row.trades == 1 and row.pnl == closed.realised_pnl
    [by_strategy] = await reports.performance(GroupBy.STRATEGY)
    assert by_strategy.key == closed.strategy and by_strategy.pnl == closed.realised_pnl
    page = await reports.trades(TradeQuery())
    assert page.total == 1 and page.trades[0].id == trade_id
    assert closed.entry_price is not None
    # a fraction of the entry notional (was 100 times too large: a percentage)
    fraction = closed.realised_pnl / (closed.entry_price * closed.filled)
    assert page.trades[0].pnl_fraction == fraction == row.pnl_fraction
    assert abs(fraction) < Decimal("0.2")
    won = await reports.trades(TradeQuery(outcome=Outcome.WON))
    lost = await reports.trades(TradeQuery(outcome=Outcome.LOST))
    assert won.total + lost.total == 1
    assert (await reports.trades(TradeQuery(pair="BTC/USDT" if closed.symbol != "BTC/USDT"
                                            else "ETH/USDT"))).total == 0


async def test_periods_return_count_buckets_newest_first_including_empty_ones(
        live_runtime: LiveRuntime) -> None:
    await _one_closed_trade(live_runtime)
    table = await live_runtime.runtime.services.reports.periods(PeriodKind.DAY, 7)
    assert len(table.rows) == 7
    assert [r.start for r in table.rows] == sorted((r.start for r in table.rows), reverse=True)
    assert sum(r.trades for r in table.rows) == 1


async def test_report_inputs_out_of_range_raise_input_error(live_runtime: LiveRuntime) -> None:
    reports = live_runtime.runtime.services.reports
    with pytest.raises(InputError):
        await reports.profit(0)
    with pytest.raises(InputError):
        await reports.periods(PeriodKind.WEEK, 0)


async def test_tax_report_without_trades_in_the_year_is_a_data_error(live_runtime: LiveRuntime) -> None:
    with pytest.raises(DataError) as raised:
        await live_runtime.runtime.services.reports.tax_report(2020)
    assert "FY2019-20" in raised.value.user_message


async def test_tax_report_names_the_missing_acquisition_of_the_quote_coin(live_runtime: LiveRuntime) -> None:
    # USDT is a CGT asset for the ATO: spending the paper account's opening USDT needs its acquisition.
    await _one_closed_trade(live_runtime)  # February 2022: income year 2022
    async with live_runtime.uow() as uow:
        fills = await uow.fills.since(datetime(2020, 1, 1, tzinfo=UTC))
        needed = needed_rates(fills, ZoneInfo("Australia/Sydney"))
        await uow.aud_rates.upsert(AudRate(day, currency, Decimal("1.4"), "test") for currency, day in needed)
        await uow.commit()
    with pytest.raises(DataError) as raised:
        await live_runtime.runtime.services.reports.tax_report(2022)
    assert "USDT" in raised.value.user_message and "acquisitions" in raised.value.user_message


async def test_system_config_masks_secrets_and_logs_return_recent_lines(live_runtime: LiveRuntime) -> None:
    system = live_runtime.runtime.services.system
    config = dict((await system.config()).lines)
    assert config["exchange.name"] == "binance" and config["telegram.token"] == ""
    version = await system.version()
    assert version.exchange == "binance" and version.mode is Mode.REPLAY
    await live_runtime.advance(3)
    logs = await system.logs(5)
    assert 0 < len(logs.lines) <= 5
