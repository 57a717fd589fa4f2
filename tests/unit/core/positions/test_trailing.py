"""Trailing stop: level formula, ratchet never loosens, min step, progressive, break-even, activation.

The rules themselves are ``domain.price_rules`` (also compiled into the backtest kernel); these tests
go through the engine's Decimal face of them, ``positions.trailing``.
"""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.core.positions.make import market
from trader.config.sections import TrailingConfig
from trader.core.domain.enums import Direction
from trader.core.positions.trailing import TrailParams, is_stop_hit, is_target_hit, raise_high_water, ratchet

MARKET = market()
ON = TrailingConfig(enabled=True, distance=Decimal("0.05"), min_step=Decimal(0))
LONG, SHORT = Direction.LONG, Direction.SHORT


def _ratchet(stop: Decimal | None, high_water: Decimal, entry: Decimal, cfg: TrailingConfig,
             direction: Direction) -> Decimal | None:
    return ratchet(stop, high_water, entry, TrailParams.from_config(cfg, 0.01), direction, MARKET)


def _level(high_water: Decimal, entry: Decimal, cfg: TrailingConfig, direction: Direction) -> float:
    return TrailParams.from_config(cfg, 0.01).level(float(high_water), float(entry),
                                                    1.0 if direction is LONG else -1.0)

prices = st.decimals(min_value=Decimal(1), max_value=Decimal(100_000), places=2)
configs = st.builds(
    TrailingConfig,
    enabled=st.booleans(),
    distance=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.5"), places=3),
    min_step=st.decimals(min_value=Decimal(0), max_value=Decimal("0.05"), places=3),
    activation_profit=st.decimals(min_value=Decimal(0), max_value=Decimal("0.3"), places=3),
    progressive=st.booleans(),
    progressive_tighten=st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=2),
    min_distance=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.05"), places=3),
    breakeven_at=st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal("0.3"), places=3),
)


def test_ratchet_when_price_rises_moves_stop_to_distance_below_high_water() -> None:
    assert _ratchet(Decimal(90), Decimal(110), Decimal(100), ON, LONG) == Decimal("104.50")


def test_ratchet_when_price_falls_keeps_stop() -> None:
    assert _ratchet(Decimal("104.50"), Decimal(100), Decimal(100), ON, LONG) == Decimal("104.50")


def test_ratchet_below_min_step_keeps_stop() -> None:
    cfg = ON.model_copy(update={"min_step": Decimal("0.01")})
    # level 104.5 vs stop 104: improvement 0.48 % < 1 %
    assert _ratchet(Decimal(104), Decimal(110), Decimal(100), cfg, LONG) == Decimal(104)
    assert _ratchet(Decimal(100), Decimal(110), Decimal(100), cfg, LONG) == Decimal("104.50")


def test_ratchet_when_disabled_keeps_stop() -> None:
    assert _ratchet(Decimal(95), Decimal(200), Decimal(100), TrailingConfig(), LONG) == Decimal(95)


def test_ratchet_before_activation_profit_keeps_stop() -> None:
    cfg = ON.model_copy(update={"activation_profit": Decimal("0.10")})
    assert _ratchet(Decimal(95), Decimal(109), Decimal(100), cfg, LONG) == Decimal(95)
    assert _ratchet(Decimal(95), Decimal(110), Decimal(100), cfg, LONG) == Decimal("104.50")


def test_breakeven_moves_stop_to_entry_after_profit_even_without_trailing() -> None:
    cfg = TrailingConfig(breakeven_at=Decimal("0.02"))
    assert _ratchet(Decimal(95), Decimal("101.9"), Decimal(100), cfg, LONG) == Decimal(95)
    assert _ratchet(Decimal(95), Decimal(102), Decimal(100), cfg, LONG) == Decimal(100)
    assert _ratchet(Decimal(105), Decimal(98), Decimal(100), cfg, SHORT) == Decimal(100)


def test_progressive_distance_tightens_with_profit_down_to_min_distance() -> None:
    cfg = ON.model_copy(update={"progressive": True, "progressive_tighten": Decimal("0.5"),
                                "min_distance": Decimal("0.01")})
    # profit 4 %: distance 5 % - 2 % = 3 % -> 104 * 0.97
    assert math.isclose(_level(Decimal(104), Decimal(100), cfg, LONG), 100.88)
    assert _ratchet(None, Decimal(104), Decimal(100), cfg, LONG) == Decimal("100.88")
    # profit 20 %: distance would be -5 %, floored at 1 %
    assert math.isclose(_level(Decimal(120), Decimal(100), cfg, LONG), 118.80)


def test_short_mirrors_long() -> None:
    assert _ratchet(Decimal(110), Decimal(90), Decimal(100), ON, SHORT) == Decimal("94.50")
    assert _ratchet(Decimal("94.50"), Decimal(99), Decimal(100), ON, SHORT) == Decimal("94.50")


def test_ratchet_rounds_toward_position() -> None:
    # 111.11 * 0.95 = 105.5545 -> long rounds up to 105.56; short: 88.89 * 1.05 = 93.3345 -> 93.33
    assert _ratchet(None, Decimal("111.11"), Decimal(100), ON, LONG) == Decimal("105.56")
    assert _ratchet(None, Decimal("88.89"), Decimal(100), ON, SHORT) == Decimal("93.33")


def test_inactive_level_is_nan_and_leaves_the_stop() -> None:
    assert math.isnan(_level(Decimal(100), Decimal(100), TrailingConfig(), LONG))
    assert math.isnan(_level(Decimal(100), Decimal(100), TrailingConfig(), SHORT))
    assert _ratchet(None, Decimal(200), Decimal(100), TrailingConfig(), LONG) is None


def test_a_level_exactly_on_a_tick_is_not_pushed_to_the_next_one() -> None:
    # 100.8 * 0.95 = 95.76 exactly; in floats 95.75999999999999: rounding up must still give 95.76
    assert _ratchet(None, Decimal("100.8"), Decimal(100), ON, LONG) == Decimal("95.76")
    # 9957 ticks of 0.01 is 99.57000000000001 in floats: the stop is the decimal 99.57
    assert _ratchet(None, Decimal("94.83"), Decimal(100), ON, SHORT) == Decimal("99.57")


def test_high_water_and_hit_helpers() -> None:
    assert raise_high_water(None, Decimal(5), Decimal(3), LONG) == 5
    assert raise_high_water(Decimal(6), Decimal(5), Decimal(3), LONG) == 6
    assert raise_high_water(Decimal(4), Decimal(5), Decimal(3), SHORT) == 3
    assert is_stop_hit(Decimal(95), Decimal(100), Decimal(95), LONG)
    assert not is_stop_hit(Decimal(95), Decimal(100), Decimal("95.01"), LONG)
    assert is_stop_hit(Decimal(105), Decimal(105), Decimal(100), SHORT)
    assert not is_stop_hit(None, Decimal(1), Decimal(0), LONG)
    assert is_target_hit(Decimal(110), Decimal(110), Decimal(100), LONG)
    assert is_target_hit(Decimal(90), Decimal(100), Decimal(90), SHORT)
    assert not is_target_hit(None, Decimal(1), Decimal(0), SHORT)


@given(configs, prices, st.lists(prices, min_size=1, max_size=30), st.sampled_from([LONG, SHORT]))
def test_ratchet_is_monotone_and_never_loosens(cfg: TrailingConfig, entry: Decimal,
                                               path: list[Decimal], direction: Direction) -> None:
    stop: Decimal | None = None
    high_water = entry
    for price in path:
        high_water = raise_high_water(high_water, price, price, direction)
        new = _ratchet(stop, high_water, entry, cfg, direction)
        if stop is not None:
            assert new is not None
            assert (new >= stop) if direction is LONG else (new <= stop)
        stop = new


@given(configs, prices, prices, prices, st.sampled_from([LONG, SHORT]))
def test_level_is_monotone_in_high_water(cfg: TrailingConfig, entry: Decimal, a: Decimal, b: Decimal,
                                         direction: Direction) -> None:
    low, high = min(a, b), max(a, b)
    lo, hi = _level(low, entry, cfg, direction), _level(high, entry, cfg, direction)
    if direction is LONG:  # a higher mark never gives a lower level, nor switches it off
        assert math.isnan(lo) or (not math.isnan(hi) and lo <= hi)
    else:  # a short's best price is the lowest: a lower mark gives a lower (tighter) level
        assert math.isnan(hi) or (not math.isnan(lo) and lo <= hi)
