"""Our stop/stop-limit/OCO intents become each venue's native order request through the real ccxt client.

A recording server serves each venue's market list and records the order request ccxt sends (then
answers 503): Kraken, Bybit and OKX have no full fake, so this checks the translation on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr

from tests.contract.exchange.intents import intent, stop_sell
from tests.fakes.fake_exchange.recorder import Recorder, start_recorder
from trader.adapters.exchange.capabilities import VENUE_FACTS, market_spec_from
from trader.adapters.exchange.ccxt_orders import create_args
from trader.adapters.exchange.client import make_client
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.domain.ids import Symbol
from trader.core.domain.orders import OrderRequest
from trader.core.errors import RetryableError


@pytest.fixture
def recorder() -> Iterator[tuple[str, Recorder]]:
    server, rec = start_recorder()
    try:
        yield server.base_url, rec
    finally:
        server.stop()


async def _send(venue: str, symbol: str, request: OrderRequest, base_url: str) -> None:
    config = ExchangeConfig(name=venue, api_key=SecretStr("k"), api_secret=SecretStr("czM="),
                            api_password=SecretStr("p"), api_base_url=base_url)
    client = make_client(config, rate_limit=False)
    try:
        markets = await client.load_markets()
        spec = market_spec_from(markets[symbol], client.has, venue, client.precisionMode)
        args = create_args(replace(request, symbol=Symbol(symbol)), spec, VENUE_FACTS[venue], None)
        params = {k: str(v) if not isinstance(v, str) else v for k, v in args.params.items()}
        with pytest.raises(Exception) as caught:  # the recorder answers 503 once it has the request
            await client.create_order(args.symbol, args.type, args.side, str(args.amount),
                                      str(args.price) if args.price is not None else None, params)
        assert "503" in str(caught.value) or isinstance(caught.value, RetryableError)
    finally:
        await client.close()


STOP = stop_sell("n1", "0.01", "48000")
STOP_LIMIT = intent("n1", OrderPurpose.STOP, Side.SELL, OrderType.STOP_LIMIT, "0.01", price="47900",
                    trigger="48000")
OCO = intent("n1", OrderPurpose.STOP, Side.SELL, OrderType.OCO, "0.01", price="52000", trigger="48000")


async def test_kraken_stop_and_stop_limit_are_native(recorder: tuple[str, Recorder]) -> None:
    await _send("kraken", "BTC/USD", STOP, recorder[0])
    await _send("kraken", "BTC/USD", STOP_LIMIT, recorder[0])
    bodies = [parse_qs(body) for _, path, body in recorder[1].orders() if path == "/0/private/AddOrder"]
    assert [(b["ordertype"], b["price"], b.get("price2")) for b in bodies] == [
        (["stop-loss"], ["48000"], None), (["stop-loss-limit"], ["48000"], ["47900"])]
    assert all(b["cl_ord_id"] == [STOP.client_order_id] for b in bodies)


async def test_bybit_spot_stop_is_a_tpsl_trigger_order(recorder: tuple[str, Recorder]) -> None:
    await _send("bybit", "BTC/USDT", STOP, recorder[0])
    [(method, path, body)] = recorder[1].orders()
    sent = json.loads(body)
    assert (method, path) == ("POST", "/v5/order/create")
    assert (sent["orderType"], sent["triggerPrice"], sent["orderFilter"]) == ("Market", "48000", "tpslOrder")
    assert sent["orderLinkId"] == STOP.client_order_id and sent["category"] == "spot"


async def test_okx_stop_is_a_cash_conditional_and_oco_is_native(recorder: tuple[str, Recorder]) -> None:
    await _send("okx", "BTC/USDT", STOP, recorder[0])
    await _send("okx", "BTC/USDT", OCO, recorder[0])
    sent = [json.loads(body) for _, path, body in recorder[1].orders() if path == "/api/v5/trade/order-algo"]
    assert [(s["ordType"], s["tdMode"], s.get("slTriggerPx"), s.get("tpTriggerPx")) for s in sent] == [
        ("conditional", "cash", "48000", None), ("oco", "cash", "48000", "52000")]
    assert [s["algoClOrdId"] for s in sent] == [STOP.client_order_id, OCO.client_order_id]
