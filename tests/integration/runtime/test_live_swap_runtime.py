"""The real runtime (container, lifecycle, reconciliation) in live mode with a swap strategy, real ccxt
against the fake's Binance USDⓈ-M, OKX swap and Bybit linear dialects: the start-up check passes, the
container builds the perpetual client at the strategy's leverage, a manual short opens on the futures account
with its reduce-only stop resting above the entry, and a restart's reconciliation sees the venue
position, reads its funding and keeps one stop."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.fakes.fake_exchange import BYBIT_KEY, BYBIT_SECRET, FakeExchange
from tests.fakes.fake_exchange.okx_app import OKX_KEY
from trader.config import DatabaseConfig, ExchangeConfig, NotifyConfig, OpsConfig, Settings, StrategyEntry
from trader.core.domain.enums import Direction
from trader.core.errors import ExchangeError
from trader.runtime.container import RunOptions, build_runtime


def _settings(tmp_path: Path, exchange: ExchangeConfig) -> Settings:
    return Settings(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'swap.db'}"),
                    exchange=exchange.model_copy(update={"pairs": ("BTC/USDT",)}),
                    strategies=[StrategyEntry(name="breakout", market="swap", allow_short=True, leverage=3)],
                    ops=OpsConfig(health_enabled=False, data_dir=str(tmp_path)),
                    notify=NotifyConfig(console=False))


FUNDING_ROUTE = {"binance": "GET /fapi/v1/income", "okx": "GET /api/v5/account/bills-archive",
                 "bybit": "GET /v5/execution/list"}
MARGIN = {"binance": "BTCUSDT ISOLATED", "okx": "BTCUSDT ISOLATED", "bybit": "account ISOLATED"}
OTHERS = {"okx": {"api_key": SecretStr(OKX_KEY), "api_password": SecretStr("p")},
          "bybit": {"api_key": SecretStr(BYBIT_KEY), "api_secret": SecretStr(BYBIT_SECRET)}}


@pytest.fixture(params=["binance", "okx", "bybit"])
def venue(request: pytest.FixtureRequest, fake_exchange: FakeExchange,
          fake_exchange_config: ExchangeConfig) -> Iterator[tuple[FakeExchange, ExchangeConfig]]:
    """The Binance fake and its config, or a fake OKX or Bybit (its swap dialect) and its config."""
    if request.param == "binance":
        yield fake_exchange, fake_exchange_config
        return
    other = FakeExchange.start_default(request.param)
    try:
        yield other, fake_exchange_config.model_copy(update={
            "name": request.param, "api_base_url": other.base_url, **OTHERS[request.param]})
    finally:
        other.stop()


async def test_a_live_swap_service_shorts_the_perpetual_and_reconciles_it_after_a_restart(
        tmp_path: Path, venue: tuple[FakeExchange, ExchangeConfig]) -> None:
    fake_exchange, fake_exchange_config = venue
    fake_exchange.perps.deposit("10000")
    fake_exchange.venue.now_ms = int(time.time() * 1000)  # the service runs on the wall clock
    settings = _settings(tmp_path, fake_exchange_config)
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    try:
        assert runtime.mode == "live"
        trading = runtime.lifecycle.parts.engine.trading
        result = await trading.force_entry("BTC/USDT", Direction.SHORT, Decimal("0.01"), "breakout")
        assert result.ok, result.message
    finally:
        await runtime.lifecycle.stop()
    perps = fake_exchange.perps
    assert fake_exchange.futures.setting_changes == [MARGIN[fake_exchange.dialect], "BTCUSDT leverage 3"]
    assert perps.position("BTCUSDT").qty == Decimal("-0.01")
    [stop] = perps.open_algos("BTCUSDT")
    assert (stop.type, stop.side, stop.reduce_only, stop.qty) == ("STOP_MARKET", "BUY", True, Decimal("0.01"))
    assert stop.trigger > perps.position("BTCUSDT").entry

    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))  # a restart
    try:
        report = await runtime.lifecycle.parts.reconcile()
        assert report.clean, report.summary()
        # funding is read through the wiring
        assert FUNDING_ROUTE[fake_exchange.dialect] in fake_exchange.requests
        [position] = (await runtime.lifecycle.parts.engine.trading.engine_state()).positions.values()
        assert position.direction is Direction.SHORT and position.leverage == 3
    finally:
        await runtime.lifecycle.stop()
    assert perps.open_algos("BTCUSDT") == [stop]  # the same stop: none placed twice


async def test_a_paper_swap_account_reconciles_its_contracts_after_a_restart(
        tmp_path: Path, fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig) -> None:
    paper = fake_exchange_config.model_copy(update={"mode": "paper"})
    settings = _settings(tmp_path, paper)
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))
    try:
        assert runtime.mode == "paper"
        result = await runtime.lifecycle.parts.engine.trading.force_entry(
            "BTC/USDT", Direction.LONG, Decimal("0.01"), "breakout")
        assert result.ok, result.message
        await runtime.lifecycle.parts.monitor()  # the paper venue fills on the next price it sees
        [position] = (await runtime.lifecycle.parts.engine.trading.engine_state()).positions.values()
        assert position.open_amount == Decimal("0.01")
    finally:
        await runtime.lifecycle.stop()
    runtime = await build_runtime(settings, RunOptions(console=io.StringIO()))  # a restart
    try:
        report = await runtime.lifecycle.parts.reconcile()
        assert report.clean, report.summary()  # 0.01 contracts held, no BTC coins: no mismatch
        [position] = (await runtime.lifecycle.parts.engine.trading.engine_state()).positions.values()
        assert position.leverage == 3 and position.open_amount == Decimal("0.01")
    finally:
        await runtime.lifecycle.stop()


async def test_a_live_bybit_swap_service_in_hedge_mode_refuses_to_start_with_one_line(
        tmp_path: Path, fake_exchange_config: ExchangeConfig) -> None:
    fake = FakeExchange.start_default("bybit")
    try:
        fake.perps.deposit("10000")
        fake.futures.hedge_mode = True  # every one-way (positionIdx 0) order would be rejected
        config = fake_exchange_config.model_copy(update={"name": "bybit", "api_base_url": fake.base_url,
                                                          **OTHERS["bybit"]})
        runtime = await build_runtime(_settings(tmp_path, config), RunOptions(console=io.StringIO()))
        try:
            with pytest.raises(ExchangeError) as refused:  # the start-up's first signed call refuses
                await runtime.lifecycle.start()
        finally:
            await runtime.lifecycle.stop()
        assert "hedge position mode" in str(refused.value) and "\n" not in str(refused.value)
        assert "POST /v5/order/create" not in fake.requests
    finally:
        fake.stop()
