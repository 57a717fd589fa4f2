"""risk.guard_rules: one arithmetic for the engine (Decimal, dates, datetimes) and the compiled loop (floats,
integer day keys, epoch ms inside numba); both give the same answers on the same values."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numba
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.extending import register_jitable

from trader.core.risk import guard_rules as rules

for _rule in rules.COMPILABLE:
    register_jitable(_rule)


@numba.njit(cache=False)
def _compiled(peak: float, equity: float, pnl: float, streak: int, stopped: bool, day: int, today: int,  # noqa: PLR0917
              now: int, until: int) -> tuple[float, float, int, int, int, bool]:
    return (rules.drawdown(peak, equity), rules.day_loss(peak, equity), rules.cooldown_after(pnl, 60, 240),
            rules.stop_streak_after(streak, stopped, pnl), rules.counted_today(streak, day, today),
            rules.cooling(now, until))


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**7), places=2)


@settings(deadline=None)  # the first example compiles
@given(peak=money, equity=money, pnl=st.decimals(-1000, 1000, places=2), streak=st.integers(0, 9),
       stopped=st.booleans(), days=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       minutes=st.tuples(st.integers(0, 3000), st.integers(0, 3000)))
def test_compiled_and_engine_values_agree(
        peak: Decimal, equity: Decimal, pnl: Decimal, streak: int,
        stopped: bool, days: tuple[int, int], minutes: tuple[int, int]) -> None:
    base = datetime(2024, 3, 1, tzinfo=UTC)
    now, until = base + timedelta(minutes=minutes[0]), base + timedelta(minutes=minutes[1])
    day, today = date(2024, 3, 1 + days[0]), date(2024, 3, 1 + days[1])
    got = _compiled(float(peak), float(equity), float(pnl), streak, stopped, days[0], days[1],
                    minutes[0] * 60_000, minutes[1] * 60_000)
    assert math.isclose(got[0], float(rules.drawdown(peak, equity)), rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(got[1], float(rules.day_loss(peak, equity)), rel_tol=1e-12, abs_tol=1e-15)
    assert got[2] == rules.cooldown_after(pnl, 60, 240) == (240 if pnl < 0 else 60)
    expected_streak = streak + 1 if stopped and pnl < 0 else 0
    assert got[3] == rules.stop_streak_after(streak, stopped, pnl) == expected_streak
    assert got[4] == rules.counted_today(streak, day, today) == (streak if day == today else 0)
    assert got[5] is rules.cooling(now, until) is (now < until)


def test_no_cooldown_and_limits() -> None:
    now = datetime(2024, 3, 1, tzinfo=UTC)
    assert rules.cooling(now, None) is False
    assert rules.limit_reached(4, 4) and not rules.limit_reached(3, 4)
    assert rules.drawdown(Decimal(100), Decimal(80)) == Decimal("0.2")
    assert rules.day_loss(Decimal(200), Decimal(190)) == Decimal("0.05")
