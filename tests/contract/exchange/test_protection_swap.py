"""Stop/take-profit swap on spot (one resting protective order at a time), on both implementations.

The position machine decides when to swap (trader.core.positions.protection); these tests check the
executor primitive ``Exchange.replace``: cancel the stop, place the take-profit limit, and back, with
exactly one resting order after every step and after a crash at any point of the swap.
"""

from __future__ import annotations

from decimal import Decimal

from tests.contract.exchange.intents import BTC, limit, market_buy, stop_sell
from tests.contract.exchange.venues import VenueDriver
from trader.core.domain.enums import OrderPurpose, OrderStatus, OrderType, Side


async def _long_with_stop(venue: VenueDriver, position: str) -> tuple[str, object]:
    await venue.exchange.place(market_buy(position, "0.01"))
    venue.set_price(BTC, "50000")
    held = (await venue.exchange.market(BTC)).round_amount(
        (await venue.exchange.balances()).balances["BTC"].free)
    stop = await venue.exchange.place(stop_sell(position, str(held), "48000"))
    return str(held), stop


async def _resting(venue: VenueDriver) -> list[tuple[str, OrderType]]:
    return [(o.client_order_id, o.type) for o in await venue.exchange.open_orders(BTC)]


async def test_swap_stop_for_take_profit_near_target_and_back(venue: VenueDriver) -> None:
    held, stop = await _long_with_stop(venue, "s1")
    venue.set_price(BTC, "51800")  # within the swap distance of a 52,000 target
    take_profit = limit("s1", Side.SELL, held, "52000", OrderPurpose.TAKE_PROFIT)
    swapped = await venue.exchange.replace(BTC, stop.client_order_id, take_profit)
    assert swapped.placed is not None
    assert await _resting(venue) == [(take_profit.client_order_id, OrderType.LIMIT)]
    venue.set_price(BTC, "50500")  # moved away: the stop goes back (next stop attempt)
    back = stop_sell("s1", held, "48000", attempt=1)
    result = await venue.exchange.replace(BTC, take_profit.client_order_id, back)
    assert result.cancelled is not None and result.cancelled.status is OrderStatus.CANCELLED
    assert await _resting(venue) == [(back.client_order_id, OrderType.STOP)]


async def test_swap_rerun_after_crash_between_cancel_and_place(venue: VenueDriver) -> None:
    held, stop = await _long_with_stop(venue, "s2")
    take_profit = limit("s2", Side.SELL, held, "52000", OrderPurpose.TAKE_PROFIT)
    await venue.exchange.cancel(BTC, stop.client_order_id)  # crash right after this step
    result = await venue.exchange.replace(BTC, stop.client_order_id, take_profit)
    assert result.placed is not None and result.placed.status is OrderStatus.OPEN
    assert await _resting(venue) == [(take_profit.client_order_id, OrderType.LIMIT)]


async def test_swap_rerun_after_completed_swap_changes_nothing(venue: VenueDriver) -> None:
    held, stop = await _long_with_stop(venue, "s3")
    take_profit = limit("s3", Side.SELL, held, "52000", OrderPurpose.TAKE_PROFIT)
    first = await venue.exchange.replace(BTC, stop.client_order_id, take_profit)
    again = await venue.exchange.replace(BTC, stop.client_order_id, take_profit)
    assert first.placed is not None and again.placed is not None
    assert again.placed.client_order_id == first.placed.client_order_id
    assert await _resting(venue) == [(take_profit.client_order_id, OrderType.LIMIT)]


async def test_swap_after_stop_filled_places_nothing(venue: VenueDriver) -> None:
    held, stop = await _long_with_stop(venue, "s4")
    venue.set_price(BTC, "47900")  # the stop fills before the swap reaches the venue
    result = await venue.exchange.replace(BTC, stop.client_order_id,
                                          limit("s4", Side.SELL, held, "52000", OrderPurpose.TAKE_PROFIT))
    assert result.placed is None
    assert result.cancelled is not None and result.cancelled.status is OrderStatus.FILLED
    assert result.cancelled.filled == Decimal(held)
    assert await _resting(venue) == []
