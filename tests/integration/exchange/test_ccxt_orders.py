"""Order lifecycle through the real ccxt client against the fake Binance server: our view vs its ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.contract.exchange.intents import BTC, intent, limit, market_buy, stop_sell
from tests.fakes.fake_exchange import FakeExchange
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId
from trader.core.errors import InsufficientFunds, InvalidOrder, OrderNotFound

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


async def test_market_buy_fills_and_fill_matches_venue_ledger(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    request = market_buy("p1", "0.01")
    order = await ccxt_exchange.place(request)
    assert order.status is OrderStatus.FILLED
    assert order.client_order_id == request.client_order_id
    assert (order.filled, order.average_price) == (Decimal("0.01"), Decimal("50000"))
    fills = await ccxt_exchange.fills_since(BTC, EPOCH)
    venue_fills = fake_exchange.venue.fills()
    assert [(f.trade_id, f.client_order_id, f.amount) for f in fills] == [
        (e.detail["trade_id"], e.client_id, Decimal(e.detail["qty"])) for e in venue_fills
    ]
    balances = await ccxt_exchange.balances()
    assert balances.balances["BTC"].total == Decimal("0.00999")  # fee charged in BTC, as on Binance
    assert balances.balances["USDT"].total == Decimal("9500")


async def test_amount_is_rounded_down_to_the_lot_step(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    order = await ccxt_exchange.place(market_buy("p1", "0.0123456789"))
    assert order.amount == Decimal("0.01234")
    assert fake_exchange.venue.all_orders()[0].qty == Decimal("0.01234")


async def test_below_minimum_cost_is_refused_before_sending(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    with pytest.raises(InvalidOrder, match="below the minimum"):
        await ccxt_exchange.place(market_buy("p1", "0.00005"))  # 2.5 USDT < 5 USDT
    assert "POST /api/v3/order" not in fake_exchange.requests


async def test_limit_rests_then_fills_when_price_reaches_it(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    request = limit("p2", Side.BUY, "0.01", "49000")
    placed = await ccxt_exchange.place(request)
    assert placed.status is OrderStatus.OPEN
    assert placed.price == Decimal("49000")
    assert [o.client_order_id for o in await ccxt_exchange.open_orders(BTC)] == [request.client_order_id]
    fake_exchange.script_prices("BTC/USDT", ["49500", "48900"])
    fake_exchange.advance("BTC/USDT")
    assert (await ccxt_exchange.order(BTC, request.client_order_id)).status is OrderStatus.OPEN  # type: ignore[union-attr]
    fake_exchange.advance("BTC/USDT")
    done = await ccxt_exchange.order(BTC, request.client_order_id)
    assert done is not None and done.status is OrderStatus.FILLED
    assert done.average_price == Decimal("49000")
    assert await ccxt_exchange.open_orders(BTC) == []


async def test_native_stop_rests_on_venue_and_triggers_on_price_drop(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    await ccxt_exchange.place(market_buy("p3", "0.01"))
    stop = await ccxt_exchange.place(stop_sell("p3", "0.00999", "48000"))
    assert (stop.status, stop.type) == (OrderStatus.OPEN, OrderType.STOP)
    assert stop.trigger_price == Decimal("48000")
    assert fake_exchange.venue.all_orders()[-1].type == "STOP_LOSS"
    fake_exchange.set_price("BTC/USDT", "48500")
    assert (await ccxt_exchange.order(BTC, stop.client_order_id)).status is OrderStatus.OPEN  # type: ignore[union-attr]
    fake_exchange.set_price("BTC/USDT", "47900")
    done = await ccxt_exchange.order(BTC, stop.client_order_id)
    assert done is not None and done.status is OrderStatus.FILLED
    fills = await ccxt_exchange.fills_since(BTC, EPOCH)
    assert [f.client_order_id for f in fills] == [e.client_id for e in fake_exchange.venue.fills()]
    assert fills[-1].client_order_id == stop.client_order_id


async def test_stop_limit_places_stop_loss_limit(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    await ccxt_exchange.place(market_buy("p4", "0.01"))
    request = intent("p4", OrderPurpose.STOP, Side.SELL, OrderType.STOP_LIMIT, "0.00999", price="47900",
                     trigger="48000")
    order = await ccxt_exchange.place(request)
    assert order.type is OrderType.STOP_LIMIT
    assert fake_exchange.venue.all_orders()[-1].type == "STOP_LOSS_LIMIT"


async def test_take_profit_places_take_profit_and_fills_on_rise(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    await ccxt_exchange.place(market_buy("p5", "0.01"))
    request = intent("p5", OrderPurpose.TAKE_PROFIT, Side.SELL, OrderType.TAKE_PROFIT, "0.00999",
                     trigger="52000")
    order = await ccxt_exchange.place(request)
    assert order.type is OrderType.TAKE_PROFIT
    assert fake_exchange.venue.all_orders()[-1].type == "TAKE_PROFIT"
    fake_exchange.set_price("BTC/USDT", "52100")
    done = await ccxt_exchange.order(BTC, request.client_order_id)
    assert done is not None and done.status is OrderStatus.FILLED


async def test_trailing_stop_cancel_replace_keeps_one_resting_stop(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    await ccxt_exchange.place(market_buy("p6", "0.01"))
    first = await ccxt_exchange.place(stop_sell("p6", "0.00999", "48000", attempt=0))
    fake_exchange.set_price("BTC/USDT", "52000")
    cancelled = await ccxt_exchange.cancel(BTC, first.client_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    second = await ccxt_exchange.place(stop_sell("p6", "0.00999", "50440", attempt=1))
    open_now = await ccxt_exchange.open_orders(BTC)
    assert [o.client_order_id for o in open_now] == [second.client_order_id]
    assert open_now[0].trigger_price == Decimal("50440")
    fake_exchange.set_price("BTC/USDT", "50400")
    fills = await ccxt_exchange.fills_since(BTC, EPOCH)
    assert [f.client_order_id for f in fills][-1] == second.client_order_id
    entry_id = fills[0].client_order_id
    events = [(e.event, e.client_id) for e in fake_exchange.venue.ledger if e.client_id != entry_id]
    assert events == [("accepted", first.client_order_id), ("canceled", first.client_order_id),
                      ("accepted", second.client_order_id), ("fill", second.client_order_id)]


async def test_cancel_finished_order_returns_it_and_unknown_raises(ccxt_exchange: CcxtExchange) -> None:
    filled = await ccxt_exchange.place(market_buy("p7", "0.01"))
    again = await ccxt_exchange.cancel(BTC, filled.client_order_id)
    assert again.status is OrderStatus.FILLED
    with pytest.raises(OrderNotFound):
        await ccxt_exchange.cancel(BTC, ClientOrderId("nosuchorder"))
    assert await ccxt_exchange.order(BTC, ClientOrderId("nosuchorder")) is None


async def test_repeating_a_filled_request_returns_it_without_a_second_order(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    request = market_buy("p8", "0.01")
    first = await ccxt_exchange.place(request)
    second = await ccxt_exchange.place(request)
    assert second.exchange_order_id == first.exchange_order_id
    assert fake_exchange.venue.order_count(request.client_order_id) == 1


async def test_insufficient_balance_is_refused_and_not_retried(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    with pytest.raises(InsufficientFunds):
        await ccxt_exchange.place(market_buy("p9", "1"))  # 50,000 USDT > 10,000
    assert fake_exchange.requests.count("POST /api/v3/order") == 1
    assert fake_exchange.venue.accepted() == []


async def test_stop_limit_triggers_then_rests_as_limit_until_reached(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    await ccxt_exchange.place(market_buy("p10", "0.01"))
    request = intent("p10", OrderPurpose.STOP, Side.SELL, OrderType.STOP_LIMIT, "0.00999", price="48500",
                     trigger="49000")
    await ccxt_exchange.place(request)
    fake_exchange.set_price("BTC/USDT", "48000")  # triggers; the sell limit at 48,500 is not reached
    resting = await ccxt_exchange.order(BTC, request.client_order_id)
    assert resting is not None and resting.status is OrderStatus.OPEN
    fake_exchange.set_price("BTC/USDT", "48600")
    done = await ccxt_exchange.order(BTC, request.client_order_id)
    assert done is not None and done.status is OrderStatus.FILLED
    assert done.average_price == Decimal("48500")


async def test_partial_fills_are_reported_per_execution(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    fake_exchange.venue.liquidity = Decimal("0.004")
    request = limit("p11", Side.BUY, "0.01", "49000")
    await ccxt_exchange.place(request)
    fake_exchange.set_price("BTC/USDT", "49000")
    partial = await ccxt_exchange.order(BTC, request.client_order_id)
    assert partial is not None
    assert (partial.status, partial.filled) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.004"))
    fake_exchange.set_price("BTC/USDT", "48900")
    cancelled = await ccxt_exchange.cancel(BTC, request.client_order_id)
    assert (cancelled.status, cancelled.filled) == (OrderStatus.CANCELLED, Decimal("0.008"))
    fills = await ccxt_exchange.fills_since(BTC, EPOCH)
    assert [(f.client_order_id, f.amount) for f in fills] == [(request.client_order_id, Decimal("0.004"))] * 2
    assert fake_exchange.venue.free["USDT"] == Decimal(10_000) - Decimal("0.008") * 49000


async def test_replace_after_partial_fill_places_nothing(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    await ccxt_exchange.place(market_buy("p12", "0.01"))
    fake_exchange.venue.liquidity = Decimal("0.003")
    take_profit = limit("p12", Side.SELL, "0.00999", "51000", OrderPurpose.TAKE_PROFIT)
    await ccxt_exchange.place(take_profit)
    fake_exchange.set_price("BTC/USDT", "51000")
    stop = stop_sell("p12", "0.00999", "48000")
    result = await ccxt_exchange.replace(BTC, take_profit.client_order_id, stop)
    assert result.placed is None
    assert result.cancelled is not None and result.cancelled.filled == Decimal("0.003")
    assert await ccxt_exchange.open_orders(BTC) == []
