"""Demo/testnet accounts: the real ccxt client in sandbox mode, against fakes at the sandbox paths."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from tests.contract.exchange.intents import BTC
from tests.fakes.fake_exchange import FakeExchange, FakeMarket, FakeVenue
from tests.fakes.fake_exchange.okx_app import OKX_KEY, start_fake_okx
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.client import make_client
from trader.adapters.exchange.retry import RetryPolicy
from trader.config import DatabaseConfig, ExchangeConfig, NotifyConfig, OpsConfig, Settings
from trader.core.domain.alerts import Alert
from trader.core.domain.enums import Mode
from trader.core.errors import AuthError, ConfigError
from trader.runtime.container import RunOptions, build_runtime


def hosts(urls: object) -> set[str]:
    if isinstance(urls, dict):
        return set().union(*(hosts(v) for v in urls.values()))
    return {urlsplit(urls).hostname or ""} if isinstance(urls, str) and urls.startswith("http") else set()


@pytest.mark.parametrize(("venue", "host"), [("binance", "testnet.binance.vision"),
                                              ("bybit", "api-testnet.{hostname}")])
async def test_demo_clients_use_the_venues_sandbox_urls(venue: str, host: str) -> None:
    client = make_client(ExchangeConfig(name=venue, mode="live", demo=True))
    real = make_client(ExchangeConfig(name=venue, mode="live"))
    try:
        assert host in hosts(client.urls["api"]) and host not in hosts(real.urls["api"])
    finally:
        await client.close()
        await real.close()


async def test_okx_demo_sends_the_simulated_trading_header() -> None:
    client = make_client(ExchangeConfig(name="okx", mode="live", demo=True))
    real = make_client(ExchangeConfig(name="okx", mode="live"))
    try:
        assert client.headers.get("x-simulated-trading") == "1"
        assert "x-simulated-trading" not in (real.headers or {})
    finally:
        await client.close()
        await real.close()


@pytest.mark.parametrize("venue", ["kraken", "nobitex", "wallex"])
def test_a_venue_without_a_sandbox_refuses_demo(venue: str) -> None:
    with pytest.raises(ConfigError, match=f"{venue} has no demo/testnet environment"):
        make_client(ExchangeConfig(name=venue, mode="live", demo=True))


@pytest.fixture
def okx_demo_venue() -> Iterator[str]:
    venue = FakeVenue()
    venue.add_market(FakeMarket("BTC", "USDT", step_size=Decimal("0.00001"), price=Decimal(50000)))
    venue.deposit("USDT", "1000")
    server = start_fake_okx(venue, demo=True)
    try:
        yield server.base_url
    finally:
        server.stop()


def okx_config(base_url: str, *, demo: bool) -> ExchangeConfig:
    return ExchangeConfig(name="okx", mode="live", demo=demo, api_key=SecretStr(OKX_KEY),
                          api_secret=SecretStr("s"), api_password=SecretStr("p"), api_base_url=base_url)


async def test_okx_demo_account_answers_only_in_demo_mode(okx_demo_venue: str) -> None:
    policy = RetryPolicy(attempts=1, base_delay=0.0)
    demo = CcxtExchange(okx_config(okx_demo_venue, demo=True), rate_limit=False, retry=policy)
    real = CcxtExchange(okx_config(okx_demo_venue, demo=False), rate_limit=False, retry=policy)
    try:
        assert (await demo.balances()).balances["USDT"].total == Decimal(1000)
        assert (await demo.market(BTC)).amount_step == Decimal("0.00001")
        with pytest.raises(AuthError):  # real-account requests are refused by the demo venue
            await real.balances()
    finally:
        await demo.close()
        await real.close()


def live_settings(tmp_path: Path, fake: FakeExchange, *, demo: bool) -> Settings:
    return Settings(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"),
                    exchange=ExchangeConfig(mode="live", demo=demo, api_key=SecretStr("test-key"),
                                            api_secret=SecretStr("test-secret"),
                                            api_base_url=fake.base_url, pairs=("BTC/USDT",)),
                    ops=OpsConfig(health_enabled=False, data_dir=str(tmp_path)),
                    notify=NotifyConfig(console=True))


async def test_a_demo_account_runs_live_without_confirmation_and_says_demo(
        tmp_path: Path, fake_exchange: FakeExchange) -> None:
    console = io.StringIO()
    runtime = await build_runtime(live_settings(tmp_path, fake_exchange, demo=True),
                                  RunOptions(console=console))
    try:
        assert runtime.mode == "live"
        assert (await runtime.services.queries.status()).mode is Mode.DEMO
        assert (await runtime.services.queries.balance()).mode is Mode.DEMO
        assert (await runtime.services.queries.health()).mode is Mode.DEMO
        await runtime.lifecycle.parts.alerts.publish(Alert("summary", "Daily summary: nothing"))
        async with runtime.lifecycle.parts.uow_factory() as uow:
            texts = [row.alert.text for row in await uow.alerts.pending(10)]
        assert texts[-1] == "[demo] Daily summary: nothing"
    finally:
        await runtime.lifecycle.stop()
    # the same database never becomes a real account
    real = live_settings(tmp_path, fake_exchange, demo=False)
    real = real.model_copy(update={"exchange": real.exchange.model_copy(update={"live_confirmed": True})})
    with pytest.raises(ConfigError, match="holds the binance demo account"):
        await build_runtime(real, RunOptions(console=io.StringIO()))


async def test_a_real_live_account_still_needs_the_confirmation(tmp_path: Path,
                                                                fake_exchange: FakeExchange) -> None:
    with pytest.raises(ConfigError, match="live_confirmed"):
        await build_runtime(live_settings(tmp_path, fake_exchange, demo=False),
                            RunOptions(console=io.StringIO()))


async def test_demo_in_paper_mode_is_refused_with_the_way_out(tmp_path: Path,
                                                              fake_exchange: FakeExchange) -> None:
    settings = live_settings(tmp_path, fake_exchange, demo=True)
    paper = settings.exchange.model_copy(update={"mode": "paper"})
    settings = settings.model_copy(update={"exchange": paper})
    with pytest.raises(ConfigError, match="--mode live"):
        await build_runtime(settings, RunOptions(console=io.StringIO()))


def test_config_check_refuses_demo_on_a_venue_without_a_sandbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from trader.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADER_EXCHANGE__NAME", "kraken")
    monkeypatch.setenv("TRADER_EXCHANGE__DEMO", "true")
    monkeypatch.setenv("TRADER_EXCHANGE__MODE", "live")  # a demo account is traded by the live engine
    for key in ("API_KEY", "API_SECRET", "API_PASSWORD"):  # the testnet's keys (placeholders: nothing sent)
        monkeypatch.setenv(f"TRADER_EXCHANGE__{key}", "placeholder")
    assert main(["config", "check"]) == 2
    assert "kraken has no demo/testnet environment" in capsys.readouterr().err
    monkeypatch.setenv("TRADER_EXCHANGE__NAME", "okx")
    assert main(["config", "check"]) == 0
    monkeypatch.setenv("TRADER_EXCHANGE__MODE", "paper")  # refused by `run` in paper mode: by the check too
    assert main(["config", "check"]) == 2
    assert "exchange.demo: a demo account is traded by the live engine" in capsys.readouterr().err
