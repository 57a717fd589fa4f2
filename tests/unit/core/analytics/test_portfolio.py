"""Basket valuation and rebalancing on a small basket, every figure computed by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from trader.core.analytics.portfolio import AssetPrice, MarketRules, rebalance, value_basket
from trader.core.domain.basket import parse_basket
from trader.core.domain.money import D
from trader.ports.portfolio import Holding, HoldingKind

T = datetime(2026, 3, 1, tzinfo=UTC)
BASKET = parse_basket("""
[basket]
name = "three"
quote = "USD"
[[categories]]
id = "l1"
title = "Layer 1"
[[categories]]
id = "meme"
title = "Memes"
[[assets]]
symbol = "BTC"
category = "l1"
amount = 50
[[assets]]
symbol = "ETH"
category = "l1"
amount = 30
[[assets]]
symbol = "DOGE"
category = "meme"
amount = 20
""", "three.toml")


def held(asset: str, quantity: str, cost: str) -> Holding:
    return Holding("three", asset, D(quantity), D(cost), "USD", HoldingKind.VIRTUAL, T, "virtual:2026-03-01")


HOLDINGS = [held("BTC", "0.001", "50"), held("ETH", "0.01", "30"), held("DOGE", "200", "20")]
PRICES = {"BTC": AssetPrice(D(60000), "exchange:binance", T, False),
          "ETH": AssetPrice(D(2700), "exchange:binance", T, False),
          "DOGE": AssetPrice(D("0.15"), "coingecko", T, True)}


def test_values_per_asset_category_and_basket() -> None:
    v = value_basket(BASKET, HOLDINGS, PRICES, T)
    # 0.001 x 60,000 = 60; 0.01 x 2,700 = 27; 200 x 0.15 = 30: 117 for a cost of 100
    assert (v.value, v.cost, v.pnl, v.pnl_fraction) == (D(117), D(100), D(17), D("0.17"))
    btc, eth, doge = v.assets
    assert (btc.value, btc.pnl, btc.pnl_fraction, btc.weight, btc.target) == (
        D(60), D(10), D("0.2"), D(60) / D(117), D("0.5"))
    assert btc.drift == D(60) / D(117) - D("0.5")
    assert (eth.value, eth.pnl, eth.pnl_fraction) == (D(27), D(-3), D("-0.1"))
    assert (doge.value, doge.pnl_fraction, doge.stale, btc.stale) == (D(30), D("0.5"), True, False)
    l1, meme = v.categories
    assert (l1.cost, l1.value, l1.pnl, l1.pnl_fraction, l1.target, l1.stale) == (
        D(80), D(87), D(7), D("0.0875"), D("0.8"), 0)
    assert l1.drift == D(87) / D(117) - D("0.8")
    assert (meme.value, meme.pnl, meme.stale) == (D(30), D(10), 1)
    assert [a.symbol for a in v.best] == ["DOGE", "BTC", "ETH"]
    assert [a.symbol for a in v.worst] == ["ETH", "BTC", "DOGE"]
    assert v.stale == ("DOGE",) and v.unpriced == ()


def test_an_asset_without_a_price_is_left_out_of_the_totals_never_valued_at_zero() -> None:
    v = value_basket(BASKET, HOLDINGS, {k: p for k, p in PRICES.items() if k != "ETH"}, T)
    assert (v.value, v.cost, v.pnl) == (D(90), D(70), D(20))
    assert v.unpriced == ("ETH",)
    eth = v.assets[1]
    assert (eth.value, eth.pnl, eth.weight, eth.drift) == (None, None, None, None)


def test_what_was_sold_counts_in_the_pnl_and_a_sold_out_asset_holds_nothing() -> None:
    # ETH was stopped out entirely for 24 (cost 30); half the BTC was sold for 35
    sold = [held("BTC", "0.0005", "50"), held("ETH", "0", "30"), held("DOGE", "200", "20")]
    sold[0] = replace(sold[0], proceeds=D(35))
    sold[1] = replace(sold[1], proceeds=D(24))
    no_eth_price = {k: p for k, p in PRICES.items() if k != "ETH"}  # sold out: no price needed
    v = value_basket(BASKET, sold, no_eth_price, T)
    btc, eth, _ = v.assets
    assert (btc.value, btc.proceeds, btc.pnl, btc.pnl_fraction) == (D(30), D(35), D(15), D("0.3"))
    assert (eth.quantity, eth.value, eth.proceeds, eth.pnl, eth.weight) == (D(0), D(0), D(24), D(-6), D(0))
    # value 30 + 0 + 30 held, 59 brought back, 100 spent
    assert (v.value, v.proceeds, v.pnl, v.pnl_fraction, v.unpriced) == (D(60), D(59), D(19), D("0.19"), ())
    l1 = v.categories[0]
    assert (l1.value, l1.pnl, l1.pnl_fraction) == (D(30), D(9), D("0.1125"))


def test_rebalancing_rounds_to_the_step_and_drops_what_is_below_the_minimum() -> None:
    v = value_basket(BASKET, HOLDINGS, PRICES, T)
    rules = {"BTC": MarketRules(D("0.00001"), D(0), D(5), D("0.001")),
             "ETH": MarketRules(D("0.0001"), D(0), D(5), D("0.001"))}
    plan = rebalance(v, rules, MarketRules(D(0), D(0), D(5), D("0.002"), listed=False))
    lines = {line.symbol: line for line in plan.lines}
    # ETH: target 0.3 x 117 = 35.1, holds 27: buy 8.1 / 2,700 = 0.003 ETH, fee 0.1 % = 0.0081
    assert (lines["ETH"].side, lines["ETH"].quantity, lines["ETH"].value, lines["ETH"].fee) == (
        "buy", D("0.0030"), D("8.1"), D("0.0081"))
    # BTC: target 58.5, holds 60: sell 1.5 / 60,000 = 0.000025, rounded down to 0.00002 = 1.2 < 5
    assert (lines["BTC"].quantity, lines["BTC"].skipped) == (D(0), "below the minimum order")
    # DOGE's price is stale: no order sized from it
    assert lines["DOGE"].skipped == "stale price"
    assert (plan.buys, plan.sells, plan.fees) == (D("8.1"), D(0), D("0.0081"))
    assert plan.lines[0].symbol == "ETH"
