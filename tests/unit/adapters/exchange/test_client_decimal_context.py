"""ccxt's rounding runs in a decimal context of its own: the engine's context is never changed by it."""

from __future__ import annotations

import decimal

import pytest
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, ROUND, TICK_SIZE, TRUNCATE

from trader.adapters.exchange.client import make_client
from trader.config.sections import ExchangeConfig


@pytest.mark.parametrize("venue", ["binance", "okx", "kraken", "bybit", "wallex"])
async def test_rounding_an_amount_leaves_the_callers_context_and_rounds_as_ccxt_does(venue: str) -> None:
    client = make_client(ExchangeConfig(name=venue, api_base_url="http://127.0.0.1:1"))
    try:
        before = decimal.getcontext().copy()
        assert client.decimal_to_precision("1.25", ROUND, 1, DECIMAL_PLACES) == "1.3"  # ccxt: half up
        assert client.decimal_to_precision("0.123456", TRUNCATE, "0.001", TICK_SIZE) == "0.123"
        after = decimal.getcontext()
        assert after.rounding == before.rounding == decimal.ROUND_HALF_EVEN
        assert after.traps[decimal.Underflow] == before.traps[decimal.Underflow]
        # a tie our own arithmetic meets: rounded half to even, as in a backtest (half up would give 0.13)
        assert decimal.Decimal("0.125").quantize(decimal.Decimal("0.01")) == decimal.Decimal("0.12")
    finally:
        await client.close()
