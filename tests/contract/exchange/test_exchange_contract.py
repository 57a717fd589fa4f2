"""The exchange contract: the same behaviour from CcxtExchange (against the fake server) and PaperExchange.

Prices are set exactly at order levels where the two venues' fill rules could differ (the fake fills a
triggered order at the current price, the simulator at the order's level), so every assertion holds
for both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.contract.exchange.intents import BTC, intent, limit, market_buy, stop_sell
from tests.contract.exchange.venues import VenueDriver
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.errors import DataError, InsufficientFunds, InvalidOrder, OrderNotFound

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


async def _buy_and_hold(venue: VenueDriver, position: str, amount: str = "0.01") -> Decimal:
    """Buy at 50,000 and return the free BTC now held (after fees), rounded to the lot step."""
    await venue.exchange.place(market_buy(position, amount))
    venue.set_price(BTC, "50000")
    held = (await venue.exchange.balances()).balances["BTC"].free
    return (await venue.exchange.market(BTC)).round_amount(held)


async def test_market_buy_fills_at_the_next_price(venue: VenueDriver) -> None:
    request = market_buy("c1", "0.01")
    await venue.exchange.place(request)
    venue.set_price(BTC, "50000")
    order = await venue.exchange.order(BTC, request.client_order_id)
    assert order is not None
    assert (order.status, order.filled, order.average_price) == (OrderStatus.FILLED, Decimal("0.01"),
                                                                 Decimal("50000"))
    fills = await venue.exchange.fills_since(BTC, EPOCH)
    assert [(f.client_order_id, f.amount, f.price) for f in fills] == [
        (request.client_order_id, Decimal("0.01"), Decimal("50000"))]
    assert fills[0].fee > 0


async def test_equity_after_a_buy_is_start_minus_fees(venue: VenueDriver) -> None:
    await _buy_and_hold(venue, "c2")
    snapshot = await venue.exchange.balances()
    assert snapshot.quote == "USDT"
    assert Decimal("9999") < snapshot.equity < Decimal("10000")
    assert snapshot.balances["USDT"].total <= Decimal("9500")


async def test_limit_rests_until_price_reaches_it(venue: VenueDriver) -> None:
    request = limit("c3", Side.BUY, "0.01", "49000")
    placed = await venue.exchange.place(request)
    assert placed.status is OrderStatus.OPEN
    assert [o.client_order_id for o in await venue.exchange.open_orders(BTC)] == [request.client_order_id]
    venue.set_price(BTC, "49500")
    assert (await venue.exchange.order(BTC, request.client_order_id)).status is OrderStatus.OPEN
    venue.set_price(BTC, "49000")
    done = await venue.exchange.order(BTC, request.client_order_id)
    assert (done.status, done.average_price) == (OrderStatus.FILLED, Decimal("49000"))
    assert await venue.exchange.open_orders(BTC) == []


async def test_native_stop_triggers_only_when_price_crosses(venue: VenueDriver) -> None:
    held = await _buy_and_hold(venue, "c4")
    stop = await venue.exchange.place(stop_sell("c4", str(held), "48000"))
    assert (stop.status, stop.type) == (OrderStatus.OPEN, OrderType.STOP)
    assert stop.trigger_price == Decimal("48000")
    venue.set_price(BTC, "48000.01")
    assert (await venue.exchange.order(BTC, stop.client_order_id)).status is OrderStatus.OPEN
    venue.set_price(BTC, "47900")
    done = await venue.exchange.order(BTC, stop.client_order_id)
    assert (done.status, done.filled, done.average_price) == (OrderStatus.FILLED, held, Decimal("47900"))
    fills = await venue.exchange.fills_since(BTC, EPOCH)
    assert [f.client_order_id for f in fills][-1] == stop.client_order_id


async def test_take_profit_fills_when_price_reaches_target(venue: VenueDriver) -> None:
    held = await _buy_and_hold(venue, "c5")
    request = intent("c5", OrderPurpose.TAKE_PROFIT, Side.SELL, OrderType.TAKE_PROFIT, str(held),
                     trigger="52000")
    placed = await venue.exchange.place(request)
    assert (placed.status, placed.type) == (OrderStatus.OPEN, OrderType.TAKE_PROFIT)
    venue.set_price(BTC, "51999")
    assert (await venue.exchange.order(BTC, request.client_order_id)).status is OrderStatus.OPEN
    venue.set_price(BTC, "52000")
    done = await venue.exchange.order(BTC, request.client_order_id)
    assert (done.status, done.average_price) == (OrderStatus.FILLED, Decimal("52000"))


async def test_resting_stop_locks_the_coins_for_a_second_sell(venue: VenueDriver) -> None:
    held = await _buy_and_hold(venue, "c6")
    await venue.exchange.place(stop_sell("c6", str(held), "48000"))
    with pytest.raises(InsufficientFunds):
        await venue.exchange.place(limit("c6", Side.SELL, str(held), "52000", OrderPurpose.TAKE_PROFIT))


async def test_cancel_releases_funds_and_repeats_harmlessly(venue: VenueDriver) -> None:
    request = limit("c7", Side.BUY, "0.01", "45000")
    await venue.exchange.place(request)
    assert (await venue.exchange.balances()).balances["USDT"].free < Decimal(10_000)
    cancelled = await venue.exchange.cancel(BTC, request.client_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert (await venue.exchange.balances()).balances["USDT"].free == Decimal(10_000)
    again = await venue.exchange.cancel(BTC, request.client_order_id)
    assert again.status is OrderStatus.CANCELLED
    assert await venue.exchange.open_orders(BTC) == []


async def test_unknown_order_is_none_and_cannot_be_cancelled(venue: VenueDriver) -> None:
    assert await venue.exchange.order(BTC, ClientOrderId("tbnosuchorder")) is None
    with pytest.raises(OrderNotFound):
        await venue.exchange.cancel(BTC, ClientOrderId("tbnosuchorder"))


async def test_same_client_id_twice_makes_one_order(venue: VenueDriver) -> None:
    request = limit("c8", Side.BUY, "0.01", "45000")
    first = await venue.exchange.place(request)
    second = await venue.exchange.place(request)
    assert first.client_order_id == second.client_order_id
    assert len(await venue.exchange.open_orders(BTC)) == 1
    filled = market_buy("c9", "0.01")
    await venue.exchange.place(filled)
    venue.set_price(BTC, "50000")
    await venue.exchange.place(filled)
    venue.set_price(BTC, "50000")
    assert [f.client_order_id for f in await venue.exchange.fills_since(BTC, EPOCH)] == [
        filled.client_order_id]


async def test_amount_rounds_down_and_minimums_refuse(venue: VenueDriver) -> None:
    placed = await venue.exchange.place(limit("c10", Side.BUY, "0.0123456789", "45000"))
    assert placed.amount == Decimal("0.01234")
    with pytest.raises(InvalidOrder):
        await venue.exchange.place(limit("c11", Side.BUY, "0.0001", "45000"))  # 4.5 USDT < 5


async def test_buying_more_than_the_balance_is_refused(venue: VenueDriver) -> None:
    with pytest.raises(InsufficientFunds):
        await venue.exchange.place(market_buy("c12", "1"))
    assert await venue.exchange.open_orders(BTC) == []


async def test_unknown_pair_is_a_data_error(venue: VenueDriver) -> None:
    with pytest.raises(DataError):
        await venue.exchange.market(Symbol("DOGE/USDT"))
    assert (await venue.exchange.market(BTC)).capabilities.native_stop


async def test_trailing_replace_leaves_exactly_one_stop(venue: VenueDriver) -> None:
    held = await _buy_and_hold(venue, "c13")
    first = await venue.exchange.place(stop_sell("c13", str(held), "48000", attempt=0))
    venue.set_price(BTC, "52000")
    result = await venue.exchange.replace(BTC, first.client_order_id,
                                          stop_sell("c13", str(held), "50440", attempt=1))
    assert result.cancelled is not None and result.cancelled.status is OrderStatus.CANCELLED
    assert result.placed is not None and result.placed.trigger_price == Decimal("50440")
    resting = await venue.exchange.open_orders(BTC)
    assert [(o.client_order_id, o.type) for o in resting] == [(result.placed.client_order_id, OrderType.STOP)]
