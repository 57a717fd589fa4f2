"""build_exchange picks the implementation from config; paper restores its account from the store."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.contract.exchange.intents import BTC, limit
from tests.contract.exchange.venues import fake_like_btc_market
from tests.fakes.fake_exchange import API_KEY, API_SECRET, FakeExchange
from trader.adapters.exchange import CcxtExchange, PaperExchange, build_exchange
from trader.adapters.store.memory.uow import MemoryStore
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import Side
from trader.core.errors import ConfigError
from trader.runtime.clock import SimClock

CLOCK = SimClock(datetime(2024, 1, 1, tzinfo=UTC))


async def test_live_needs_explicit_confirmation(fake_exchange: FakeExchange) -> None:
    config = ExchangeConfig(mode="live", api_base_url=fake_exchange.base_url)
    with pytest.raises(ConfigError, match="live_confirmed"):
        await build_exchange(config, CLOCK)
    confirmed = ExchangeConfig(mode="live", live_confirmed=True, api_base_url=fake_exchange.base_url,
                               api_key=SecretStr(API_KEY), api_secret=SecretStr(API_SECRET))
    exchange = await build_exchange(confirmed, CLOCK)
    try:
        assert isinstance(exchange, CcxtExchange)
        assert (await exchange.balances()).balances["USDT"].free == Decimal(10_000)
    finally:
        await exchange.close()


async def test_paper_uses_public_markets_and_survives_a_restart(fake_exchange: FakeExchange) -> None:
    store = MemoryStore()
    config = ExchangeConfig(mode="paper", api_base_url=fake_exchange.base_url, pairs=("BTC/USDT",),
                            paper_start_balance=Decimal(2000))
    first = await build_exchange(config, CLOCK, uow_factory=store.uow)
    try:
        assert isinstance(first, PaperExchange)
        assert (await first.market(BTC)).price_step == Decimal("0.01")
        await first.last_price(BTC)
        request = limit("b1", Side.BUY, "0.01", "45000")
        await first.place(request)
    finally:
        await first.close()
    second = await build_exchange(config, CLOCK, uow_factory=store.uow)
    try:
        assert [o.client_order_id for o in await second.open_orders(BTC)] == [request.client_order_id]
        assert (await second.balances()).balances["USDT"].free == Decimal(2000) - Decimal("450.45")
    finally:
        await second.close()


async def test_paper_refuses_pairs_the_venue_does_not_list(fake_exchange: FakeExchange) -> None:
    config = ExchangeConfig(mode="paper", api_base_url=fake_exchange.base_url, pairs=("DOGE/USDT",))
    with pytest.raises(ConfigError, match="DOGE/USDT"):
        await build_exchange(config, CLOCK)


async def test_replay_needs_markets_and_makes_no_network_client() -> None:
    config = ExchangeConfig(mode="paper", replay=True)
    with pytest.raises(ConfigError, match="replay"):
        await build_exchange(config, CLOCK)
    paper = await build_exchange(config, CLOCK, markets=[fake_like_btc_market()])
    assert isinstance(paper, PaperExchange)
    assert (await paper.balances()).equity == Decimal(10_000)


async def test_live_swap_trades_the_perpetuals_at_the_strategies_leverage(
        fake_exchange: FakeExchange) -> None:
    config = ExchangeConfig(mode="live", live_confirmed=True, api_base_url=fake_exchange.base_url,
                            api_key=SecretStr(API_KEY), api_secret=SecretStr(API_SECRET))
    fake_exchange.perps.deposit("5000")
    exchange = await build_exchange(config, CLOCK, swap=True, perpetuals={"BTC/USDT": (Decimal(2), "cross")})
    try:
        assert isinstance(exchange, CcxtExchange)
        assert (await exchange.market(BTC)).futures is not None  # the pair's perpetual
        account = await exchange.balances()  # the futures wallet, not the spot one
        assert (account.free, account.positions) == (Decimal(5000), {})
        await exchange.place(limit("p1", Side.SELL, "0.01", "60000"))  # an entry sets the venue first
        assert fake_exchange.futures.setting_changes == ["BTCUSDT leverage 2"]  # cross: the venue's default
    finally:
        await exchange.close()
