"""Bybit spot orders looked up by our client id (``orderLinkId``) through CcxtExchange and real ccxt
against the fake's Bybit dialect, which answers an ``orderId`` it does not know (ccxt's text "None"
for a missing id, too) with an empty list, as the venue does: order status, cancel by client id, and a
restart (a fresh client, nothing in memory) finding a resting order and reconciling a finished one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ccxt.base import errors as ccxt_errors

from tests.fakes.fake_exchange import FakeExchange
from tests.fixtures.fake_exchange import closing, fake_bybit_config, quick_client
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.client import make_client
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import PositionId, Symbol, client_order_id
from trader.core.domain.orders import OrderRequest
from trader.live.order_sync import read_venue
from trader.ports.store import OrderRecord

D = Decimal
BTC = Symbol("BTC/USDT")
PID = PositionId("bybit-spot-1")
CREATE = "POST /v5/order/create"
NOW = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def rig(bybit_spot: FakeExchange) -> tuple[FakeExchange, ExchangeConfig]:
    return bybit_spot, fake_bybit_config(bybit_spot)


def _client(config: ExchangeConfig) -> CcxtExchange:
    return quick_client(config, attempts=3, max_delay=0.02)


def _resting(attempt: int = 0) -> OrderRequest:
    return OrderRequest(client_order_id(PID, OrderPurpose.ENTRY, attempt), PID, BTC, Side.BUY,
                        OrderType.LIMIT, OrderPurpose.ENTRY, D("0.01"), price=D(45000))


async def test_the_fake_finds_nothing_for_the_order_id_none_as_bybit_does(
        rig: tuple[FakeExchange, ExchangeConfig]) -> None:
    _, config = rig
    async with closing(_client(config)) as exchange, closing(make_client(config, rate_limit=False)) as raw:
        placed = await exchange.place(_resting())
        await raw.load_markets()
        query = {"orderLinkId": placed.client_order_id, "acknowledged": True}
        with pytest.raises(ccxt_errors.OrderNotFound):  # ccxt sends orderId=None next to the link id
            await raw.fetch_order(None, "BTC/USDT", query)
        found = await raw.fetch_order("", "BTC/USDT", query)  # an empty id is no id at all
        assert found["clientOrderId"] == placed.client_order_id


async def test_a_spot_order_is_read_and_cancelled_by_its_order_link_id(
        rig: tuple[FakeExchange, ExchangeConfig]) -> None:
    fake, config = rig
    request = _resting()
    async with closing(_client(config)) as exchange:
        placed = await exchange.place(request)
        assert placed.status is OrderStatus.OPEN
        found = await exchange.order(BTC, request.client_order_id)
        assert found is not None and found.exchange_order_id == placed.exchange_order_id
        assert found.status is OrderStatus.OPEN
        cancelled = await exchange.cancel(BTC, request.client_order_id)
        assert cancelled.status is OrderStatus.CANCELLED
        assert fake.venue.open_orders(None) == []


async def test_a_restart_finds_the_resting_spot_order_and_reconciles_a_filled_one(
        rig: tuple[FakeExchange, ExchangeConfig]) -> None:
    fake, config = rig
    resting = _resting()
    filled = OrderRequest(client_order_id(PID, OrderPurpose.EXIT, 0), PID, BTC, Side.BUY, OrderType.MARKET,
                          OrderPurpose.EXIT, D("0.01"))
    async with closing(_client(config)) as exchange:
        await exchange.place(resting)
        await exchange.place(filled)
    async with closing(_client(config)) as fresh:  # a restart: nothing in memory
        again = await fresh.place(resting)  # the crash-repeat: found by orderLinkId, never sent twice
        assert again.status is OrderStatus.OPEN and fake.requests.count(CREATE) == 2
        found = await fresh.order(BTC, resting.client_order_id)
        assert found is not None and found.status is OrderStatus.OPEN and found.price == D(45000)
        records = [replace(OrderRecord.from_request(r, NOW), status=OrderStatus.OPEN)
                   for r in (resting, filled)]
        view = await read_venue(fresh, records, {}, now=NOW)
        # the resting order is unchanged (no result); the filled one, read by its client id, is FILLED
        assert [(r.client_order_id, r.status) for r in view.results] == [
            (filled.client_order_id, OrderStatus.FILLED)]
