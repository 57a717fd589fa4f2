"""Guards and caps called directly: pass/refuse boundaries and the details shown to the user."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from tests.unit.core.risk.make import NOW, account, config, position
from trader.core.domain.entries import Approved, RefusalReason, Refused
from trader.core.positions.state import PositionStatus
from trader.core.risk import guards, limits
from trader.core.risk.state import RiskState

D = Decimal
TODAY = date(2024, 7, 1)


def test_cooldown_detail_names_pair_time_in_utc_and_minutes_left() -> None:
    state = RiskState(cooldowns={"BTC/USDT": NOW + timedelta(minutes=90)})
    sydney = NOW.astimezone(timezone(timedelta(hours=10)))
    refusal = guards.cooldown_guard(state, "BTC/USDT", sydney)
    assert refusal is not None and refusal.reason is RefusalReason.COOLDOWN
    assert "BTC/USDT" in refusal.detail and "2024-07-01 13:30 UTC" in refusal.detail
    assert "(90 min left)" in refusal.detail
    assert guards.cooldown_guard(state, "ETH/USDT", NOW) is None
    assert guards.cooldown_guard(state, "BTC/USDT", NOW + timedelta(minutes=90)) is None


def test_drawdown_boundary_is_inclusive() -> None:
    cfg = config(max_drawdown_pct=D("0.25"))
    state = RiskState(peak_equity=D(10_000))
    assert guards.drawdown_guard(state, D("7500.01"), cfg) is None
    refusal = guards.drawdown_guard(state, D(7500), cfg)
    assert refusal is not None and "25.00% below its peak 10000.00" in refusal.detail


def test_daily_loss_uses_start_of_day_equity_of_today_only() -> None:
    cfg = config(daily_loss_limit_pct=D("0.05"))
    today = RiskState(day=TODAY, day_start_equity=D(10_000))
    assert guards.daily_loss_guard(today, D("9500.01"), TODAY, cfg) is None
    refusal = guards.daily_loss_guard(today, D(9500), TODAY, cfg)
    assert refusal is not None and "down 5.00% today" in refusal.detail
    assert guards.daily_loss_guard(today, D(1), TODAY + timedelta(days=1), cfg) is None


def test_trades_and_stop_streak_limits_count_today_only() -> None:
    cfg = config(max_trades_per_day=3, max_consecutive_stops=2)
    state = RiskState(day=TODAY, trades_today=3, consecutive_stops=2)
    assert guards.trades_per_day_guard(state, TODAY, cfg) is not None
    assert guards.consecutive_stops_guard(state, TODAY, cfg) is not None
    tomorrow = TODAY + timedelta(days=1)
    assert guards.trades_per_day_guard(state, tomorrow, cfg) is None
    assert guards.consecutive_stops_guard(state, tomorrow, cfg) is None


def test_trading_state_guard_shows_the_reason() -> None:
    from trader.core.domain.enums import TradingState

    halted = RiskState(trading_state=TradingState.HALTED, halt_reason="flash crash")
    refusal = guards.trading_state_guard(halted)
    assert refusal is not None and "flash crash" in refusal.detail
    assert guards.trading_state_guard(RiskState()) is None


def test_position_counts_ignore_finished_positions() -> None:
    cfg = config(max_open_positions=2, max_positions_per_pair=1)
    held = [position(pid="a"), position("ETH/USDT", status=PositionStatus.PENDING_ENTRY, pid="b"),
            position(status=PositionStatus.CLOSED, pid="c")]
    assert limits.open_positions_guard(held, cfg) is not None
    assert limits.open_positions_guard(held[1:], cfg) is None
    assert limits.per_pair_guard(held, "BTC/USDT", cfg) is not None
    assert limits.per_pair_guard(held[1:], "BTC/USDT", cfg) is None


def test_exposure_is_the_larger_of_account_and_positions() -> None:
    held = [position(amount="0.1", price="60000")]
    assert limits.current_exposure(held, account(exposure="1000")) == D(6000)
    assert limits.current_exposure(held, account(exposure="9000")) == D(9000)


def test_cap_amount_shrinks_to_the_tightest_cap_and_names_it() -> None:
    cfg = config(max_position_pct=D("0.2"), max_exposure_pct=D("0.5"))
    amount, name = limits.cap_amount(D(3), D(1000), account("10000"), D(3500), D(1), cfg)  # type: ignore[misc]
    assert amount == D("1.5") and name == "max exposure 50% of equity"
    amount, name = limits.cap_amount(D("0.5"), D(1000), account("10000"), D(0), D(1), cfg)  # type: ignore[misc]
    assert amount == D("0.5") and name is None


def test_cap_amount_refuses_without_room_or_money() -> None:
    cfg = config(max_exposure_pct=D("0.5"))
    full = limits.cap_amount(D(1), D(100), account("10000"), D(5000), D(1), cfg)
    assert isinstance(full, Refused) and full.reason is RefusalReason.MAX_EXPOSURE
    broke = limits.cap_amount(D(1), D(100), account("10000", free="0"), D(0), D(1), cfg)
    assert isinstance(broke, Refused) and broke.reason is RefusalReason.INSUFFICIENT_FUNDS


def test_approved_notional() -> None:
    approved = Approved(D(2), D(90), D(100), D(20), "fixed_fraction")
    assert approved.notional == D(200)


def test_naive_datetime_rejected_by_check() -> None:
    import pytest

    from tests.unit.core.risk.make import market, request
    from trader.core.risk.check import check

    with pytest.raises(ValueError, match="timezone-aware"):
        check(request(), account(), RiskState(), [], market(), config(), now=datetime(2024, 7, 1))
