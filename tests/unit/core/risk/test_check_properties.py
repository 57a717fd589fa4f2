"""Property tests for check(): never above a cap, never more risk than configured, always tradable."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.unit.core.risk.make import NOW, account, config, market
from trader.core.domain.entries import Approved, EntryRequest, Refused
from trader.core.domain.enums import Direction
from trader.core.domain.ids import Symbol
from trader.core.risk.check import check
from trader.core.risk.sizing import loss_per_unit
from trader.core.risk.state import RiskState

D = Decimal
fractions = st.decimals(min_value=D("0.01"), max_value=D(1), places=2)


@settings(max_examples=300, deadline=None)
@given(
    equity=st.decimals(min_value=D(500), max_value=D(10_000_000), places=2),
    free_share=st.decimals(min_value=D("0.05"), max_value=D(1), places=2),
    exposure_share=st.decimals(min_value=D(0), max_value=D("0.6"), places=2),
    entry=st.decimals(min_value=D(1), max_value=D(100_000), places=2),
    stop_distance=st.decimals(min_value=D("0.001"), max_value=D("0.5"), places=3),
    direction=st.sampled_from([Direction.LONG, Direction.SHORT]),
    sizing=st.sampled_from(["fixed_fraction", "confidence", "kelly", "all_in"]),
    risk=st.decimals(min_value=D("0.001"), max_value=D("0.1"), places=3),
    max_position=fractions, max_exposure=st.decimals(min_value=D("0.3"), max_value=D(1), places=2),
    confidence=st.floats(min_value=0, max_value=1),
    slippage=st.decimals(min_value=D(0), max_value=D("0.01"), places=4),
    fee=st.decimals(min_value=D(0), max_value=D("0.005"), places=4),
    step=st.sampled_from([D("0.00001"), D("0.001"), D("0.1")]),
)
def test_approved_size_respects_every_cap_and_the_risk_fraction(  # noqa: PLR0917
    equity: Decimal, free_share: Decimal, exposure_share: Decimal, entry: Decimal, stop_distance: Decimal,
    direction: Direction, sizing: str, risk: Decimal, max_position: Decimal, max_exposure: Decimal,
    confidence: float, slippage: Decimal, fee: Decimal, step: Decimal,
) -> None:
    long = direction is Direction.LONG
    stop = entry * (1 - stop_distance) if long else entry * (1 + stop_distance)
    cfg = config(sizing=sizing, risk_per_trade=risk, max_position_pct=max_position,
                 max_exposure_pct=max_exposure, expected_slippage=slippage, min_confidence=D(0))
    mkt = market(amount_step=step, taker_fee=fee, min_amount=step)
    acct = account(equity=str(equity), free=str(equity * free_share), exposure=str(equity * exposure_share))
    request = EntryRequest(Symbol("BTC/USDT"), direction, entry, stop, "s", confidence=confidence)
    result = check(request, acct, RiskState(), [], mkt, cfg, history=(), now=NOW)
    event(str(result.reason) if isinstance(result, Refused) else f"capped: {result.capped_by is not None}")
    if isinstance(result, Refused):
        return
    assert isinstance(result, Approved)
    amount, notional = result.amount, result.amount * entry
    assert amount > 0 and amount % step == 0
    assert amount >= mkt.min_amount and notional >= mkt.min_cost
    assert notional <= equity * max_position
    assert acct.exposure + notional <= equity * max_exposure
    assert notional * (1 + slippage) * (1 + fee) <= acct.free
    unit = loss_per_unit(entry, result.stop_price, direction, fee, slippage)
    assert result.risk == amount * unit
    if sizing != "all_in":  # kelly with no history falls back to the fixed fraction
        assert result.risk <= equity * risk
        if result.capped_by is None:  # uncapped: within one amount step of the target risk
            scale = D(repr(confidence)) if sizing == "confidence" else D(1)
            assert equity * risk * scale - result.risk <= step * unit
    # rounding the stop never widens the risk
    assert (result.stop_price >= stop) if long else (result.stop_price <= stop)
