"""api_base_url rewrites every ccxt API URL's host and keeps its path; keys stay out of public clients."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from trader.adapters.exchange.client import make_client, rewrite_api_urls
from trader.config.sections import ExchangeConfig
from trader.core.errors import ConfigError


def test_rewrite_keeps_paths_and_handles_nesting_and_templates() -> None:
    urls = {"public": "https://api.binance.com/api/v3", "rest": "https://{hostname}",
            "nested": {"spot": "https://api.{hostname}/v5"}, "name": "not a url"}
    assert rewrite_api_urls(urls, "http://127.0.0.1:9/") == {
        "public": "http://127.0.0.1:9/api/v3", "rest": "http://127.0.0.1:9",
        "nested": {"spot": "http://127.0.0.1:9/v5"}, "name": "not a url"}


@pytest.mark.parametrize("venue", ["binance", "okx", "kraken", "bybit"])
async def test_every_api_url_points_at_the_base(venue: str) -> None:
    client = make_client(ExchangeConfig(name=venue, api_base_url="http://127.0.0.1:1"))
    try:
        flat: list[str] = []

        def walk(value: object) -> None:
            if isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, str) and value.startswith("http"):
                flat.append(value)

        walk(client.urls["api"])
        assert flat and all(u.startswith("http://127.0.0.1:1") for u in flat)
    finally:
        await client.close()


async def test_public_only_client_carries_no_keys() -> None:
    config = ExchangeConfig(api_key=SecretStr("k"), api_secret=SecretStr("s"))
    client = make_client(config, public_only=True)
    keyed = make_client(config)
    try:
        assert not client.apiKey and keyed.apiKey == "k"
        assert keyed.timeout == int(config.timeout_seconds * 1000)
    finally:
        await client.close()
        await keyed.close()


def test_unknown_exchange_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nosuchvenue"):
        make_client(ExchangeConfig(name="nosuchvenue"))
