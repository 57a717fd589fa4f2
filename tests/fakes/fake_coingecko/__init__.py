"""A local CoinGecko API v3 speaking the real endpoints' JSON shapes, with scripted 429s and key checks.

Served endpoints: ``/api/v3/coins/list``, ``/api/v3/simple/price`` and
``/api/v3/coins/{id}/market_chart/range`` (daily points at 00:00 UTC, as CoinGecko answers ranges over
90 days; hourly points for shorter ranges). Unknown ids are left out of /simple/price and answered
404 ``{"error": "coin not found"}`` by /market_chart/range, as the real API does; an id given a daily
path (``price_path``) is known even when ``COINS_LIST`` does not name it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from aiohttp import web

from tests.fakes.fake_exchange.server import ServerThread

COINS_LIST = [
    {"id": "bitcoin", "symbol": "btc", "name": "Bitcoin"},
    {"id": "ethereum", "symbol": "eth", "name": "Ethereum"},
    {"id": "tether", "symbol": "usdt", "name": "Tether"},
    {"id": "bridged-tether", "symbol": "usdt", "name": "Bridged Tether"},
    {"id": "solana", "symbol": "sol", "name": "Solana"},
    {"id": "osmosis", "symbol": "osmo", "name": "Osmosis"},
    {"id": "uni-a", "symbol": "dup", "name": "Duplicate A"},
    {"id": "uni-b", "symbol": "dup", "name": "Duplicate B"},
]


@dataclass
class FakeCoinGecko:
    """State of the fake: prices per (id, vs), scripted 429s, the key header it requires, what it saw."""

    spot: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    daily: dict[tuple[str, str], dict[date, Decimal]] = field(default_factory=dict)
    throttle_next: int = 0  # answer this many requests with 429
    retry_after: str | None = "1"
    key_header: str | None = None  # e.g. "x-cg-demo-api-key"
    key: str = "cg-test-key"
    seen: list[str] = field(default_factory=list)
    server: ServerThread | None = None

    @property
    def base_url(self) -> str:
        """Return the API root, e.g. http://127.0.0.1:1234/api/v3."""
        assert self.server is not None
        return self.server.base_url + "/api/v3"

    def price_path(self, coin: str, vs: str, start: date, days: int, first: Decimal, step: Decimal) -> None:
        """Serve a daily price path: ``first`` on ``start``, then ``step`` more each day."""
        self.daily[(coin, vs)] = {start + timedelta(days=i): first + step * i for i in range(days)}


KEY = web.AppKey("fake", FakeCoinGecko)


@web.middleware
async def _gate(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:  # type: ignore[type-arg]
    fake = request.app[KEY]
    fake.seen.append(f"{request.path}?{request.query_string}")
    if fake.key_header is not None and request.headers.get(fake.key_header) != fake.key:
        return web.json_response({"status": {"error_code": 10002, "error_message": "API Key Missing"}},
                                 status=401)
    if fake.throttle_next > 0:
        fake.throttle_next -= 1
        headers = {"Retry-After": fake.retry_after} if fake.retry_after is not None else {}
        body = {"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit."}}
        return web.json_response(body, status=429, headers=headers)
    return await handler(request)


async def _coins_list(request: web.Request) -> web.Response:
    return web.json_response(COINS_LIST)


async def _simple_price(request: web.Request) -> web.Response:
    fake = request.app[KEY]
    ids = request.query["ids"].split(",")
    vs_list = request.query["vs_currencies"].split(",")
    body: dict[str, dict[str, float]] = {}
    for coin in ids:
        quotes = {vs: float(fake.spot[(coin, vs)]) for vs in vs_list if (coin, vs) in fake.spot}
        if quotes:
            body[coin] = quotes
    return web.json_response(body)


async def _range(request: web.Request) -> web.Response:
    fake = request.app[KEY]
    coin, vs = request.match_info["coin"], request.query["vs_currency"]
    if not any(c["id"] == coin for c in COINS_LIST) and not any(k[0] == coin for k in fake.daily):
        return web.json_response({"error": "coin not found"}, status=404)
    start = datetime.fromtimestamp(int(request.query["from"]), tz=UTC)
    end = datetime.fromtimestamp(int(request.query["to"]), tz=UTC)
    hourly = end - start <= timedelta(days=90)
    points = []
    for day, price in sorted(fake.daily.get((coin, vs), {}).items()):
        for hour in range(24 if hourly else 1):
            at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)
            if start <= at <= end:
                points.append([int(at.timestamp() * 1000), float(price) + hour * 0.001])
    return web.json_response({"prices": points, "market_caps": [[p[0], 1e9] for p in points],
                              "total_volumes": [[p[0], 1e6] for p in points]})


def start_fake_coingecko(fake: FakeCoinGecko | None = None) -> FakeCoinGecko:
    """Start serving ``fake`` (a new one by default) on an ephemeral port."""
    fake = fake or FakeCoinGecko()
    app = web.Application(middlewares=[_gate])
    app[KEY] = fake
    app.router.add_get("/api/v3/coins/list", _coins_list)
    app.router.add_get("/api/v3/simple/price", _simple_price)
    app.router.add_get("/api/v3/coins/{coin}/market_chart/range", _range)
    fake.server = ServerThread(app).start()
    return fake


def running_fake() -> Iterator[FakeCoinGecko]:
    """Yield a started fake and stop it afterwards (for fixtures)."""
    fake = start_fake_coingecko()
    try:
        yield fake
    finally:
        assert fake.server is not None
        fake.server.stop()
