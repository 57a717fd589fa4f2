"""The global exposure cap across venue accounts (``risk.max_total_exposure_pct``): one rule in
``limits.total_exposure_room``, used by the entry check and by safety-order adds. The account snapshot
carries the service's other accounts' equity and exposure (zero with one venue)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D  # noqa: N817

from tests.unit.core.risk.make import NOW, account, config, market, position, request
from trader.core.domain.entries import Approved, RefusalReason, Refused
from trader.core.risk import limits
from trader.core.risk.adds import check_add
from trader.core.risk.check import check
from trader.core.risk.state import RiskState


def test_other_accounts_count_towards_the_total_cap_and_it_names_itself_when_it_binds() -> None:
    cfg = config(max_total_exposure_pct=D("0.5"))
    mine = replace(account("10000"), others_equity=D(10000), others_exposure=D(9000))
    assert limits.total_exposure_room(mine, D(0), cfg) == D(1000)  # 50 % of 20,000 minus 9,000 elsewhere
    amount, name = limits.cap_amount(D(2), D(1000), mine, D(0), D(1), cfg)  # type: ignore[misc]
    assert amount == D(1) and name == "max exposure 50% of all venue accounts' equity"


def test_no_room_left_across_accounts_refuses_the_entry_with_the_reason() -> None:
    cfg = config(max_total_exposure_pct=D("0.5"))
    mine = replace(account("10000"), others_equity=D(10000), others_exposure=D(10000))
    decision = check(request(), mine, RiskState(), [], market(), cfg, now=NOW)
    assert isinstance(decision, Refused) and decision.reason is RefusalReason.MAX_EXPOSURE
    assert "exposure of all venue accounts 10000.00 at the limit 50% of their equity 20000.00" \
        in decision.detail


def test_with_one_venue_the_default_total_cap_changes_nothing() -> None:
    cfg = config(max_exposure_pct=D("0.5"))
    alone = check(request(), account("10000", exposure="4000"), RiskState(), [], market(), cfg, now=NOW)
    assert isinstance(alone, Approved) and alone.capped_by == "max exposure 50% of equity"
    assert alone.amount * alone.entry_price <= D(1000)


def test_a_safety_order_is_refused_when_the_accounts_together_would_exceed_the_total_cap() -> None:
    held = position(amount="0.01", price="60000")  # 600 USDT in this account
    cfg = config(max_total_exposure_pct=D("0.5"))
    crowded = replace(account("10000", exposure="600"), others_equity=D(10000), others_exposure=D(9300))
    refusal = check_add(held, D("0.01"), D(60000), crowded, state=RiskState(), positions=[held],
                        market=market(), cfg=cfg)
    assert refusal is not None and "exposure of all venue accounts would exceed 50%" in refusal.detail
    roomy = replace(crowded, others_exposure=D(0))
    assert check_add(held, D("0.01"), D(60000), roomy, state=RiskState(), positions=[held], market=market(),
                     cfg=cfg) is None
