"""A seeded random session of orders, prices and faults: never a duplicate order, never a lost fill.

Each step picks an action, injects (60 % of the time) a random fault on one of the routes that action
uses, and runs it; errors the caller would reconcile later are tolerated. At the end the fake's ledger
and the adapter's view must agree exactly.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.contract.exchange.intents import BTC, limit, market_buy
from tests.fakes.fake_exchange import FakeExchange, Fault, FaultKind
from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.core.domain.enums import OrderPurpose, Side
from trader.core.domain.ids import ClientOrderId
from trader.core.errors import InsufficientFunds, OrderNotFound, RetryableError

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
KINDS = (FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.DROP_AFTER_ACCEPT, FaultKind.TIMEOUT)
ROUTES = {
    "market": ("POST /api/v3/order", "GET /api/v3/order", "GET /api/v3/ticker/24hr"),
    "limit": ("POST /api/v3/order", "GET /api/v3/order"),
    "cancel": ("DELETE /api/v3/order", "GET /api/v3/order"),
    "price": ("GET /api/v3/myTrades", "GET /api/v3/order"),
}


async def _act(action: str, rng: random.Random, step: int, sent: list[ClientOrderId],
               fake: FakeExchange, exchange: CcxtExchange) -> None:
    if action == "market":
        request = market_buy(f"soak-{step}", "0.002")
        sent.append(request.client_order_id)
        await exchange.place(request)
    elif action == "limit":
        price = str(rng.randrange(48_000, 50_000, 100))
        request = limit(f"soak-{step}", Side.BUY, "0.002", price, OrderPurpose.ENTRY)
        sent.append(request.client_order_id)
        await exchange.place(request)
    elif action == "cancel" and sent:
        await exchange.cancel(BTC, rng.choice(sent))
    else:
        fake.set_price("BTC/USDT", str(rng.randrange(47_000, 51_000, 50)))
        await exchange.fills_since(BTC, EPOCH)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_faults_never_duplicate_or_lose(
    fake_exchange: FakeExchange, ccxt_exchange: CcxtExchange, seed: int
) -> None:
    rng = random.Random(seed)
    sent: list[ClientOrderId] = []
    for step in range(24):
        action = rng.choice(("market", "market", "limit", "cancel", "price"))
        fake_exchange.faults.clear()  # each step's fault hits that step's own requests
        if rng.random() < 0.6:
            fake_exchange.inject(Fault(rng.choice(KINDS), route=rng.choice(ROUTES[action]), retry_after=0,
                                       delay=1.5))
        try:
            await _act(action, rng, step, sent, fake_exchange, ccxt_exchange)
        except (RetryableError, InsufficientFunds, OrderNotFound):
            pass  # outcomes the caller reconciles later; the invariants below must hold anyway
    fake_exchange.faults.clear()
    for client_id in set(sent):
        accepted = fake_exchange.venue.order_count(client_id)
        assert accepted <= 1, client_id
        assert (await ccxt_exchange.order(BTC, client_id) is not None) == (accepted == 1)
    ours = await ccxt_exchange.fills_since(BTC, EPOCH)
    theirs = fake_exchange.venue.fills()
    assert [(f.trade_id, f.client_order_id, f.amount) for f in ours] == [
        (e.detail["trade_id"], e.client_id, Decimal(e.detail["qty"])) for e in theirs]
    kinds = {kind for _, kind in fake_exchange.faults.fired}
    assert FaultKind.DROP_AFTER_ACCEPT in kinds and len(fake_exchange.faults.fired) >= 6
