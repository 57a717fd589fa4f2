"""Cross margin in the risk check: the liquidation price counts what stays free in the account after the
entry's margin and fee, so an entry whose stop is too near the isolated liquidation price can pass on
cross with a large enough free balance, and not with a small one (the same one function decides)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.unit.core.risk.make import NOW, account, config, market, request
from trader.core.domain.entries import Approved, RefusalReason, Refused
from trader.core.domain.enums import Direction
from trader.core.domain.futures import FuturesTerms, liquidation_price
from trader.core.risk.check import check
from trader.core.risk.state import RiskState

D = Decimal
# a 20x long at 60000 with its stop 5.5 % below: the isolated liquidation price (about 57,200) comes first
ENTRY = replace(request(entry="60000", stop="56700", direction=Direction.LONG), amount=D("0.1"))


def _check(margin_mode: str, free: str, equity: str = "100000") -> Approved | Refused:
    terms = FuturesTerms(leverage=D(20), margin_mode="cross" if margin_mode == "cross" else "isolated")
    cfg = config(liquidation_buffer=D("0.01"))
    result = check(ENTRY, account(equity=equity, free=free), RiskState(), [], market(futures=terms), cfg,
                   now=NOW)
    assert isinstance(result, Approved | Refused)
    return result


def test_isolated_refuses_the_stop_behind_its_liquidation_price() -> None:
    refused = _check("isolated", "100000")
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.LIQUIDATION_TOO_CLOSE


def test_cross_counts_the_free_balance_left_after_the_entry() -> None:
    approved = _check("cross", "100000")
    assert isinstance(approved, Approved)
    margin = D("0.1") * D(60000) / 20
    fee = D("0.1") * D(60000) * market().taker_fee
    terms = FuturesTerms(leverage=D(20), margin_mode="cross")
    assert approved.liquidation_price == liquidation_price(
        Direction.LONG, D(60000), D("0.1"), terms, free=D(100000) - margin - fee)
    small = _check("cross", "400")  # the rest of the equity is held elsewhere, hardly anything free
    assert isinstance(small, Refused) and small.reason is RefusalReason.LIQUIDATION_TOO_CLOSE
