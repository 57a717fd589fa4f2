"""Requests are brought to market precision (never widening risk) and refused below minimums."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contract.exchange.intents import intent, limit, market_buy, stop_sell
from tests.contract.exchange.venues import fake_like_btc_market
from trader.adapters.exchange.rounding import check_supported, rounded_request
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.domain.market import Capabilities
from trader.core.errors import InvalidOrder

SPEC = fake_like_btc_market()


def test_sell_stop_rounds_up_and_buy_stop_rounds_down() -> None:
    sell = rounded_request(stop_sell("x", "0.01", "48000.004"), SPEC, None)
    assert sell.trigger_price == Decimal("48000.01")
    buy = intent("x", OrderPurpose.STOP, Side.BUY, OrderType.STOP, "0.01", trigger="52000.009")
    assert rounded_request(buy, SPEC, None).trigger_price == Decimal("52000.00")


def test_market_order_is_valued_at_the_last_price() -> None:
    with pytest.raises(InvalidOrder, match="below the minimum"):
        rounded_request(market_buy("x", "0.00009"), SPEC, Decimal(50000))  # 4.5 USDT
    assert rounded_request(market_buy("x", "0.00009"), SPEC, None).amount == Decimal("0.00009")


@given(amount=st.decimals(min_value=Decimal("0.0002"), max_value=Decimal(100), places=12))
def test_rounded_amount_never_exceeds_request_and_is_on_the_step(amount: Decimal) -> None:
    request = replace(limit("x", Side.BUY, "1", "50000"), amount=amount)
    rounded = rounded_request(request, SPEC, None).amount
    assert rounded <= amount
    assert amount - rounded < SPEC.amount_step
    assert rounded % SPEC.amount_step == 0


def test_unsupported_order_types_are_refused_before_sending() -> None:
    watched = replace(SPEC, capabilities=Capabilities(native_stop=False, stop_limit=False))
    with pytest.raises(InvalidOrder, match="watch the price"):
        check_supported(stop_sell("x", "0.01", "48000"), watched)
    oco = intent("x", OrderPurpose.STOP, Side.SELL, OrderType.OCO, "0.01", price="52000", trigger="48000")
    with pytest.raises(InvalidOrder, match="OCO"):
        check_supported(oco, SPEC)
    check_supported(stop_sell("x", "0.01", "48000"), SPEC)
