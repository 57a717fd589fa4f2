"""Futures risk for both directions (hypothesis): the stop always comes before liquidation, by the buffer.

The margin arithmetic is checked from its definition (margin balance against maintenance margin), not
through ``liquidation_price``, so a wrong formula fails here.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.unit.core.risk.make import NOW, account, config, market
from trader.core.domain.entries import Approved, EntryRequest, RefusalReason, Refused
from trader.core.domain.enums import Direction
from trader.core.domain.futures import FuturesTerms, liquidation_price, margin_balance, tiers_from
from trader.core.domain.ids import Symbol
from trader.core.risk.check import check
from trader.core.risk.state import RiskState

D = Decimal
TIERS = tiers_from([(D(0), D("0.004")), (D(50_000), D("0.005")), (D(250_000), D("0.01")),
                    (D(3_000_000), D("0.025"))])


@settings(max_examples=300, deadline=None)
@given(
    equity=st.decimals(min_value=D(500), max_value=D(5_000_000), places=2),
    entry=st.decimals(min_value=D(1), max_value=D(100_000), places=2),
    stop_distance=st.decimals(min_value=D("0.002"), max_value=D("0.6"), places=3),
    direction=st.sampled_from([Direction.LONG, Direction.SHORT]),
    leverage=st.integers(min_value=1, max_value=125),
    buffer=st.decimals(min_value=D("0.001"), max_value=D("0.05"), places=3),
    risk=st.decimals(min_value=D("0.001"), max_value=D("0.1"), places=3),
    sizing=st.sampled_from(["fixed_fraction", "all_in"]),
    fee=st.decimals(min_value=D(0), max_value=D("0.001"), places=4),
)
def test_an_approved_swap_entry_is_stopped_before_it_can_be_liquidated(  # noqa: PLR0917
    equity: Decimal, entry: Decimal, stop_distance: Decimal, direction: Direction, leverage: int,
    buffer: Decimal, risk: Decimal, sizing: str, fee: Decimal,
) -> None:
    long = direction is Direction.LONG
    stop = entry * (1 - stop_distance) if long else entry * (1 + stop_distance)
    terms = FuturesTerms(leverage=D(leverage), tiers=TIERS)
    mkt = market(futures=terms, taker_fee=fee, amount_step=D("0.001"), min_amount=D("0.001"))
    cfg = config(sizing=sizing, risk_per_trade=risk, liquidation_buffer=buffer, max_position_pct=D(1))
    request = EntryRequest(Symbol("BTC/USDT"), direction, entry, stop, "s")
    result = check(request, account(equity=str(equity)), RiskState(), [], mkt, cfg, now=NOW)
    event(str(result.reason) if isinstance(result, Refused) else "approved")
    if isinstance(result, Refused):
        return
    assert isinstance(result, Approved)
    assert result.leverage == leverage
    # the short's stop is above its entry, the long's below
    assert (result.stop_price < entry) if long else (result.stop_price > entry)
    # at the stop, less the buffer, the margin balance still covers the maintenance margin: not liquidated
    worst = result.stop_price - buffer * entry if long else result.stop_price + buffer * entry
    notional = result.amount * entry
    if worst > 0:
        balance = margin_balance(direction, entry, result.amount, worst, terms)
        assert balance >= terms.maintenance_margin(result.amount * worst)
    # the free balance pays the margin and the fee, never more than it holds
    assert result.margin + notional * fee <= equity
    if result.liquidation_price is not None:
        assert (result.liquidation_price < result.stop_price) if long else \
            (result.liquidation_price > result.stop_price)


@settings(max_examples=200, deadline=None)
@given(
    entry=st.decimals(min_value=D(1), max_value=D(100_000), places=2),
    amount=st.decimals(min_value=D("0.001"), max_value=D(100), places=3),
    leverage=st.integers(min_value=2, max_value=125),
)
def test_at_the_liquidation_price_the_margin_balance_equals_the_maintenance(
        entry: Decimal, amount: Decimal, leverage: int) -> None:
    terms = FuturesTerms(leverage=D(leverage), tiers=TIERS)
    for direction in Direction:
        price = liquidation_price(direction, entry, amount, terms)
        assert price is not None
        balance = margin_balance(direction, entry, amount, price, terms)
        maintenance = terms.maintenance_margin(amount * price)
        assert abs(balance - maintenance) <= entry * amount * D("1e-20")
        # and, when the initial margin exceeds the maintenance margin, on the losing side of the entry
        if 1 / D(leverage) > terms.tier(amount * entry).rate:
            assert (price < entry) if direction is Direction.LONG else (price > entry)


def test_a_wide_stop_at_high_leverage_is_refused_with_the_numbers() -> None:
    terms = FuturesTerms(leverage=D(20), tiers=TIERS)
    request = EntryRequest(Symbol("BTC/USDT"), Direction.SHORT, D(60_000), D(63_000), "s")
    result = check(request, account(), RiskState(), [], market(futures=terms), config(), now=NOW)
    assert isinstance(result, Refused) and result.reason is RefusalReason.LIQUIDATION_TOO_CLOSE
    assert "liquidation price 62,749.00 at 20x" in result.detail and "20x" in result.detail


def test_the_free_balance_pays_the_margin_not_the_notional() -> None:
    # 1 % risk on a 2 % stop wants half the equity in notional; with 1000 free that needs 5x leverage
    request = EntryRequest(Symbol("BTC/USDT"), Direction.SHORT, D(60_000), D(61_200), "s")
    cfg = config(max_position_pct=D(1))
    spot_like = check(request, account(free="1000"), RiskState(), [], market(), cfg, now=NOW)
    swap_market = market(futures=FuturesTerms(D(5), tiers=TIERS))
    swap = check(request, account(free="1000"), RiskState(), [], swap_market, cfg, now=NOW)
    assert isinstance(spot_like, Approved) and isinstance(swap, Approved)
    assert spot_like.capped_by == "free USDT balance" and swap.capped_by is None
    assert swap.amount > spot_like.amount and swap.margin <= D(1000)


def test_leverage_above_the_markets_limit_is_refused() -> None:
    terms = FuturesTerms(leverage=D(50), tiers=TIERS, max_leverage=D(20))
    request = EntryRequest(Symbol("BTC/USDT"), Direction.LONG, D(60_000), D(59_900), "s")
    result = check(request, account(), RiskState(), [], market(futures=terms), config(), now=NOW)
    assert isinstance(result, Refused) and result.reason is RefusalReason.LEVERAGE_NOT_ALLOWED
