"""Binance spot OCO (order list) through CcxtExchange and the real ccxt client against the fake.

One OCO is one order of ours: placed once per client id (a repeat finds it), listed once among the open
orders (not as its two legs), cancelled as a whole, and FILLED by whichever leg executes while the
venue expires the other; the leg's fill carries the OCO's client id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.contract.exchange.intents import BTC, intent, market_buy
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.orders import OrderRequest

OCO_ROUTE = "POST /api/v3/orderList/oco"


async def _long(fake: FakeExchange, exchange: CcxtExchange, position: str) -> str:
    await exchange.place(market_buy(position, "0.01"))
    held = (await exchange.market(BTC)).round_amount((await exchange.balances()).balances["BTC"].free)
    return str(held)


def _oco(position: str, amount: str, stop: str = "48000", target: str = "52000",
         attempt: int = 0) -> OrderRequest:
    return intent(position, OrderPurpose.STOP, Side.SELL, OrderType.OCO, amount, price=target,
                  trigger=stop, attempt=attempt)


async def test_oco_rests_as_one_order_and_a_repeat_does_not_place_a_second(
        fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange) -> None:
    held = await _long(fake_exchange, ccxt_exchange, "o1")
    request = _oco("o1", held)
    placed = await ccxt_exchange.place(request)
    again = await ccxt_exchange.place(request)
    assert placed.type is OrderType.OCO and placed.status is OrderStatus.OPEN
    assert (placed.price, placed.trigger_price) == (Decimal(52000), Decimal(48000))
    assert again.exchange_order_id == placed.exchange_order_id
    assert len(fake_exchange.venue.lists_accepted()) == 1
    resting = await ccxt_exchange.open_orders(BTC)
    assert [(o.client_order_id, o.type) for o in resting] == [(placed.client_order_id, OrderType.OCO)]
    assert OCO_ROUTE in fake_exchange.requests


async def test_take_profit_leg_fills_and_the_stop_leg_expires(
        fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange) -> None:
    held = await _long(fake_exchange, ccxt_exchange, "o2")
    placed = await ccxt_exchange.place(_oco("o2", held))
    fake_exchange.set_price(BTC, "52000")
    done = await ccxt_exchange.order(BTC, placed.client_order_id)
    assert done is not None and done.status is OrderStatus.FILLED and done.filled == Decimal(held)
    assert done.average_price == Decimal(52000)
    legs = {o.type: o.status for o in fake_exchange.venue.all_orders() if o.order_list_id >= 0}
    assert legs == {"LIMIT_MAKER": "FILLED", "STOP_LOSS": "EXPIRED"}
    assert await ccxt_exchange.open_orders(BTC) == []
    fills = await ccxt_exchange.fills_since(BTC, datetime(2000, 1, 1, tzinfo=UTC))
    assert [f.client_order_id for f in fills if f.side is Side.SELL] == [placed.client_order_id]


async def test_stop_leg_fills_after_restart_and_its_fill_is_still_ours(
        fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange,
        fake_exchange_config: ExchangeConfig) -> None:
    held = await _long(fake_exchange, ccxt_exchange, "o3")
    placed = await ccxt_exchange.place(_oco("o3", held))
    fake_exchange.set_price(BTC, "47900")
    fresh = CcxtExchange(fake_exchange_config, rate_limit=False)  # nothing cached
    try:
        fills = await fresh.fills_since(BTC, datetime(2000, 1, 1, tzinfo=UTC))
        done = await fresh.order(BTC, placed.client_order_id)
    finally:
        await fresh.close()
    assert [f.client_order_id for f in fills if f.side is Side.SELL] == [placed.client_order_id]
    assert done is not None and done.status is OrderStatus.FILLED and done.average_price == Decimal(47900)
    legs = {o.type: o.status for o in fake_exchange.venue.all_orders() if o.order_list_id >= 0}
    assert legs == {"LIMIT_MAKER": "EXPIRED", "STOP_LOSS": "FILLED"}
    assert fake_exchange.venue.locked.get("BTC", Decimal(0)) == 0


async def test_cancel_takes_both_legs_and_a_dropped_answer_is_not_placed_twice(
        fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange) -> None:
    held = await _long(fake_exchange, ccxt_exchange, "o4")
    fake_exchange.inject(Fault(FaultKind.DROP_AFTER_ACCEPT, route=OCO_ROUTE))
    placed = await ccxt_exchange.place(_oco("o4", held))
    assert placed.status is OrderStatus.OPEN and len(fake_exchange.venue.lists_accepted()) == 1
    cancelled = await ccxt_exchange.cancel(BTC, placed.client_order_id)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.filled == 0
    assert fake_exchange.venue.open_orders(None) == []
    assert await ccxt_exchange.cancel(BTC, placed.client_order_id) == cancelled  # finished: unchanged


async def test_replacing_an_oco_after_a_crash_between_cancel_and_place_rests_one(
        fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange) -> None:
    held = await _long(fake_exchange, ccxt_exchange, "o5")
    first = await ccxt_exchange.place(_oco("o5", held))
    moved = _oco("o5", held, stop="49000", attempt=1)  # a trailing move of the stop leg
    await ccxt_exchange.cancel(BTC, first.client_order_id)  # the process dies right after this step
    result = await ccxt_exchange.replace(BTC, first.client_order_id, moved)
    again = await ccxt_exchange.replace(BTC, first.client_order_id, moved)
    assert result.placed is not None and again.placed is not None
    assert again.placed.exchange_order_id == result.placed.exchange_order_id
    [resting] = await ccxt_exchange.open_orders(BTC)
    assert (resting.client_order_id, resting.trigger_price) == (moved.client_order_id, Decimal(49000))
    assert len(fake_exchange.venue.lists_accepted()) == 2 and len(fake_exchange.venue.open_lists()) == 1
