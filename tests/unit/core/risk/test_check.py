"""check(): every refusal reason reachable with a clear detail; approvals sized, capped and rounded down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.unit.core.risk.make import NOW, account, config, market, position, request
from trader.core.domain.entries import Approved, Decision, EntryRequest, RefusalReason, Refused
from trader.core.domain.enums import Direction, TradingState
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.market import Capabilities
from trader.core.positions.state import PositionStatus
from trader.core.risk.check import check
from trader.core.risk.state import RiskState

D = Decimal
TODAY = date(2024, 7, 1)


def run(**kw: object) -> Decision:
    args: dict[str, object] = dict(request=request(), account=account(), state=RiskState(), positions=[],
                                   market=market(), cfg=config(), history=(), now=NOW)
    args.update(kw)
    return check(**args)  # type: ignore[arg-type]


CASES: dict[RefusalReason, Callable[[], Decision]] = {
    RefusalReason.HALTED: lambda: run(state=RiskState(trading_state=TradingState.HALTED, halt_reason="x")),
    RefusalReason.PAUSED: lambda: run(state=RiskState(trading_state=TradingState.PAUSED)),
    RefusalReason.MAX_DRAWDOWN: lambda: run(state=RiskState(peak_equity=D(20_000))),
    RefusalReason.DAILY_LOSS_LIMIT: lambda: run(state=RiskState(day=TODAY, day_start_equity=D(10_600))),
    RefusalReason.CONSECUTIVE_STOPS: lambda: run(state=RiskState(day=TODAY, consecutive_stops=4)),
    RefusalReason.COOLDOWN: lambda: run(state=RiskState(cooldowns={"BTC/USDT": NOW + timedelta(minutes=30)})),
    RefusalReason.MAX_TRADES_PER_DAY: lambda: run(state=RiskState(day=TODAY, trades_today=20)),
    RefusalReason.MAX_OPEN_POSITIONS: lambda: run(
        positions=[position(f"C{i}/USDT", pid=str(i)) for i in range(5)]),
    RefusalReason.MAX_PER_PAIR: lambda: run(positions=[position()]),
    RefusalReason.MAX_EXPOSURE: lambda: run(account=account(exposure="10000")),
    RefusalReason.LOW_CONFIDENCE: lambda: run(request=request(confidence=0.4)),
    RefusalReason.INVALID_REQUEST: lambda: run(request=request(stop="61000")),
    RefusalReason.SHORTING_UNSUPPORTED: lambda: run(request=request(stop="61000", direction=Direction.SHORT),
                                                    market=market(capabilities=Capabilities(shorting=False))),
    RefusalReason.NO_EDGE: lambda: run(cfg=config(sizing="kelly", kelly_min_trades=2), history=[D(-1)] * 3),
    RefusalReason.INSUFFICIENT_FUNDS: lambda: run(account=account(free="0")),
    RefusalReason.BELOW_MINIMUM: lambda: run(account=account(equity="10")),
    RefusalReason.LIQUIDATION_TOO_CLOSE: lambda: run(market=market(futures=FuturesTerms(D(50)))),
    RefusalReason.LEVERAGE_NOT_ALLOWED: lambda: run(
        market=market(futures=FuturesTerms(D(50), max_leverage=D(20)))),
}


# refused by engine.step from its own state or config
BY_STEP = {RefusalReason.ENTRIES_BLOCKED, RefusalReason.VENUE_DOWN}


def test_every_refusal_reason_has_a_case() -> None:
    assert set(CASES) == set(RefusalReason) - BY_STEP


@pytest.mark.parametrize("reason", sorted(set(RefusalReason) - BY_STEP))
def test_refusal_reason_is_reported_with_detail(reason: RefusalReason) -> None:
    result = CASES[reason]()
    assert isinstance(result, Refused), result
    assert result.reason is reason and len(result.detail) > 10
    assert str(result).startswith(reason.value)


def test_fixed_fraction_risks_one_percent_at_the_stop() -> None:
    result = run(cfg=config(expected_slippage=D("0.0005")))
    assert isinstance(result, Approved)
    unit = D(60000) * D("1.0005") * D("1.001") - D(58800) * D("0.9995") * D("0.999")
    assert result.amount == (D(100) / unit).quantize(D("0.00001"), rounding="ROUND_FLOOR")
    assert result.risk <= D(100) and D(100) - result.risk < unit * D("0.00001")
    assert result.stop_price == D(58800) and result.capped_by is None and result.sizing == "fixed_fraction"


def test_confidence_mode_scales_the_size() -> None:
    full = run(cfg=config(sizing="confidence"))
    half = run(cfg=config(sizing="confidence"), request=request(confidence=0.5))
    assert isinstance(full, Approved) and isinstance(half, Approved)
    assert abs(half.amount * 2 - full.amount) <= D("0.00002")


def test_kelly_with_short_history_falls_back_to_fixed_fraction() -> None:
    kelly = run(cfg=config(sizing="kelly"), history=[D(1)] * 5)
    fixed = run()
    assert isinstance(kelly, Approved) and isinstance(fixed, Approved) and kelly.amount == fixed.amount


def test_kelly_with_enough_history_sizes_from_the_edge() -> None:
    history = [D(20)] * 6 + [D(-10)] * 4  # f* = 0.4, quarter Kelly = 0.1, capped at kelly_max_risk 2 %
    kelly = run(cfg=config(sizing="kelly", kelly_min_trades=10), history=history)
    fixed = run()
    assert isinstance(kelly, Approved) and isinstance(fixed, Approved)
    assert abs(kelly.amount - fixed.amount * 2) <= D("0.00002")


def test_all_in_buys_with_the_whole_free_balance_fees_included() -> None:
    result = run(cfg=config(sizing="all_in"), account=account(equity="10000", free="6006"))
    assert isinstance(result, Approved)
    assert result.amount == D("0.1")  # 6006 / (60000 * 1.001)
    assert result.amount * D(60000) * D("1.001") <= D(6006)


def test_all_in_ignores_the_confidence_floor() -> None:
    assert isinstance(run(cfg=config(sizing="all_in"), request=request(confidence=0.1)), Approved)


def test_caps_shrink_the_size_and_name_the_cap() -> None:
    result = run(cfg=config(max_position_pct=D("0.1")))
    assert isinstance(result, Approved)
    assert result.amount * D(60000) <= D(1000) and result.capped_by == "max position 10% of equity"
    exposure_capped = run(cfg=config(max_exposure_pct=D("0.5")), account=account(exposure="4500"))
    assert isinstance(exposure_capped, Approved)
    assert exposure_capped.amount * D(60000) <= D(500) and "exposure" in (exposure_capped.capped_by or "")
    free_capped = run(account=account(free="1000"))
    assert isinstance(free_capped, Approved) and free_capped.capped_by == "free USDT balance"


def test_open_positions_count_toward_exposure() -> None:
    held = [position("ETH/USDT", amount="0.15", price="60000")]  # 9000 USDT
    result = run(positions=held, cfg=config(max_exposure_pct=D("0.95")))
    assert isinstance(result, Approved) and result.amount * D(60000) <= D(500)


def test_inactive_positions_do_not_count() -> None:
    closed = [position(status=PositionStatus.CLOSED, pid=str(i)) for i in range(9)]
    assert isinstance(run(positions=closed), Approved)


def test_too_small_order_is_refused_never_rounded_up() -> None:
    result = run(account=account(equity="10"))
    assert isinstance(result, Refused) and "below the minimum" in result.detail


def test_stale_day_counters_do_not_block_a_new_day() -> None:
    stale = RiskState(day=TODAY - timedelta(days=1), trades_today=99, consecutive_stops=99,
                      day_start_equity=D(50_000))
    assert isinstance(run(state=stale), Approved)


def test_daily_loss_flag_of_today_blocks_even_after_recovery() -> None:
    result = run(state=RiskState(day=TODAY, daily_loss_day=TODAY, day_start_equity=D(10_000)))
    assert isinstance(result, Refused) and result.reason is RefusalReason.DAILY_LOSS_LIMIT
    yesterday = RiskState(daily_loss_day=TODAY - timedelta(days=1))
    assert isinstance(run(state=yesterday), Approved)


def test_halt_wins_over_every_other_reason() -> None:
    state = RiskState(trading_state=TradingState.HALTED, day=TODAY, trades_today=99)
    result = run(state=state, account=account(free="0"))
    assert isinstance(result, Refused) and result.reason is RefusalReason.HALTED


@pytest.mark.parametrize(("entry", "confidence"), [("0", 1.0), ("-1", 1.0), ("60000", float("nan")),
                                                    ("60000", 1.5)])
def test_invalid_price_or_confidence_is_refused(entry: str, confidence: float) -> None:
    result = run(request=request(entry=entry, stop="1" if entry == "60000" else None, confidence=confidence))
    assert isinstance(result, Refused) and result.reason is RefusalReason.INVALID_REQUEST


def test_short_is_sized_from_the_stop_above() -> None:
    result = run(request=request(stop="61200", direction=Direction.SHORT))
    assert isinstance(result, Approved) and result.risk <= D(100)


def manual(amount: str) -> EntryRequest:
    return replace(request(), amount=D(amount), strategy="manual")


def test_a_manual_amount_replaces_the_sizing_and_is_capped_with_the_cap_named() -> None:
    within = run(request=manual("0.01"), cfg=config(max_position_pct=D("0.1")))
    assert isinstance(within, Approved) and within.amount == D("0.01") and within.capped_by is None
    over = run(request=manual("0.05"), cfg=config(max_position_pct=D("0.1")))  # 3000 USDT > 10 % of 10000
    assert isinstance(over, Approved) and over.capped_by == "max position 10% of equity"
    assert over.amount == D("0.01666")  # 1000 / 60000 rounded down to the 0.00001 step


def test_a_manual_amount_the_free_balance_cannot_pay_is_refused_not_shrunk() -> None:
    result = run(request=manual("1000000"))
    assert isinstance(result, Refused) and result.reason is RefusalReason.INSUFFICIENT_FUNDS
    assert "60,060,000,000.00 USDT" in result.detail and "free balance is 10,000.00 USDT" in result.detail


def test_a_manual_amount_still_meets_every_guard() -> None:
    halted = run(request=manual("0.01"), state=RiskState(trading_state=TradingState.HALTED, halt_reason="x"))
    assert isinstance(halted, Refused) and halted.reason is RefusalReason.HALTED
    zero = run(request=manual("0"))
    assert isinstance(zero, Refused) and zero.reason is RefusalReason.INVALID_REQUEST
