"""Build a ccxt async client from ExchangeConfig: keys, timeout, spot-only options, demo, base URL.

``api_base_url`` replaces the scheme and host of every ``urls['api']`` entry and keeps each path, so the
same code talks to the real venue, a proxy, or the local fake server in tests. With ``demo`` the
client is put in ccxt's sandbox mode first, so a base URL then keeps the sandbox paths.
"""

from __future__ import annotations

import decimal
import functools
import importlib
from typing import Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async

from trader.config.sections import ExchangeConfig
from trader.core.errors import ConfigError

# Spot only: skip futures/margin/currency endpoints that spot trading never needs.
_VENUE_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False,
                "defaultType": "spot"},
    "okx": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "defaultType": "spot"},
    "bybit": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "defaultType": "spot"},
    "kraken": {"fetchCurrencies": False},
}


# Venues whose linear (USDT-margined) perpetuals we trade through ccxt's unified swap API, and the
# options that load only those markets and make symbol-less calls (balance) use the futures wallet.
SWAP_VENUES = frozenset({"binance", "okx", "bybit"})
# Of those, the venues whose perpetuals are traded live: the ones whose conditional-order book and trade
# history the adapter handles and a fake venue dialect tests (docs/futures.md). The others: paper, replay.
LIVE_SWAP_VENUES = frozenset({"binance", "okx", "bybit"})
# Venues whose (unified) account holds one margin mode for all its perpetuals (Bybit UTA: set-margin-mode).
ACCOUNT_MARGIN_MODE_VENUES = frozenset({"bybit"})
_SWAP_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {"fetchMarkets": {"types": ["linear"]}, "defaultType": "swap", "defaultSubType": "linear"},
    "okx": {"fetchMarkets": {"types": ["swap"]}, "defaultType": "swap"},
    "bybit": {"fetchMarkets": {"types": ["linear"]}, "defaultType": "swap", "defaultSubType": "linear"},
}


# Our own ccxt-compatible classes for venues ccxt does not ship (module, class).
OUR_VENUES: dict[str, tuple[str, str]] = {
    "nobitex": ("trader.adapters.exchange.nobitex", "Nobitex"),
    "wallex": ("trader.adapters.exchange.wallex", "Wallex"),
}


def venue_class(name: str) -> Any:
    """Return the ccxt async class for ``name``, including our Nobitex and Wallex classes."""
    if name in OUR_VENUES:
        module, attr = OUR_VENUES[name]
        return getattr(importlib.import_module(module), attr)
    cls = getattr(ccxt_async, name, None)
    if cls is None or name not in ccxt_async.exchanges:
        raise ConfigError([f"exchange.name: unknown exchange {name!r} (ccxt id such as binance, okx)"])
    return cls


@functools.cache
def has_sandbox(name: str) -> bool:
    """Return True when ccxt knows a demo/testnet environment for the venue (``urls['test']``)."""
    # Building the client opens no connection (ccxt creates its HTTP session on the first request).
    return bool(venue_class(name)({}).urls.get("test"))


def demo_refusal(name: str) -> str:
    """Return the one-line error for ``exchange.demo`` on a venue without a sandbox."""
    return (f"exchange.demo: {name} has no demo/testnet environment that ccxt can reach; use paper "
            "mode (simulated on real prices) to rehearse there")


def _in_own_context(rounder: Any) -> Any:
    """Return ``rounder`` run in a decimal context of its own.

    Why: ccxt's ``decimal_to_precision`` (behind every amount/price/fee rounding, also inside
    ``create_order``) sets the *current* context's rounding to ROUND_HALF_UP and traps Underflow, and
    that context object is shared by every task of the event loop: after the first order, every
    Decimal division and multiplication of the engine, the risk rules and the reports would round
    differently from a backtest. ccxt rounds the same way in a copy of the context.
    """
    @functools.wraps(rounder)
    def contained(*args: Any, **kwargs: Any) -> Any:
        with decimal.localcontext():
            return rounder(*args, **kwargs)
    return contained


def rewrite_api_urls(urls: Any, base_url: str) -> Any:
    """Return ``urls`` (str or nested dict) with every http(s) URL's scheme and host set to ``base_url``."""
    if isinstance(urls, dict):
        return {key: rewrite_api_urls(value, base_url) for key, value in urls.items()}
    if isinstance(urls, str) and urls.startswith("http"):
        return base_url.rstrip("/") + urlsplit(urls).path
    return urls


def make_client(config: ExchangeConfig, *, rate_limit: bool = True, public_only: bool = False,
                swap: bool = False) -> Any:
    """Return a configured ccxt async client; ``public_only`` leaves the keys out (paper market data).

    ``swap``: the client loads the venue's linear perpetuals and defaults to the futures wallet.
    """
    if swap and config.name not in SWAP_VENUES:
        raise ConfigError([f"exchange.name: {config.name} perpetuals are not supported "
                           f"(use {', '.join(sorted(SWAP_VENUES))})"])
    options = dict(_VENUE_OPTIONS.get(config.name, {}))
    if swap:
        options.update(_SWAP_OPTIONS[config.name])
    settings: dict[str, Any] = {
        "enableRateLimit": rate_limit,
        "timeout": int(config.timeout_seconds * 1000),
        "options": options,
    }
    if not public_only:
        for field, key in (("apiKey", config.api_key), ("secret", config.api_secret),
                           ("password", config.api_password)):
            if key is not None:
                settings[field] = key.get_secret_value()
    client = venue_class(config.name)(settings)
    client.decimal_to_precision = _in_own_context(client.decimal_to_precision)
    if config.demo:
        if not has_sandbox(config.name):
            raise ConfigError([demo_refusal(config.name)])
        # ccxt swaps urls['api'] for the venue's test URLs (and OKX adds its simulated-trading header)
        client.set_sandbox_mode(True)
    # Spot trading never needs the currency list, and some venues (OKX) fetch it signed on every load.
    client.has = {**client.has, "fetchCurrencies": False}
    if config.api_base_url:
        client.urls["api"] = rewrite_api_urls(client.urls["api"], config.api_base_url)
    return client
