"""Binance USDⓈ-M futures (``/fapi``) routes for the fake venue: the perpetuals' settings and funding.

Served by the same aiohttp application as the spot dialect, so the same fault middleware (rate limits,
5xx, timeouts, dropped responses) applies. Public: exchangeInfo (one PERPETUAL per spot market),
premiumIndex (mark price, last funding rate), fundingRate (history). Signed: leverageBracket (margin
tiers), leverage, marginType (-4046 when unchanged, as Binance answers), income (FUNDING_FEE rows).
Orders, positions and the futures wallet are not modelled yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.fakes.fake_exchange.binance_app import VENUE, _s, _signed
from tests.fakes.fake_exchange.venue import VenueReject

D = Decimal
# Binance's published BTCUSDT brackets: (floor, cap, max leverage, maintenance rate, cum)
BRACKETS: tuple[tuple[int, int, int, str, str], ...] = (
    (0, 50_000, 125, "0.004", "0"), (50_000, 250_000, 100, "0.005", "50"),
    (250_000, 3_000_000, 50, "0.01", "1300"), (3_000_000, 15_000_000, 20, "0.025", "46300"),
)


@dataclass
class FuturesBook:
    """The perpetuals' account settings and funding, per venue symbol id (BTCUSDT)."""

    leverage: dict[str, int] = field(default_factory=dict)  # default 20x, as Binance starts accounts
    margin_type: dict[str, str] = field(default_factory=dict)  # ISOLATED / CROSSED (default CROSSED)
    funding_rates: dict[str, list[tuple[int, Decimal]]] = field(default_factory=dict)  # (time ms, rate)
    funding_paid: list[dict[str, Any]] = field(default_factory=list)  # income rows (FUNDING_FEE)
    setting_changes: list[str] = field(default_factory=list)  # "BTCUSDT leverage 3", "... ISOLATED"
    hedge_mode: bool = False  # OKX's account config / Bybit's position mode: long/short (hedge), not net
    classic_account: bool = False  # Bybit: a classic (non-unified) account (/v5/user/query-api uta 0)

    def pay_funding(self, symbol_id: str, amount: Decimal, time_ms: int) -> None:
        """Record a funding payment of ``amount`` USDT (negative: paid by the account)."""
        self.funding_paid.append({"symbol": symbol_id, "incomeType": "FUNDING_FEE", "income": _s(amount),
                                  "asset": "USDT", "info": "", "time": time_ms,
                                  "tranId": 9000 + len(self.funding_paid), "tradeId": ""})


BOOK = web.AppKey("futures_book", FuturesBook)


async def exchange_info(request: web.Request) -> web.StreamResponse:
    """GET /fapi/v1/exchangeInfo: a USDT-margined PERPETUAL for every spot market of the venue."""
    venue = request.app[VENUE]
    symbols = [{
        "symbol": m.symbol_id, "pair": m.symbol_id, "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000, "onboardDate": 1569398400000, "status": "TRADING",
        "baseAsset": m.base, "quoteAsset": m.quote,
        "marginAsset": m.quote, "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8,
        "quotePrecision": 8, "underlyingType": "COIN", "settlePlan": 0, "triggerProtect": "0.0500",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": _s(m.tick_size), "maxPrice": "4529764",
             "tickSize": _s(m.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "120", "stepSize": "0.001"},
            {"filterType": "MIN_NOTIONAL", "notional": "100"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    } for m in venue.markets.values()]
    return web.json_response({"timezone": "UTC", "serverTime": venue.now_ms, "rateLimits": [],
                              "exchangeFilters": [], "assets": [], "symbols": symbols})


async def premium_index(request: web.Request) -> web.StreamResponse:
    """GET /fapi/v1/premiumIndex?symbol=: the mark price (the last price here) and the last funding rate."""
    venue, book = request.app[VENUE], request.app[BOOK]
    m = venue.market(request.query.get("symbol", ""))
    rates = book.funding_rates.get(m.symbol_id) or [(venue.now_ms, D(0))]
    return web.json_response({
        "symbol": m.symbol_id, "markPrice": _s(m.price), "indexPrice": _s(m.price),
        "estimatedSettlePrice": _s(m.price), "lastFundingRate": _s(rates[-1][1]), "interestRate": "0.0001",
        "nextFundingTime": rates[-1][0] + 8 * 3_600_000, "time": venue.now_ms,
    })


async def funding_rate(request: web.Request) -> web.StreamResponse:
    """GET /fapi/v1/fundingRate?symbol=&startTime=&limit= (oldest first, default 100, max 1000)."""
    q = request.query
    venue, book = request.app[VENUE], request.app[BOOK]
    m = venue.market(q.get("symbol", ""))
    start = int(q.get("startTime", "0"))
    limit = min(int(q.get("limit", "100")), 1000)
    rows = [r for r in book.funding_rates.get(m.symbol_id, []) if r[0] >= start][:limit]
    return web.json_response([{"symbol": m.symbol_id, "fundingTime": t, "fundingRate": _s(rate),
                               "markPrice": _s(m.price)} for t, rate in rows])


async def _leverage_bracket(request: web.Request, params: dict[str, str]) -> Any:
    venue = request.app[VENUE]
    ids = [params["symbol"]] if "symbol" in params else list(venue.markets)
    return [{"symbol": sid, "brackets": [
        {"bracket": i + 1, "initialLeverage": lev, "notionalCap": cap, "notionalFloor": floor,
         "maintMarginRatio": float(rate), "cum": float(cum)}
        for i, (floor, cap, lev, rate, cum) in enumerate(BRACKETS)]} for sid in ids]


async def _set_leverage(request: web.Request, params: dict[str, str]) -> Any:
    venue, book = request.app[VENUE], request.app[BOOK]
    sid = venue.market(params.get("symbol", "")).symbol_id
    leverage = int(params.get("leverage", "0"))
    if not 1 <= leverage <= BRACKETS[0][2]:
        raise VenueReject(-4028, f"Leverage {leverage} is not valid")
    book.leverage[sid] = leverage
    book.setting_changes.append(f"{sid} leverage {leverage}")
    return {"leverage": leverage, "maxNotionalValue": "50000", "symbol": sid}


async def _set_margin_type(request: web.Request, params: dict[str, str]) -> Any:
    venue, book = request.app[VENUE], request.app[BOOK]
    sid = venue.market(params.get("symbol", "")).symbol_id
    wanted = params.get("marginType", "").upper()
    if wanted not in ("ISOLATED", "CROSSED"):
        raise VenueReject(-1130, "Data sent for parameter 'marginType' is not valid.")
    if book.margin_type.get(sid, "CROSSED") == wanted:
        raise VenueReject(-4046, "No need to change margin type.")
    book.margin_type[sid] = wanted
    book.setting_changes.append(f"{sid} {wanted}")
    return {"code": 200, "msg": "success"}


async def _income(request: web.Request, params: dict[str, str]) -> Any:
    book = request.app[BOOK]
    start = int(params.get("startTime", "0"))
    rows = [r for r in book.funding_paid if r["time"] >= start
            and params.get("symbol", r["symbol"]) == r["symbol"]
            and params.get("incomeType", r["incomeType"]) == r["incomeType"]]
    return rows[: int(params.get("limit", "100"))]


def add_fapi_routes(app: web.Application, book: FuturesBook) -> None:
    """Serve the futures settings dialect from ``app`` (which already serves the spot dialect)."""
    app[BOOK] = book
    app.router.add_get("/fapi/v1/exchangeInfo", exchange_info)
    app.router.add_get("/fapi/v1/premiumIndex", premium_index)
    app.router.add_get("/fapi/v1/fundingRate", funding_rate)
    app.router.add_get("/fapi/v1/leverageBracket", _signed(_leverage_bracket))
    app.router.add_post("/fapi/v1/leverage", _signed(_set_leverage))
    app.router.add_post("/fapi/v1/marginType", _signed(_set_margin_type))
    app.router.add_get("/fapi/v1/income", _signed(_income))
