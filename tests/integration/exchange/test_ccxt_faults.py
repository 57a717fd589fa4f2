"""Every injected fault handled without a duplicate order or a lost fill (fake ledger vs adapter view)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import SecretStr

from tests.contract.exchange.intents import BTC, limit, market_buy, stop_sell
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.retry import RetryPolicy
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import OrderStatus, Side
from trader.core.domain.orders import OrderRequest
from trader.core.errors import (
    AuthError,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    RetryableError,
)

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
CREATE = "POST /api/v3/order"
QUERY = "GET /api/v3/order"


async def _assert_one_order_and_fills_agree(
    fake: FakeExchange, exchange: CcxtExchange, request: OrderRequest
) -> None:
    assert fake.venue.order_count(request.client_order_id) == 1
    ours = await exchange.fills_since(BTC, EPOCH)
    theirs = fake.venue.fills()
    assert [(f.trade_id, f.client_order_id, f.amount, f.price) for f in ours] == [
        (e.detail["trade_id"], e.client_id, Decimal(e.detail["qty"]), Decimal(e.detail["price"]))
        for e in theirs
    ]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(FaultKind.RATE_LIMIT, route=CREATE, retry_after=0),
        Fault(FaultKind.SERVER_ERROR, route=CREATE, status=503),
        Fault(FaultKind.SERVER_ERROR, route=CREATE, status=500),
        Fault(FaultKind.TIMEOUT, route=CREATE, delay=3.0),
        Fault(FaultKind.DROP_AFTER_ACCEPT, route=CREATE),
    ],
    ids=lambda f: f"{f.kind}-{f.status}",
)
async def test_market_order_survives_fault_once(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange, fault: Fault
) -> None:
    fake_exchange.inject(fault)
    request = market_buy("f1", "0.01")
    order = await ccxt_exchange.place(request)
    assert order.status is OrderStatus.FILLED
    assert order.client_order_id == request.client_order_id
    assert fake_exchange.faults.fired == [(CREATE, fault.kind)]
    await _assert_one_order_and_fills_agree(fake_exchange, ccxt_exchange, request)


async def test_dropped_create_is_found_by_client_id_without_resending(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    fake_exchange.inject(Fault(FaultKind.DROP_AFTER_ACCEPT, route=CREATE))
    request = stop_sell("f2", "0.001", "40000")
    fake_exchange.venue.deposit("BTC", "0.001")
    order = await ccxt_exchange.place(request)
    assert order.status is OrderStatus.OPEN
    assert fake_exchange.requests.count(CREATE) == 1
    assert fake_exchange.venue.order_count(request.client_order_id) == 1


async def test_lookup_failing_after_dropped_create_is_retried_not_resent(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    fake_exchange.inject(Fault(FaultKind.DROP_AFTER_ACCEPT, route=CREATE))
    request = market_buy("f3", "0.01")
    # first lookup (before create) answers; the two after the drop hit a 503 and a 429
    original_take = fake_exchange.faults.take
    seen = {"queries": 0}

    def take(route: str) -> Fault | None:
        if route == QUERY:
            seen["queries"] += 1
            if seen["queries"] == 2:
                return Fault(FaultKind.SERVER_ERROR, route=QUERY)
            if seen["queries"] == 3:
                return Fault(FaultKind.RATE_LIMIT, route=QUERY, retry_after=0)
        return original_take(route)

    fake_exchange.faults.take = take  # type: ignore[method-assign]
    order = await ccxt_exchange.place(request)
    assert order.status is OrderStatus.FILLED
    assert fake_exchange.requests.count(CREATE) == 1
    await _assert_one_order_and_fills_agree(fake_exchange, ccxt_exchange, request)


async def test_venue_duplicate_answer_returns_the_existing_order(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    request = limit("f4", Side.BUY, "0.01", "45000")
    fake_exchange.venue.place({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01",
                               "price": "45000", "newClientOrderId": request.client_order_id})
    # our pre-create lookup is made to miss, so the create reaches the venue's duplicate check
    fake_exchange.inject(Fault(FaultKind.ERROR, route=QUERY, status=400, code=-2013,
                               msg="Order does not exist."))
    order = await ccxt_exchange.place(request)
    assert order.status is OrderStatus.OPEN
    assert fake_exchange.venue.order_count(request.client_order_id) == 1
    assert fake_exchange.requests.count(CREATE) == 1


@pytest.mark.parametrize(("code", "msg"), [(-1013, "Filter failure: LOT_SIZE"),
                                           (-1111, "Precision is over the maximum defined for this asset.")])
async def test_precision_rejection_is_invalid_order_not_retried(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange, code: int, msg: str
) -> None:
    fake_exchange.inject(Fault(FaultKind.ERROR, route=CREATE, status=400, code=code, msg=msg))
    with pytest.raises(InvalidOrder):
        await ccxt_exchange.place(market_buy("f5", "0.01"))
    assert fake_exchange.requests.count(CREATE) == 1
    assert fake_exchange.venue.accepted() == []


async def test_venue_insufficient_balance_code_maps_to_insufficient_funds(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    fake_exchange.inject(Fault(FaultKind.ERROR, route=CREATE, status=400, code=-2010,
                               msg="Account has insufficient balance for requested action."))
    with pytest.raises(InsufficientFunds):
        await ccxt_exchange.place(market_buy("f6", "0.01"))
    assert fake_exchange.requests.count(CREATE) == 1


async def test_persistent_outage_gives_up_with_retryable_error_and_no_order(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    fake_exchange.inject(Fault(FaultKind.SERVER_ERROR, route=CREATE, times=20))
    with pytest.raises(ExchangeUnavailable):
        await ccxt_exchange.place(market_buy("f7", "0.01"))
    assert fake_exchange.requests.count(CREATE) == 5
    assert fake_exchange.venue.accepted() == []


async def test_dropped_cancel_reads_the_final_state(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    request = limit("f8", Side.BUY, "0.01", "45000")
    await ccxt_exchange.place(request)
    fake_exchange.inject(Fault(FaultKind.DROP_AFTER_ACCEPT, route="DELETE /api/v3/order"))
    cancelled = await ccxt_exchange.cancel(BTC, request.client_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert fake_exchange.venue.free["USDT"] == Decimal("10000")


async def test_fill_during_outage_is_reported_afterwards(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    request = limit("f9", Side.BUY, "0.01", "49000")
    await ccxt_exchange.place(request)
    fake_exchange.set_price("BTC/USDT", "48000")
    fake_exchange.inject(Fault(FaultKind.TIMEOUT, route="GET /api/v3/myTrades", delay=3.0))
    fills = await ccxt_exchange.fills_since(BTC, EPOCH)
    assert [f.client_order_id for f in fills] == [request.client_order_id]


async def test_wrong_key_is_auth_error(fake_exchange: FakeExchange) -> None:
    config = ExchangeConfig(name="binance", api_key=SecretStr("wrong"), api_secret=SecretStr("nope"),
                            api_base_url=fake_exchange.base_url)
    exchange = CcxtExchange(config, rate_limit=False, retry=RetryPolicy(attempts=2, base_delay=0.0))
    try:
        with pytest.raises(AuthError):
            await exchange.balances()
    finally:
        await exchange.close()


async def test_retryable_errors_are_the_only_ones_retried(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    fake_exchange.inject(Fault(FaultKind.ERROR, route="GET /api/v3/account", status=400, code=-1100,
                               msg="Illegal characters found in a parameter."))
    with pytest.raises(InvalidOrder):
        await ccxt_exchange.balances()
    assert fake_exchange.requests.count("GET /api/v3/account") == 1
    assert not issubclass(InvalidOrder, RetryableError)


async def test_refused_cancel_raises_and_replace_places_nothing(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange
) -> None:
    await ccxt_exchange.place(market_buy("f10", "0.01"))
    stop = await ccxt_exchange.place(stop_sell("f10", "0.00999", "48000"))
    refusal = Fault(FaultKind.ERROR, route="DELETE /api/v3/order", status=400, code=-2011,
                    msg="Unknown order sent.", times=2)
    fake_exchange.inject(refusal)
    moved = stop_sell("f10", "0.00999", "49000", attempt=1)
    with pytest.raises(ExchangeError, match="did not take effect"):
        await ccxt_exchange.replace(BTC, stop.client_order_id, moved)
    assert [o.client_order_id for o in await ccxt_exchange.open_orders(BTC)] == [stop.client_order_id]
    assert fake_exchange.requests.count(CREATE) == 2
