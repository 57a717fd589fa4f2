"""CoinGecko over its REST API v3: current prices in batches and daily historical prices.

Written on aiohttp rather than a client library: the maintained ones are synchronous (pycoingecko) or
do not handle 429s, and the three calls needed here are small. Calls share a token bucket sized from
the plan's published per-minute limit; a 429 waits out its ``Retry-After`` (or backs off
exponentially) and retries a bounded number of times; every call has a timeout. Tickers map to
CoinGecko ids through the configured overrides, a built-in table for the tickers several coins share,
then ``/coins/list`` when the ticker is unique there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

import aiohttp

from trader.config import PricesConfig
from trader.core.errors import DataError

logger = logging.getLogger(__name__)

SOURCE: Final = "coingecko"
PUBLIC_URL: Final = "https://api.coingecko.com/api/v3"
PRO_URL: Final = "https://pro-api.coingecko.com/api/v3"
BATCH: Final = 100  # ids per /simple/price call: keeps the URL well under common 8 KiB limits

# Tickers shared by several CoinGecko coins (or whose id is not the ticker): the coin traders mean.
KNOWN_IDS: Final[Mapping[str, str]] = {
    "BTC": "bitcoin", "ETH": "ethereum", "USDT": "tether", "USDC": "usd-coin", "BNB": "binancecoin",
    "SOL": "solana", "XRP": "ripple", "ADA": "cardano", "DOGE": "dogecoin", "TRX": "tron",
    "DOT": "polkadot", "POL": "polygon-ecosystem-token", "MATIC": "matic-network", "LTC": "litecoin",
    "AVAX": "avalanche-2", "LINK": "chainlink", "ATOM": "cosmos", "UNI": "uniswap", "XLM": "stellar",
    "BCH": "bitcoin-cash", "ETC": "ethereum-classic", "NEAR": "near", "APT": "aptos", "ARB": "arbitrum",
    "OP": "optimism", "FIL": "filecoin", "ICP": "internet-computer", "SHIB": "shiba-inu",
    "TON": "the-open-network", "DAI": "dai", "XMR": "monero", "HBAR": "hedera-hashgraph",
    "SUI": "sui", "PEPE": "pepe", "AAVE": "aave", "INJ": "injective-protocol", "RNDR": "render-token",
}

Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """At most ``rate_per_minute`` acquisitions a minute, with bursts up to ``burst``."""

    def __init__(self, rate_per_minute: float, burst: float = 1.0,
                 now: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = burst
        self._tokens = burst
        self._now = now
        self._sleep = sleep
        self._at = now()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until a call may be made."""
        async with self._lock:
            while True:
                now = self._now()
                self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._sleep((1 - self._tokens) / self._rate)


class CoinGeckoPrices:
    """``PriceSource`` over CoinGecko; one aiohttp session, opened on first use."""

    name = SOURCE

    def __init__(self, config: PricesConfig, *, sleep: Sleep = asyncio.sleep,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._sleep = sleep
        self._bucket = TokenBucket(config.calls_per_minute, now=now, sleep=sleep)
        self._session: aiohttp.ClientSession | None = None
        self._symbols: dict[str, list[str]] | None = None
        self._overrides = {k.upper(): v for k, v in {**KNOWN_IDS, **config.ids}.items()}

    @property
    def base_url(self) -> str:
        """Return the API root for the configured plan (or the configured override)."""
        if self._config.coingecko_base_url:
            return self._config.coingecko_base_url.rstrip("/")
        return PRO_URL if self._config.coingecko_plan == "pro" else PUBLIC_URL

    def _headers(self) -> dict[str, str]:
        key = self._config.coingecko_api_key
        if key is None or self._config.coingecko_plan == "public":
            return {"accept": "application/json"}
        header = "x-cg-pro-api-key" if self._config.coingecko_plan == "pro" else "x-cg-demo-api-key"
        return {"accept": "application/json", header: key.get_secret_value()}

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ── calls ──────────────────────────────────────────────────────────────────────────────────
    async def prices(self, assets: Iterable[str], vs: str,
                     ids: Mapping[str, str] | None = None) -> dict[str, Decimal]:
        """Return current prices in ``vs`` for the tickers CoinGecko knows, batched by id."""
        by_id: dict[str, str] = {}
        given = {k.upper(): v for k, v in (ids or {}).items()}
        for asset in assets:
            coin = given.get(asset.upper()) or await self._id_or_none(asset)
            if coin is not None:
                by_id[coin] = asset.upper()
        found: dict[str, Decimal] = {}
        listed = sorted(by_id)
        for start in range(0, len(listed), BATCH):
            chunk = listed[start:start + BATCH]
            body = await self._get("/simple/price", {"ids": ",".join(chunk), "vs_currencies": vs.lower()})
            for coin, quotes in (body or {}).items():  # unknown ids are simply absent from the answer
                value = quotes.get(vs.lower()) if isinstance(quotes, dict) else None
                if coin in by_id and value is not None:
                    found[by_id[coin]] = Decimal(str(value))
        return found

    async def daily_prices(self, asset: str, vs: str, start: date, end: date,
                           coin_id: str | None = None) -> dict[date, Decimal]:
        """Return the first quote of each UTC day in ``start..end`` from /market_chart/range.

        CoinGecko answers ranges over 90 days with one point a day at 00:00 UTC and shorter ranges
        hourly, so the range asked for always spans at least 91 days and the first point of each day
        is kept: the same daily value whatever range was asked.
        """
        coin = coin_id or await self._id(asset)
        ask_from = min(start, end - timedelta(days=91))
        body = await self._get(f"/coins/{coin}/market_chart/range", {
            "vs_currency": vs.lower(), "from": str(_epoch(ask_from)),
            "to": str(_epoch(end + timedelta(days=1)) - 1)})
        daily: dict[date, Decimal] = {}
        for point in (body or {}).get("prices", []):
            day = datetime.fromtimestamp(point[0] / 1000, tz=UTC).date()
            if start <= day <= end and day not in daily and point[1] is not None:
                daily[day] = Decimal(str(point[1]))
        return daily

    # ── ids ────────────────────────────────────────────────────────────────────────────────────
    async def _id(self, asset: str) -> str:
        ticker = asset.upper()
        if ticker in self._overrides:
            return self._overrides[ticker]
        candidates = (await self._listing()).get(ticker.lower(), [])
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise DataError(f"CoinGecko lists no coin with the ticker {ticker}",
                            user_message=f"CoinGecko does not know {ticker}.")
        shown = ", ".join(sorted(candidates)[:5])
        raise DataError(f"ticker {ticker} is ambiguous on CoinGecko ({shown})",
                        user_message=f"{ticker} names several CoinGecko coins ({shown}); set "
                                     f"TRADER_PRICES__IDS='{{\"{ticker}\": \"<id>\"}}' to pick one.")

    async def _id_or_none(self, asset: str) -> str | None:
        try:
            return await self._id(asset)
        except DataError as exc:
            logger.warning("no CoinGecko price for %s: %s", asset, exc)
            return None

    async def _listing(self) -> dict[str, list[str]]:
        if self._symbols is None:
            symbols: dict[str, list[str]] = {}
            for coin in await self._get("/coins/list", {}) or []:
                symbols.setdefault(str(coin.get("symbol", "")).lower(), []).append(str(coin["id"]))
            self._symbols = symbols
        return self._symbols

    # ── HTTP ───────────────────────────────────────────────────────────────────────────────────
    async def _get(self, path: str, params: dict[str, str]) -> Any:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self._config.timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout, headers=self._headers())
        for attempt in range(self._config.max_retries + 1):
            await self._bucket.acquire()
            try:
                async with self._session.get(self.base_url + path, params=params) as resp:
                    if resp.status == 429 or resp.status >= 500:
                        wait = _retry_after(resp.headers.get("Retry-After"), attempt)
                        logger.warning("CoinGecko %s answered %d; retrying in %.1fs", path, resp.status, wait)
                        if attempt < self._config.max_retries:
                            await self._sleep(wait)
                            continue
                        raise _unavailable(path, f"HTTP {resp.status} after {attempt + 1} tries")
                    if resp.status == 404:
                        raise DataError(f"CoinGecko {path}: not found",
                                        user_message="CoinGecko does not know that coin.")
                    if resp.status != 200:
                        raise _unavailable(path, f"HTTP {resp.status}")
                    return await resp.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt >= self._config.max_retries:
                    raise _unavailable(path, type(exc).__name__) from None
                await self._sleep(_retry_after(None, attempt))
        raise _unavailable(path, "no answer")  # the loop returns or raises before this


def _unavailable(path: str, why: str) -> DataError:
    return DataError(f"CoinGecko {path}: {why}",
                     user_message=f"CoinGecko is not answering ({why}); try again later.")


def _retry_after(header: str | None, attempt: int) -> float:
    """Return the server's Retry-After seconds, else 2, 4, 8 ... capped at 60."""
    if header is not None:
        try:
            return min(max(float(header), 0.0), 300.0)
        except ValueError:
            pass
    return float(min(2 ** (attempt + 1), 60))


def _epoch(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())
