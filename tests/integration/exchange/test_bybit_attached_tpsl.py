"""Bybit spot TP/SL on the order through CcxtExchange and the real ccxt client against the fake's Bybit
dialect: a limit entry carries ``takeProfit``/``stopLoss``, the venue makes the TP/SL order when it
fills, and the adapter adopts it under the entry's attached id (no second create request), lists it once
as an OCO, cancels it, and tags its leg's fill with that id, also after a restart (a fresh client).

The live engine enters at market, and Bybit (and ccxt) take TP/SL on spot limit orders only, so a live
Bybit position is still protected by the swap (tests/e2e/test_swap_brackets.py); this is the venue side,
ready for limit entries (``Capabilities.attached_limit_only``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes.fake_exchange import FakeExchange
from tests.fixtures.fake_exchange import closing, fake_bybit_config, quick_client
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import PositionId, Symbol, attached_client_id, client_order_id
from trader.core.domain.orders import OrderRequest

BTC = Symbol("BTC/USDT")
PID = PositionId("bybit-tpsl-1")
ENTRY = client_order_id(PID, OrderPurpose.ENTRY, 0)
ATTACHED = attached_client_id(ENTRY)
CREATE = "POST /v5/order/create"
HELD = Decimal("0.04995")  # 0.05 bought, the 0.1 % fee taken in BTC


@pytest.fixture
def rig(bybit_spot: FakeExchange) -> tuple[FakeExchange, ExchangeConfig]:
    return bybit_spot, fake_bybit_config(bybit_spot, mode="live", live_confirmed=True, timeout_seconds=1.0,
                                         max_retries=2)


def _client(config: ExchangeConfig) -> CcxtExchange:
    return quick_client(config, attempts=3, max_delay=0.02)


def _entry() -> OrderRequest:
    return OrderRequest(ENTRY, PID, BTC, Side.BUY, OrderType.LIMIT, OrderPurpose.ENTRY, Decimal("0.05"),
                        price=Decimal(50000), attached_stop=Decimal(49500),
                        attached_take_profit=Decimal(51000))


def _bracket(amount: Decimal = HELD) -> OrderRequest:
    return OrderRequest(ATTACHED, PID, BTC, Side.SELL, OrderType.OCO, OrderPurpose.STOP, amount,
                        price=Decimal(51000), trigger_price=Decimal(49500), reduce_only=True)


async def _entered(fake: FakeExchange, exchange: CcxtExchange) -> None:
    spec = await exchange.market(BTC)
    caps = spec.capabilities
    assert (caps.attached_bracket, caps.attached_take_profit, caps.attached_limit_only) == (True, True, True)
    entry = await exchange.place(_entry())
    assert entry.status is OrderStatus.FILLED and fake.requests.count(CREATE) == 1
    assert fake.attached is not None and fake.attached.refused == []


@pytest.mark.parametrize(("price", "leg"), [("49400", "STOP_LOSS"), ("51000", "TAKE_PROFIT")])
async def test_the_venue_made_tpsl_is_adopted_once_one_leg_fills_and_a_restart_still_knows_it(
        rig: tuple[FakeExchange, ExchangeConfig], price: str, leg: str) -> None:
    fake, config = rig
    async with closing(_client(config)) as exchange:
        await _entered(fake, exchange)
        adopted = await exchange.place(_bracket())
        again = await exchange.place(_bracket())
        assert fake.requests.count(CREATE) == 1  # nothing sent: the venue made it from the entry
        assert adopted.client_order_id == ATTACHED and adopted.type is OrderType.OCO
        assert (adopted.status, adopted.amount) == (OrderStatus.OPEN, HELD)
        assert (adopted.price, adopted.trigger_price) == (Decimal(51000), Decimal(49500))
        assert again.exchange_order_id == adopted.exchange_order_id
        resting = await exchange.open_orders(BTC)
        assert [(o.client_order_id, o.type) for o in resting] == [(ATTACHED, OrderType.OCO)]
        fake.set_price(BTC, price)
    legs = {o.type: o.status for o in fake.venue.all_orders() if o.order_list_id >= 0}
    assert legs[leg] == "FILLED" and {s for t, s in legs.items() if t != leg} == {"EXPIRED"}
    async with closing(_client(config)) as fresh:  # a restart: nothing in memory
        done = await fresh.order(BTC, ATTACHED)
        assert done is not None and done.status is OrderStatus.FILLED and done.filled == HELD
        fills = await fresh.fills_since(BTC, datetime(2023, 1, 1, tzinfo=UTC))
        assert [(f.client_order_id, f.price) for f in fills] == [(ENTRY, Decimal(50000)),
                                                                 (ATTACHED, Decimal(price))]
        assert await fresh.open_orders(BTC) == []
        assert fake.requests.count(CREATE) == 1


async def test_a_trailing_move_cancels_the_venue_made_tpsl_and_places_an_ordinary_stop(
        rig: tuple[FakeExchange, ExchangeConfig]) -> None:
    fake, config = rig
    async with closing(_client(config)) as exchange:
        await _entered(fake, exchange)
        await exchange.place(_bracket())
        stop = OrderRequest(client_order_id(PID, OrderPurpose.STOP, 1), PID, BTC, Side.SELL, OrderType.STOP,
                            OrderPurpose.STOP, HELD, trigger_price=Decimal(49800), reduce_only=True)
        result = await exchange.replace(BTC, ATTACHED, stop)
        assert result.cancelled is not None and result.cancelled.status is OrderStatus.CANCELLED
        assert result.placed is not None and result.placed.type is OrderType.STOP
        assert fake.attached is not None and fake.attached.resting("BTCUSDT") == []
        resting = await exchange.open_orders(BTC)
        assert [o.client_order_id for o in resting] == [stop.client_order_id]
        assert fake.venue.locked.get("BTC") == HELD  # the TP/SL's lock released, the stop's taken
