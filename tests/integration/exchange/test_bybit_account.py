"""A Bybit unified account behind a swap CcxtExchange (real ccxt) against the fake's linear dialect: the
free margin is what the venue says is available (unrealised losses off, in isolated and cross margin),
and an account the adapter cannot trade (a perpetual in hedge position mode, a classic account) is
refused at the first balance read, the start-up's first signed call, with one clear line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.contract.exchange.intents import intent
from tests.fakes.fake_exchange import FakeExchange
from tests.fixtures.fake_exchange import closing
from tests.integration.exchange.test_bybit_perpetual import ENTRY, swap_client
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.domain.ids import Symbol
from trader.core.errors import ExchangeError, RetryableError

D = Decimal
CREATE = "POST /v5/order/create"
FEE, MARGIN = D(1), D(2500) / 3  # 0.05 BTC short at 50000, 3x: the taker fee and the initial margin


@pytest.mark.parametrize("mode", ["isolated", "cross"])
async def test_the_free_margin_loses_the_unrealised_loss_and_never_gains_the_profit(
        bybit_fake: FakeExchange, mode: str) -> None:
    async with closing(swap_client(bybit_fake, mode)) as exchange:
        await exchange.place(ENTRY)
        flat = D(10000) - FEE - MARGIN
        assert abs((await exchange.balances()).free - flat) < D("1e-6")
        bybit_fake.set_price("BTC/USDT", "50500")  # the short loses 25
        losing = await exchange.balances()
        assert abs(losing.free - (flat - 25)) < D("1e-6")
        assert losing.equity == D(10000) - FEE - 25 and losing.free <= losing.equity - MARGIN + D("1e-6")
        bybit_fake.set_price("BTC/USDT", "49500")  # a profit of 25 is not margin for new orders here
        assert abs((await exchange.balances()).free - flat) < D("1e-6")


async def test_a_perpetual_in_hedge_mode_is_refused_at_start_up_with_one_line(
        bybit_fake: FakeExchange) -> None:
    bybit_fake.futures.hedge_mode = True  # the venue would reject every positionIdx 0 order (10001)
    async with closing(swap_client(bybit_fake)) as exchange:
        with pytest.raises(ExchangeError) as refused:
            await exchange.balances()
        assert not isinstance(refused.value, RetryableError)
        assert "one-way" in refused.value.user_message and "\n" not in refused.value.user_message
        with pytest.raises(ExchangeError, match="hedge position mode"):  # also before any entry
            await exchange.place(intent("p2", OrderPurpose.ENTRY, Side.SELL, OrderType.MARKET, "0.05",
                                        symbol=Symbol("ETH/USDT")))
        assert CREATE not in bybit_fake.requests and bybit_fake.futures.setting_changes == []


async def test_a_one_way_account_is_checked_once(bybit_fake: FakeExchange) -> None:
    async with closing(swap_client(bybit_fake)) as exchange:
        await exchange.balances()
        await exchange.place(ENTRY)
        await exchange.balances()
        assert bybit_fake.requests.count("GET /v5/user/query-api") == 1
        checks = [r for r in bybit_fake.requests if r == "GET /v5/position/list"]
        assert len(checks) == 3  # BTCUSDT's one-way check, then one read of the positions per balance
        assert bybit_fake.perps.position("BTCUSDT").qty == D("-0.05")


async def test_a_classic_account_is_refused_at_start_up_with_one_line(bybit_fake: FakeExchange) -> None:
    bybit_fake.futures.classic_account = True
    async with closing(swap_client(bybit_fake)) as exchange:
        with pytest.raises(ExchangeError) as refused:
            await exchange.balances()
        assert not isinstance(refused.value, RetryableError)
        assert "Unified Trading Account" in refused.value.user_message
        with pytest.raises(ExchangeError, match="classic"):
            await exchange.place(ENTRY)
        assert CREATE not in bybit_fake.requests

