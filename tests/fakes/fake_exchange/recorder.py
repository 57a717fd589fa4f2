"""A recording server: answers market-list requests with canned venue JSON and records everything else.

Any request without a canned answer gets HTTP 503, so ccxt gives up after sending it; the test then
checks what the real ccxt client sent for our order (the native stop/OCO request of each venue).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange.server import ServerThread

KRAKEN_PAIRS = {"error": [], "result": {"XXBTZUSD": {
    "altname": "XBTUSD", "wsname": "XBT/USD", "aclass_base": "currency", "base": "XXBT",
    "aclass_quote": "currency", "quote": "ZUSD", "lot": "unit", "cost_decimals": 5, "pair_decimals": 1,
    "lot_decimals": 8, "lot_multiplier": 1, "leverage_buy": [], "leverage_sell": [], "fees": [[0, 0.26]],
    "fees_maker": [[0, 0.16]], "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40,
    "ordermin": "0.0001", "costmin": "0.5", "tick_size": "0.1", "status": "online"}}}
BYBIT_SPOT = {"retCode": 0, "retMsg": "OK", "time": 1700000000000, "retExtInfo": {}, "result": {
    "category": "spot", "nextPageCursor": "", "list": [{
        "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "innovation": "0", "status": "Trading",
        "marginTrading": "both", "priceFilter": {"tickSize": "0.01"},
        "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.00000001",
                          "minOrderQty": "0.000048", "maxOrderQty": "71.7", "minOrderAmt": "1",
                          "maxOrderAmt": "2000000"}}]}}
BYBIT_ACCOUNT = {"retCode": 0, "retMsg": "OK", "time": 1,
                 "result": {"unified": 0, "uta": 1, "unifiedMarginStatus": 4, "marginMode": "REGULAR_MARGIN"}}
OKX_SPOT = {"code": "0", "msg": "", "data": [{
    "instType": "SPOT", "instId": "BTC-USDT", "baseCcy": "BTC", "quoteCcy": "USDT", "tickSz": "0.01",
    "lotSz": "0.00001", "minSz": "0.00001", "state": "live"}]}

CANNED: dict[str, Any] = {
    "/0/public/AssetPairs": KRAKEN_PAIRS,
    "/v5/market/instruments-info": BYBIT_SPOT,
    "/v5/user/query-api": BYBIT_ACCOUNT,
    "/v5/account/info": BYBIT_ACCOUNT,
    "/api/v5/public/instruments": OKX_SPOT,
}


@dataclass
class Recorder:
    """What the server received: (method, path with query, body)."""

    seen: list[tuple[str, str, str]] = field(default_factory=list)

    def orders(self) -> list[tuple[str, str, str]]:
        """Return the recorded requests that had no canned answer (the order requests)."""
        return [r for r in self.seen if r[1].split("?")[0] not in CANNED]


RECORDER = web.AppKey("recorder", Recorder)


async def _any(request: web.Request) -> web.StreamResponse:
    request.app[RECORDER].seen.append((request.method, request.path_qs, await request.text()))
    if request.path in CANNED:
        return web.json_response(CANNED[request.path])
    return web.Response(status=503, text="recorded")


def start_recorder() -> tuple[ServerThread, Recorder]:
    """Start the recording server on an ephemeral port."""
    recorder = Recorder()
    app = web.Application()
    app[RECORDER] = recorder
    app.router.add_route("*", "/{tail:.*}", _any)
    return ServerThread(app).start(), recorder
