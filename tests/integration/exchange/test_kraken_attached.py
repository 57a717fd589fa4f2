"""Kraken's conditional close through CcxtExchange and real ccxt against the fake's Kraken dialect, at the
edges: the venue makes the stop a moment after the fill (the adapter looks again before placing one),
or makes none (the adapter places the stop itself under the attached id, found again by it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.fakes.fake_exchange import KRAKEN_KEY, KRAKEN_SECRET, FakeExchange
from tests.fakes.fake_exchange.attached import Bracket
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.retry import RetryPolicy, Sleep
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import PositionId, Symbol, attached_client_id, client_order_id
from trader.core.domain.orders import OrderRequest

BTC = Symbol("BTC/USDT")
PID = PositionId("kraken-close-1")
ENTRY = client_order_id(PID, OrderPurpose.ENTRY, 0)
ATTACHED = attached_client_id(ENTRY)
ADD = "POST /0/private/AddOrder"


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    venue = FakeExchange.start_default("kraken")
    venue.venue.deposit("USDT", "10000")
    try:
        yield venue
    finally:
        venue.stop()


def _exchange(fake: FakeExchange, sleep: Sleep) -> CcxtExchange:
    config = ExchangeConfig(name="kraken", mode="live", live_confirmed=True, api_key=SecretStr(KRAKEN_KEY),
                            api_secret=SecretStr(KRAKEN_SECRET), api_base_url=fake.base_url,
                            timeout_seconds=1.0)
    return CcxtExchange(config, retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
                        rate_limit=False, sleep=sleep)


def _stop() -> OrderRequest:
    return OrderRequest(ATTACHED, PID, BTC, Side.SELL, OrderType.STOP, OrderPurpose.STOP, Decimal("0.01"),
                        trigger_price=Decimal(49000), reduce_only=True)


async def test_a_stop_the_venue_makes_late_is_adopted_not_doubled(fake: FakeExchange) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the venue makes the close while we wait the first time
        waits.append(seconds)
        if len(waits) == 1:
            assert fake.attached is not None
            [entry] = [o for o in fake.venue.all_orders() if o.side == "BUY"]
            fake.attached.attach(entry, Bracket(Decimal(49000)))

    exchange = _exchange(fake, sleep)
    try:
        await exchange.place(OrderRequest(ENTRY, PID, BTC, Side.BUY, OrderType.MARKET, OrderPurpose.ENTRY,
                                          Decimal("0.01")))
        adopted = await exchange.place(_stop())
        assert waits == [0.5] and fake.requests.count(ADD) == 1
        assert adopted.client_order_id == ATTACHED and adopted.status is OrderStatus.OPEN
        assert [o.client_order_id for o in await exchange.open_orders(BTC)] == [ATTACHED]
    finally:
        await exchange.close()


async def test_without_a_venue_made_stop_ours_is_placed_under_the_attached_id(fake: FakeExchange) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    exchange = _exchange(fake, sleep)
    try:
        await exchange.place(OrderRequest(ENTRY, PID, BTC, Side.BUY, OrderType.MARKET, OrderPurpose.ENTRY,
                                          Decimal("0.01")))
        placed = await exchange.place(_stop())
        assert waits == [0.5, 1.0] and fake.requests.count(ADD) == 2
        assert placed.client_order_id == ATTACHED and placed.type is OrderType.STOP
        found = await exchange.order(BTC, ATTACHED)
        assert found is not None and found.exchange_order_id == placed.exchange_order_id
        again = await exchange.place(_stop())  # a repeat finds it: no third AddOrder
        assert again.exchange_order_id == placed.exchange_order_id and fake.requests.count(ADD) == 2
    finally:
        await exchange.close()
