"""Capabilities and MarketSpec from ccxt metadata (real ccxt classes, no network)."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from trader.adapters.exchange.capabilities import (
    DECIMAL_PLACES,
    TICK_SIZE,
    Bracket,
    bracket_method,
    capabilities_from,
    capability_row,
    market_spec_from,
    step_from_precision,
)
from trader.core.errors import DataError


@pytest.mark.parametrize("venue", ["binance", "okx", "kraken", "bybit"])
def test_major_venues_hold_native_stops(venue: str) -> None:
    caps = capabilities_from(getattr(ccxt, venue)().has, venue)
    assert caps.native_stop is True


def test_binance_and_okx_hold_an_oco_and_say_through_which_api() -> None:
    assert capabilities_from(ccxt.okx().has, "okx").oco is True
    assert capabilities_from(ccxt.binance().has, "binance").oco is True
    assert bracket_method("binance", ccxt.binance().has) is Bracket.ORDER_LIST
    assert bracket_method("okx", ccxt.okx().has) is Bracket.ALGO_OCO


def test_venues_without_an_oco_swap_and_without_stops_are_watched() -> None:
    assert bracket_method("bybit", ccxt.bybit().has) is Bracket.ATTACHED_TPSL
    assert bracket_method("wallex", {"createOrder": True, "createStopOrder": False}) is Bracket.WATCHED


def test_venue_without_orders_cannot_hold_stops() -> None:
    caps = capabilities_from({"createOrder": False, "createStopOrder": True}, "x")
    assert (caps.native_stop, caps.oco, caps.stop_limit) == (False, False, False)


def test_limit_and_market_only_venue_is_engine_watched() -> None:
    caps = capabilities_from({"createOrder": True, "createStopOrder": False}, "wallex")
    assert caps.native_stop is False


def test_precision_steps_for_tick_and_decimal_modes() -> None:
    assert step_from_precision(0.00001, TICK_SIZE) == Decimal("0.00001")
    assert step_from_precision("0.1", TICK_SIZE) == Decimal("0.1")
    assert step_from_precision(3, DECIMAL_PLACES) == Decimal("0.001")
    with pytest.raises(DataError):
        step_from_precision(None, TICK_SIZE)
    with pytest.raises(DataError):
        step_from_precision(4, 3)


def test_market_spec_from_ccxt_market_dict() -> None:
    market = {"symbol": "ETH/USDT", "base": "ETH", "quote": "USDT", "spot": True, "maker": 0.0008,
              "taker": 0.001, "precision": {"amount": 0.0001, "price": 0.01},
              "limits": {"amount": {"min": 0.0001, "max": 9000.0}, "cost": {"min": 5.0}}}
    spec = market_spec_from(market, ccxt.binance().has, "binance", TICK_SIZE)
    assert (spec.amount_step, spec.price_step, spec.min_cost) == (Decimal("0.0001"), Decimal("0.01"),
                                                                  Decimal("5.0"))
    assert (spec.maker_fee, spec.max_amount) == (Decimal("0.0008"), Decimal("9000.0"))


def test_capability_row_names_every_column() -> None:
    row = capability_row("binance", ccxt.binance().has)
    assert row["native stop"] == "yes" and row["OCO"] == "yes"
    assert row["bracket"] == "OCO order list" and "OTOCO" in row["lacks"]


def test_kraken_entries_carry_their_stop_as_a_conditional_close_binance_ones_do_not() -> None:
    caps = capabilities_from(ccxt.kraken().has, "kraken", {"spot": True})
    flags = (caps.attached_bracket, caps.attached_take_profit, caps.attached_limit_only)
    assert flags == (True, False, False)
    assert bracket_method("kraken", ccxt.kraken().has) is Bracket.CONDITIONAL_CLOSE
    assert not capabilities_from(ccxt.binance().has, "binance").attached_bracket
