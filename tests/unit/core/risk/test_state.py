"""RiskState updates: day roll in a timezone, equity peak, daily loss flag, drawdown halt, trades."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.unit.core.risk.make import NOW, config
from trader.core.domain.enums import ExitReason, TradingState
from trader.core.risk.state import (
    RiskState,
    flatten_done,
    halt,
    on_entry,
    on_equity,
    on_trade_closed,
    pause,
    resume,
    roll_day,
    trading_day,
)

D = Decimal


def test_trading_day_uses_the_configured_timezone() -> None:
    late_utc = datetime(2024, 7, 1, 15, tzinfo=UTC)  # 01:00 next day in Sydney (UTC+10)
    assert trading_day(late_utc, "UTC") == date(2024, 7, 1)
    assert trading_day(late_utc, "Australia/Sydney") == date(2024, 7, 2)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        trading_day(datetime(2024, 7, 1), "UTC")


def test_roll_day_resets_daily_counters_and_drops_expired_cooldowns() -> None:
    state = RiskState(day=date(2024, 6, 30), trades_today=5, realised_today=D(-50), consecutive_stops=2,
                      day_start_equity=D(9000),
                      cooldowns={"BTC/USDT": NOW - timedelta(minutes=1),
                                 "ETH/USDT": NOW + timedelta(hours=1)})
    rolled = roll_day(state, NOW, D(10_000), config())
    assert rolled.day == date(2024, 7, 1) and rolled.day_start_equity == D(10_000)
    assert (rolled.trades_today, rolled.realised_today, rolled.consecutive_stops) == (0, 0, 0)
    assert list(rolled.cooldowns) == ["ETH/USDT"]
    assert roll_day(rolled, NOW + timedelta(hours=1), D(1), config()) is rolled  # same day: unchanged


def test_on_equity_tracks_the_peak_and_flags_the_daily_loss_limit() -> None:
    cfg = config(daily_loss_limit_pct=D("0.05"))
    state = on_equity(RiskState(), D(10_000), NOW, cfg)
    state = on_equity(state, D(10_500), NOW, cfg)
    assert state.peak_equity == D(10_500) and state.daily_loss_day is None
    state = on_equity(state, D(9_500), NOW, cfg)  # 5 % below the start of day
    assert state.daily_loss_day == date(2024, 7, 1) and state.last_equity == D(9_500)
    state = on_equity(state, D(10_000), NOW, cfg)
    assert state.daily_loss_day == date(2024, 7, 1)  # recovering does not lift it today


def test_on_equity_halts_at_max_drawdown_from_peak() -> None:
    cfg = config(max_drawdown_pct=D("0.2"), daily_loss_limit_pct=D(1))
    state = on_equity(RiskState(), D(10_000), NOW, cfg)
    state = on_equity(state, D(8_001), NOW + timedelta(days=1), cfg)
    assert state.trading_state is TradingState.ACTIVE
    state = on_equity(state, D(8_000), NOW + timedelta(days=2), cfg)
    assert state.trading_state is TradingState.HALTED and "drawdown 20.00%" in state.halt_reason
    assert state.changed_at == NOW + timedelta(days=2)


def test_on_entry_counts_trades_of_the_day() -> None:
    state = on_entry(on_entry(RiskState(), NOW, D(1), config()), NOW, D(1), config())
    assert state.trades_today == 2
    assert on_entry(state, NOW + timedelta(days=1), D(1), config()).trades_today == 1


def test_trade_closed_sets_a_longer_cooldown_after_a_loss() -> None:
    cfg = config(cooldown_minutes=60, cooldown_after_loss_minutes=240)
    won = on_trade_closed(RiskState(), "BTC/USDT", D(10), ExitReason.TAKE_PROFIT, NOW, cfg)
    lost = on_trade_closed(RiskState(), "BTC/USDT", D(-10), ExitReason.STOP_LOSS, NOW, cfg)
    assert won.cooldowns["BTC/USDT"] == NOW + timedelta(minutes=60)
    assert lost.cooldowns["BTC/USDT"] == NOW + timedelta(minutes=240)
    assert lost.realised_today == D(-10)
    assert "BTC/USDT" not in on_trade_closed(RiskState(), "BTC/USDT", D(1), None, NOW,
                                             config(cooldown_minutes=0)).cooldowns


def test_consecutive_stops_count_losing_stop_outs_and_reset_on_anything_else() -> None:
    cfg = config()
    state = RiskState()
    for reason in (ExitReason.STOP_LOSS, ExitReason.TRAILING_STOP):
        state = on_trade_closed(state, "BTC/USDT", D(-1), reason, NOW, cfg)
    assert state.consecutive_stops == 2
    assert on_trade_closed(state, "BTC/USDT", D(1), ExitReason.TRAILING_STOP, NOW, cfg).consecutive_stops == 0
    assert on_trade_closed(state, "BTC/USDT", D(-1), ExitReason.SIGNAL, NOW, cfg).consecutive_stops == 0


def test_halt_persists_until_resume_and_pause_never_downgrades_it() -> None:
    state = halt(RiskState(), "manual halt", NOW, flatten=True)
    assert state.trading_state is TradingState.HALTED and state.flatten_requested
    assert pause(state, "pause", NOW) is state
    assert not flatten_done(state).flatten_requested
    resumed = resume(state, NOW, equity=D(7_000))
    assert resumed.trading_state is TradingState.ACTIVE and resumed.halt_reason == ""
    assert resumed.peak_equity == D(7_000) and not resumed.flatten_requested


def test_pause_blocks_entries_only_and_resume_keeps_the_daily_loss_block() -> None:
    state = pause(RiskState(daily_loss_day=date(2024, 7, 1), consecutive_stops=3), "manual", NOW)
    assert state.trading_state is TradingState.PAUSED and state.halt_reason == "manual"
    resumed = resume(state, NOW)
    assert resumed.daily_loss_day == date(2024, 7, 1) and resumed.consecutive_stops == 0


def test_risk_state_is_plain_frozen_data() -> None:
    import dataclasses

    fields = {f.name for f in dataclasses.fields(RiskState)}
    assert fields == {"trading_state", "halt_reason", "flatten_requested", "changed_at", "day",
                      "day_start_equity", "trades_today", "realised_today", "daily_loss_day",
                      "peak_equity", "last_equity", "consecutive_stops", "cooldowns"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        RiskState().trades_today = 1  # type: ignore[misc]


def test_positions_to_flatten_lists_active_positions_not_already_exiting() -> None:
    from tests.unit.core.risk.make import position
    from trader.core.positions.state import PositionStatus
    from trader.core.risk.state import positions_to_flatten

    held = [position(pid="open"), position(status=PositionStatus.PENDING_ENTRY, pid="pending"),
            position(status=PositionStatus.EXITING, pid="exiting"),
            position(status=PositionStatus.CLOSED, pid="c")]
    assert positions_to_flatten(RiskState(), held) == ()
    flatten = halt(RiskState(), "panic", NOW, flatten=True)
    assert [p.id for p in positions_to_flatten(flatten, held)] == ["open", "pending"]
