"""Perpetual swaps at the adapter boundary, with real ccxt classes and no network: the client loads the
linear perpetuals, contract markets carry futures terms and the venue's margin tiers, closing orders on
a perpetual are reduce-only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tests.contract.exchange.intents import intent
from trader.adapters.exchange.capabilities import (
    VenueFacts,
    futures_terms_from,
    market_spec_from,
    tiers_from_ccxt,
)
from trader.adapters.exchange.ccxt_orders import create_args
from trader.adapters.exchange.client import make_client
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import Direction, OrderPurpose, OrderType, Side
from trader.core.domain.futures import liquidation_price
from trader.core.errors import ConfigError

D = Decimal
PERP: dict[str, Any] = {
    "symbol": "BTC/USDT:USDT", "base": "BTC", "quote": "USDT", "settle": "USDT", "spot": False, "swap": True,
    "contract": True, "linear": True, "precision": {"amount": 0.001, "price": 0.1},
    "limits": {"amount": {"min": 0.001}, "cost": {"min": 100}, "leverage": {"max": 125}},
    "maker": 0.0002, "taker": 0.0005,
}
# Binance's published USDⓈ-M BTCUSDT brackets as /fapi/v1/leverageBracket returns them ("cum" included)
BRACKETS = {"symbol": "BTCUSDT", "brackets": [
    {"bracket": 1, "initialLeverage": 125, "notionalCap": 50000, "notionalFloor": 0,
     "maintMarginRatio": 0.004, "cum": 0.0},
    {"bracket": 2, "initialLeverage": 100, "notionalCap": 250000, "notionalFloor": 50000,
     "maintMarginRatio": 0.005, "cum": 50.0},
    {"bracket": 3, "initialLeverage": 50, "notionalCap": 3000000, "notionalFloor": 250000,
     "maintMarginRatio": 0.01, "cum": 1300.0},
    {"bracket": 4, "initialLeverage": 20, "notionalCap": 15000000, "notionalFloor": 3000000,
     "maintMarginRatio": 0.025, "cum": 46300.0},
]}


@pytest.mark.parametrize(("venue", "types"),
                         [("binance", ["linear"]), ("okx", ["swap"]), ("bybit", ["linear"])])
async def test_a_swap_client_loads_the_perpetuals_and_uses_the_futures_wallet(venue: str,
                                                                            types: list[str]) -> None:
    client = make_client(ExchangeConfig(name=venue), swap=True)
    try:
        assert client.options["defaultType"] == "swap" and client.options["fetchMarkets"]["types"] == types
    finally:
        await client.close()
    spot = make_client(ExchangeConfig(name=venue))
    try:
        assert spot.options["defaultType"] == "spot"
    finally:
        await spot.close()


def test_a_swap_client_on_a_venue_without_our_perpetuals_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="kraken perpetuals are not supported"):
        make_client(ExchangeConfig(name="kraken"), swap=True)


def test_a_linear_perpetual_carries_futures_terms_and_can_be_shorted() -> None:
    spec = market_spec_from(PERP, ccxt.binance().has, "binance", 4)
    assert spec.futures is not None and spec.capabilities.shorting
    assert spec.futures.leverage == 1 and spec.futures.max_leverage == 125
    spot = market_spec_from({**PERP, "symbol": "BTC/USDT", "spot": True, "swap": False, "contract": False,
                             "linear": None}, ccxt.binance().has, "binance", 4)
    assert spot.futures is None and not spot.capabilities.shorting


def test_the_venues_tiers_through_ccxt_give_binances_maintenance_amounts() -> None:
    exchange = ccxt.binance()
    tiers = exchange.parse_market_leverage_tiers(BRACKETS, {**PERP, "id": "BTCUSDT"})
    ours = tiers_from_ccxt(tiers)
    assert [t.maintenance_amount for t in ours] == [D(0), D(50), D(1300), D(46300)]  # Binance's "cum"
    assert [t.max_leverage for t in ours] == [D(125), D(100), D(50), D(20)]
    terms = futures_terms_from(PERP, tiers)
    assert terms is not None
    # 10x short of 1 BTC at 60,000 (tier 2): Binance's formula gives (60,000 + 6,000 + 50) / (1 * 1.005)
    short = liquidation_price(Direction.SHORT, D(60_000), D(1), terms.__class__(D(10), tiers=terms.tiers))
    assert short == D(66_050) / D("1.005")


@pytest.mark.parametrize(("purpose", "kind", "side", "reduce"), [
    (OrderPurpose.ENTRY, OrderType.MARKET, Side.SELL, False),
    (OrderPurpose.STOP, OrderType.STOP, Side.BUY, True),
    (OrderPurpose.TAKE_PROFIT, OrderType.TAKE_PROFIT, Side.BUY, True),
    (OrderPurpose.EXIT, OrderType.MARKET, Side.BUY, True),
])
def test_closing_orders_on_a_perpetual_are_reduce_only(purpose: OrderPurpose, kind: OrderType, side: Side,
                                                       reduce: bool) -> None:
    spec = market_spec_from(PERP, ccxt.binance().has, "binance", 4)
    trigger = "62000" if kind is not OrderType.MARKET else None
    request = intent("p", purpose, side, kind, "0.01", trigger=trigger, symbol=spec.symbol)
    args = create_args(request, spec, VenueFacts(), D(60_000))
    assert args.params.get("reduceOnly", False) is reduce
    spot = market_spec_from({**PERP, "spot": True, "swap": False, "contract": False, "linear": None},
                            ccxt.binance().has, "binance", 4)
    assert "reduceOnly" not in create_args(request, spot, VenueFacts(), D(60_000)).params
