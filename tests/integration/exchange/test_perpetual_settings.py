"""A swap client through real ccxt against the fake's Binance USDⓈ-M dialect: perpetual markets, margin
tiers, leverage and margin mode set once and idempotently (also after a fault), funding rates and paid."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.retry import RetryPolicy
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import Direction
from trader.core.domain.futures import FuturesTerms, liquidation_price
from trader.core.domain.ids import Symbol

D = Decimal
PERP = "BTC/USDT:USDT"
T0 = 1_700_000_000_000


@pytest.fixture
async def swap_exchange(fake_exchange_config: ExchangeConfig) -> AsyncIterator[CcxtExchange]:
    policy = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05)
    exchange = CcxtExchange(fake_exchange_config, retry=policy, rate_limit=False, swap=True)
    try:
        yield exchange
    finally:
        await exchange.close()


async def test_a_swap_client_lists_the_perpetuals_with_futures_terms(swap_exchange: CcxtExchange,
                                                                     fake_exchange: FakeExchange) -> None:
    markets = await swap_exchange.markets()
    # the perpetuals only (not the spot markets), known by their pairs' symbols as strategies name them
    assert set(markets) == {Symbol("BTC/USDT"), Symbol("ETH/USDT")}
    spec = markets[Symbol("BTC/USDT")]
    assert await swap_exchange.market(Symbol(PERP)) == spec
    assert spec.futures is not None and spec.capabilities.shorting and spec.min_cost == 100
    assert "GET /fapi/v1/exchangeInfo" in fake_exchange.requests
    assert "GET /api/v3/exchangeInfo" not in fake_exchange.requests


async def test_the_venues_margin_tiers_reach_the_liquidation_price(swap_exchange: CcxtExchange) -> None:
    await swap_exchange.markets()
    tiers = await swap_exchange.margin_tiers(PERP)
    assert [t.maintenance_amount for t in tiers] == [D(0), D(50), D(1300), D(46300)]
    assert liquidation_price(Direction.SHORT, D(60_000), D(1), FuturesTerms(D(10), tiers=tiers)) == \
        D(66_050) / D("1.005")


async def test_leverage_and_margin_mode_are_set_once_before_trading(
        swap_exchange: CcxtExchange, fake_exchange: FakeExchange,
        fake_exchange_config: ExchangeConfig) -> None:
    await swap_exchange.markets()
    fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, route="POST /fapi/v1/leverage"))
    await swap_exchange.prepare_perpetual(PERP, D(3), "isolated")
    assert fake_exchange.futures.leverage["BTCUSDT"] == 3
    assert fake_exchange.futures.margin_type["BTCUSDT"] == "ISOLATED"
    await swap_exchange.prepare_perpetual(PERP, D(3), "isolated")  # already done here: nothing sent
    assert fake_exchange.requests.count("POST /fapi/v1/marginType") == 1
    assert fake_exchange.requests.count("POST /fapi/v1/leverage") == 2  # the 503, then the retry
    # a restarted adapter sends them again; the venue's "no need to change" (-4046) is not an error
    policy = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05)
    restarted = CcxtExchange(fake_exchange_config, retry=policy, rate_limit=False, swap=True)
    try:
        await restarted.markets()
        await restarted.prepare_perpetual(PERP, D(3), "isolated")
    finally:
        await restarted.close()
    assert fake_exchange.futures.setting_changes == ["BTCUSDT ISOLATED", "BTCUSDT leverage 3",
                                                      "BTCUSDT leverage 3"]


async def test_funding_rate_history_and_funding_paid_are_read(swap_exchange: CcxtExchange,
                                                             fake_exchange: FakeExchange) -> None:
    eight_hours = 8 * 3_600_000
    fake_exchange.futures.funding_rates["BTCUSDT"] = [(T0 + i * eight_hours, D("0.0001") * (i - 1))
                                                      for i in range(4)]
    fake_exchange.futures.pay_funding("BTCUSDT", D("-0.51"), T0 + eight_hours)  # paid
    fake_exchange.futures.pay_funding("BTCUSDT", D("0.25"), T0 + 2 * eight_hours)  # received
    await swap_exchange.markets()
    since = datetime.fromtimestamp(T0 / 1000, tz=UTC)
    rates = await swap_exchange.funding_rates(PERP, since)
    assert [r for _, r in rates] == [D("-0.0001"), D(0), D("0.0001"), D("0.0002")]
    assert rates[1][0] == datetime.fromtimestamp((T0 + eight_hours) / 1000, tz=UTC)
    paid = await swap_exchange.funding_paid(PERP, since)
    assert [amount for _, amount in paid] == [D("0.51"), D("-0.25")]
