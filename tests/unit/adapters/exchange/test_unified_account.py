"""The free margin of a Bybit unified account (``available_margin``) and the one client-id lookup both
Bybit spot and swaps use (``client_id_lookup``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trader.adapters.exchange.capabilities import VENUE_FACTS, client_id_lookup
from trader.adapters.exchange.unified_account import available_margin

D = Decimal
money = st.decimals(min_value=0, max_value=100_000, places=4)
pnl = st.decimals(min_value=-5_000, max_value=5_000, places=4)


def _wallet(wallet: Decimal, im: Decimal, upl: Decimal, account_wide: Decimal | None) -> dict[str, object]:
    coin = {"coin": "USDT", "walletBalance": f"{wallet:f}", "locked": "0", "totalPositionIM": f"{im:f}",
            "totalOrderIM": "0", "unrealisedPnl": f"{upl:f}", "availableToWithdraw": ""}
    row = {"accountType": "UNIFIED", "coin": [coin],
           "totalAvailableBalance": "" if account_wide is None else f"{account_wide:f}"}
    return {"result": {"list": [row]}}


@given(wallet=money, im=money, upl=pnl, ccxt_free=money, account_wide=st.none() | money)
def test_the_free_margin_is_the_least_the_venue_says_and_never_counts_a_profit(
        wallet: Decimal, im: Decimal, upl: Decimal, ccxt_free: Decimal, account_wide: Decimal | None) -> None:
    free = available_margin(_wallet(wallet, im, upl, account_wide), "USDT", ccxt_free)
    own = wallet - im + min(upl, D(0))
    assert D(0) <= free <= ccxt_free and free <= max(own, D(0))
    assert account_wide is None or free <= account_wide
    assert free == max(min(ccxt_free, own, *([] if account_wide is None else [account_wide])), D(0))


def test_another_coin_or_an_empty_answer_leaves_ccxts_free() -> None:
    assert available_margin({}, "USDT", D(7)) == D(7)
    assert available_margin(_wallet(D(1), D(0), D(0), None), "USDC", D(7)) == D(7)


@pytest.mark.parametrize(("venue", "order_id"), [("bybit", ""), ("bybit:swap", ""), ("binance", None),
                                                  ("okx:swap", None)])
def test_bybit_spot_and_swaps_look_up_by_order_link_id_with_an_empty_order_id(
        venue: str, order_id: str | None) -> None:
    sent, params = client_id_lookup(VENUE_FACTS[venue], "cid-1", {"trigger": True})
    assert sent == order_id and params["trigger"] is True
    key = "orderLinkId" if venue.startswith("bybit") else "clientOrderId"
    assert params[key] == "cid-1"
